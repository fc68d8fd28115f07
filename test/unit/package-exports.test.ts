import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { distName, ENTRIES } from '../../entries';

const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
  exports: Record<string, unknown>;
  peerDependencies: Record<string, string>;
  peerDependenciesMeta: Record<string, { optional?: boolean }>;
  sideEffects: boolean;
};
const tsconfig = JSON.parse(readFileSync(new URL('../../tsconfig.json', import.meta.url), 'utf8')) as {
  compilerOptions: { paths: Record<string, string[]> };
};

describe('package entry points', () => {
  it('exports exactly the subpaths tsup builds, types first in each condition', () => {
    const subpaths = Object.keys(pkg.exports).filter((s) => s !== './package.json');
    expect(subpaths.sort()).toEqual(Object.keys(ENTRIES).sort());
    for (const subpath of subpaths) {
      const name = distName(subpath);
      expect(pkg.exports[subpath]).toEqual({
        import: { types: `./dist/${name}.d.ts`, default: `./dist/${name}.js` },
        require: { types: `./dist/${name}.d.cts`, default: `./dist/${name}.cjs` },
      });
      const conditions = pkg.exports[subpath] as Record<string, Record<string, string>>;
      for (const condition of Object.values(conditions)) expect(Object.keys(condition)[0]).toBe('types');
    }
  });

  it('maps every subpath to the same source in tsconfig paths', () => {
    for (const [subpath, file] of Object.entries(ENTRIES)) {
      const name = subpath === '.' ? 'authplane' : `authplane/${subpath.slice(2)}`;
      expect(tsconfig.compilerOptions.paths[name]).toEqual([`./${file}`]);
    }
  });

  it('declares the package side-effect free and every peer optional', () => {
    expect(pkg.sideEffects).toBe(false);
    for (const peer of Object.keys(pkg.peerDependencies))
      expect(pkg.peerDependenciesMeta[peer]?.optional).toBe(true);
  });
});
