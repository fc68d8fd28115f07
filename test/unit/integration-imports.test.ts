// The IntegrationPlane's import graph: the core reaches vendor adapters only through the provider
// registry's dynamic import, no adapter imports the core's entry point back, and no static cycle exists
// among the IntegrationPlane files (type-only imports included: they become cycles in the .d.ts).
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const root = resolve(import.meta.dirname, '../..');
const STATIC = /^\s*(?:import|export)\s[^;]*?\sfrom\s+'([^']+)'/gm;

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? files(path) : path.endsWith('.ts') ? [path] : [];
  });
}

function staticImports(file: string): string[] {
  const source = readFileSync(file, 'utf8');
  const out: string[] = [];
  for (const m of source.matchAll(STATIC)) {
    const spec = m[1] as string;
    if (!spec.startsWith('.')) continue;
    const base = resolve(dirname(file), spec);
    const target = [`${base}.ts`, join(base, 'index.ts')].find((p) => {
      try {
        return statSync(p).isFile();
      } catch {
        return false;
      }
    });
    if (target) out.push(relative(root, target));
  }
  return out;
}

const scope = [...files(join(root, 'src/integration')), ...files(join(root, 'providers/nango'))];
const graph = new Map(scope.map((f) => [relative(root, f), staticImports(f)]));

describe('IntegrationPlane imports', () => {
  it('no core file statically imports a vendor adapter', () => {
    for (const file of files(join(root, 'src'))) {
      expect(
        staticImports(file).filter((t) => t.startsWith('providers/')),
        relative(root, file),
      ).toEqual([]);
    }
  });

  it('the Nango adapter imports neither create.ts nor the provider registry', () => {
    for (const [file, targets] of graph) {
      if (!file.startsWith('providers/nango/')) continue;
      expect(targets).not.toContain('src/integration/create.ts');
      expect(targets).not.toContain('src/integration/providers.ts');
      expect(targets).not.toContain('src/integration/index.ts');
    }
  });

  it('has no static import cycle', () => {
    const cycles: string[] = [];
    const state = new Map<string, 'open' | 'done'>();
    const visit = (file: string, path: string[]) => {
      if (state.get(file) === 'done') return;
      if (state.get(file) === 'open') {
        cycles.push([...path.slice(path.indexOf(file)), file].join(' -> '));
        return;
      }
      state.set(file, 'open');
      for (const next of graph.get(file) ?? []) if (graph.has(next)) visit(next, [...path, file]);
      state.set(file, 'done');
    };
    for (const file of graph.keys()) visit(file, []);
    expect(cycles).toEqual([]);
  });
});
