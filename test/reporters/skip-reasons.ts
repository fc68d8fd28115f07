import type { Reporter, TestModule } from 'vitest/node';

/**
 * Prints, after the run, every skipped test and suite with its full name, so the terminal says WHY a
 * suite was skipped (each skipped suite names its reason, e.g. "(skipped: DATABASE_URL not set)"),
 * not only the JSON report.
 */
export default class SkipReasonsReporter implements Reporter {
  onTestRunEnd(testModules: ReadonlyArray<TestModule>): void {
    const skipped: string[] = [];
    for (const module of testModules) {
      for (const test of module.children.allTests('skipped')) skipped.push(test.fullName);
    }
    if (skipped.length === 0) return;
    const unique = [...new Set(skipped)];
    process.stdout.write(
      `\nSkipped (${unique.length}):\n${unique.map((name) => `  - ${name}`).join('\n')}\n`,
    );
  }
}
