// Every regular expression in the library runs through recheck (a ReDoS checker), so a pattern with
// super-linear backtracking cannot land, whichever module it is in and whether or not it touches
// request data today. The patterns are collected from the source with the TypeScript parser, not from
// a hand-kept list: a new literal is checked the moment it is written. A pattern built at run time
// (`new RegExp(...)`) cannot be checked from source, so each one must be listed below with the
// inputs it is built from, and is checked as built.
import { readdirSync, readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { checkSync } from 'recheck';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';
import { drfKeyShape } from '../../providers/legacy/drf-api-key';
import { apiKeyPattern } from '../../src/apikeys/format';

const ROOT = join(import.meta.dirname, '..', '..');
const DIRS = ['src', 'providers'];

/** Patterns built at run time, by file, with a representative instance to check. */
const DYNAMIC: Record<string, () => RegExp[]> = {
  'src/apikeys/format.ts': () => [apiKeyPattern(['ap_live', 'ap_test']), apiKeyPattern(['acme_prod'])],
  'providers/legacy/drf-api-key.ts': () => [drfKeyShape(8), drfKeyShape(32)],
};

function sourceFiles(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && e.name.endsWith('.ts') && !e.name.endsWith('.d.ts'))
    .map((e) => relative(ROOT, join(e.parentPath, e.name)));
}

interface Found {
  readonly file: string;
  readonly line: number;
  readonly source: string;
  readonly flags: string;
}

function collect(): { literals: Found[]; dynamic: Map<string, number> } {
  const literals: Found[] = [];
  const dynamic = new Map<string, number>();
  for (const file of DIRS.flatMap(sourceFiles)) {
    const text = readFileSync(join(ROOT, file), 'utf8');
    const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true);
    const visit = (node: ts.Node): void => {
      if (node.kind === ts.SyntaxKind.RegularExpressionLiteral) {
        const raw = node.getText(sf);
        const end = raw.lastIndexOf('/');
        literals.push({
          file,
          line: sf.getLineAndCharacterOfPosition(node.getStart(sf)).line + 1,
          source: raw.slice(1, end),
          flags: raw.slice(end + 1),
        });
      }
      if (
        (ts.isNewExpression(node) || ts.isCallExpression(node)) &&
        ts.isIdentifier(node.expression) &&
        node.expression.text === 'RegExp'
      ) {
        dynamic.set(file, (dynamic.get(file) ?? 0) + 1);
      }
      ts.forEachChild(node, visit);
    };
    visit(sf);
  }
  return { literals, dynamic };
}

const { literals, dynamic } = collect();

describe('every regular expression in src/ and providers/ is free of super-linear backtracking', () => {
  it('finds the patterns (the collector itself works)', () => {
    expect(literals.length).toBeGreaterThan(50);
    expect(literals.some((l) => l.file === 'src/identity/extract.ts')).toBe(true);
    expect(literals.some((l) => l.file === 'src/telemetry/redact.ts')).toBe(true);
  });

  it('the checker flags a known-quadratic pattern (the check can fail)', () => {
    expect(checkSync('^[ \\t]+|[ \\t]+$', 'g').status).toBe('vulnerable');
    expect(checkSync('eyJ[A-Za-z0-9_-]{4,}\\.[A-Za-z0-9_-]{4,}\\.', '').status).toBe('vulnerable');
  });

  it('checks every literal', { timeout: 120_000 }, () => {
    const unsafe: string[] = [];
    for (const l of literals) {
      const result = checkSync(l.source, l.flags);
      if (result.status !== 'safe')
        unsafe.push(`${l.file}:${l.line} /${l.source}/${l.flags} → ${result.status}`);
    }
    expect(unsafe).toEqual([]);
  });

  it('lists and checks every pattern built at run time', () => {
    for (const [file, count] of dynamic) {
      expect(DYNAMIC[file], `${file} builds ${count} RegExp at run time: list it in DYNAMIC`).toBeDefined();
    }
    for (const [file, build] of Object.entries(DYNAMIC)) {
      expect(dynamic.has(file), `${file} no longer builds a RegExp: remove it from DYNAMIC`).toBe(true);
      for (const re of build()) expect(checkSync(re.source, re.flags).status, `${file} ${re}`).toBe('safe');
    }
  });
});
