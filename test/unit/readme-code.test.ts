import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import ts from 'typescript';
import { afterAll, describe, expect, it } from 'vitest';

// Every TypeScript block of the README is type-checked as its own module, with the project's compiler
// options and the public subpaths resolved exactly as a user imports them. A block that names a value it
// does not define says so with `declare const`, so what a reader pastes is what is checked.

const root = resolve(import.meta.dirname, '../..');
const readme = readFileSync(join(root, 'README.md'), 'utf8');

interface Block {
  readonly line: number;
  readonly heading: string;
  readonly code: string;
}

/** The ```ts / ```typescript fences of a Markdown text, with the heading each stands under. */
function typescriptBlocks(markdown: string): Block[] {
  const blocks: Block[] = [];
  const lines = markdown.split('\n');
  let heading = '(top)';
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] as string;
    if (/^#{1,6} /.test(line)) heading = line.replace(/^#+ /, '');
    const fence = /^```(\w*)\s*$/.exec(line);
    if (!fence) continue;
    const start = i + 1;
    const body: string[] = [];
    for (i = start; i < lines.length && !/^```\s*$/.test(lines[i] as string); i++)
      body.push(lines[i] as string);
    if (fence[1] === 'ts' || fence[1] === 'typescript')
      blocks.push({ line: start, heading, code: body.join('\n') });
  }
  return blocks;
}

const blocks = typescriptBlocks(readme);
const dir = join(root, 'test', '.readme-blocks');

describe('README TypeScript blocks compile', () => {
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('the README has TypeScript blocks to check', () => {
    expect(blocks.length).toBeGreaterThan(5);
  });

  it('every block type-checks against the public API', { timeout: 120_000 }, () => {
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    const files = blocks.map((block, n) => {
      const file = join(dir, `block-${String(n + 1).padStart(2, '0')}-line-${block.line}.ts`);
      // `export {}` keeps each block a module of its own (top-level await, no shared globals).
      writeFileSync(file, `${block.code}\nexport {};\n`);
      return file;
    });
    const configPath = join(root, 'tsconfig.json');
    const config = ts.readConfigFile(configPath, (p) => ts.sys.readFile(p));
    const parsed = ts.parseJsonConfigFileContent(config.config, ts.sys, root);
    const program = ts.createProgram(files, { ...parsed.options, noEmit: true, skipLibCheck: true });
    const problems = files.flatMap((file, n) => {
      const source = program.getSourceFile(file);
      const diagnostics = source
        ? [...program.getSyntacticDiagnostics(source), ...program.getSemanticDiagnostics(source)]
        : [];
      return diagnostics.map((d) => {
        const block = blocks[n] as Block;
        const at = d.start !== undefined && source ? source.getLineAndCharacterOfPosition(d.start).line : 0;
        return `README.md:${block.line + at + 1} (${block.heading}): ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`;
      });
    });
    expect(problems).toEqual([]);
  });
});
