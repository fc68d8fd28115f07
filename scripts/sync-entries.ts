// Writes package.json `exports` and tsconfig `paths` from entries.ts, the one list of public subpaths.
// Run after adding an entry: `npm run sync:entries` (test/unit/package-exports.test.ts fails until you do).
import { readFileSync, writeFileSync } from 'node:fs';
import { distName, ENTRIES } from '../entries';

const pkg = JSON.parse(readFileSync('package.json', 'utf8'));
pkg.exports = {
  ...Object.fromEntries(
    Object.keys(ENTRIES).map((subpath) => {
      const name = distName(subpath);
      return [
        subpath,
        {
          import: { types: `./dist/${name}.d.ts`, default: `./dist/${name}.js` },
          require: { types: `./dist/${name}.d.cts`, default: `./dist/${name}.cjs` },
        },
      ];
    }),
  ),
  './package.json': './package.json',
};
writeFileSync('package.json', `${JSON.stringify(pkg, null, 2)}\n`);

const tsconfig = JSON.parse(readFileSync('tsconfig.json', 'utf8'));
tsconfig.compilerOptions.paths = Object.fromEntries(
  Object.entries(ENTRIES).map(([subpath, file]) => [
    subpath === '.' ? 'authplane' : `authplane/${subpath.slice(2)}`,
    [`./${file}`],
  ]),
);
writeFileSync('tsconfig.json', `${JSON.stringify(tsconfig, null, 2)}\n`);
