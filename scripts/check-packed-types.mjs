#!/usr/bin/env node
// Packs the package, installs the tarball ALONE (with typescript and @types/node, no optional peer)
// into a temporary project, and type-checks a file that imports every public subpath, with `strict`
// and without `skipLibCheck`, under every module resolution a consumer may use, ESM and CJS.
// attw checks that the files resolve; this checks that what they declare compiles.
//
//   node scripts/check-packed-types.mjs          (after `npm run build`)
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const root = resolve(import.meta.dirname, '..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const ownTs = JSON.parse(readFileSync(join(root, 'node_modules/typescript/package.json'), 'utf8')).version;
const ownNodeTypes = JSON.parse(
  readFileSync(join(root, 'node_modules/@types/node/package.json'), 'utf8'),
).version;

const subpaths = Object.keys(pkg.exports).filter((s) => s !== './package.json');
const specifier = (s) => (s === '.' ? pkg.name : `${pkg.name}/${s.slice(2)}`);

const variants = [
  { name: 'bundler (ESM)', type: 'module', module: 'esnext', moduleResolution: 'bundler' },
  { name: 'node16 ESM', type: 'module', module: 'node16', moduleResolution: 'node16' },
  { name: 'node16 CJS', type: 'commonjs', module: 'node16', moduleResolution: 'node16' },
  { name: 'nodenext ESM', type: 'module', module: 'nodenext', moduleResolution: 'nodenext' },
  { name: 'nodenext CJS', type: 'commonjs', module: 'nodenext', moduleResolution: 'nodenext' },
];

const work = mkdtempSync(join(tmpdir(), 'authplane-packed-types-'));
const run = (cmd, args, cwd) =>
  execFileSync(cmd, args, { cwd, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
let failures = 0;
try {
  const tarball = run('npm', ['pack', '--silent', '--pack-destination', work], root).trim().split('\n').pop();
  const project = join(work, 'consumer');
  mkdirSync(project);
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'consumer', private: true }, null, 2));
  run(
    'npm',
    [
      'install',
      '--no-audit',
      '--no-fund',
      '--prefer-offline',
      '--legacy-peer-deps', // optional peers stay uninstalled: a user of the core has none of them
      join(work, tarball),
      `typescript@${ownTs}`,
      `@types/node@${ownNodeTypes}`,
    ],
    project,
  );

  // One namespace import per subpath, each used, so no import is elided before it is checked.
  const lines = subpaths.map((s, i) => `import * as m${i} from '${specifier(s)}';`);
  lines.push(
    `export const touched = [${subpaths.map((_, i) => `m${i}`).join(', ')}].map((m) => Object.keys(m).length);`,
  );
  writeFileSync(join(project, 'touch.ts'), `${lines.join('\n')}\n`);

  for (const v of variants) {
    const manifest = JSON.parse(readFileSync(join(project, 'package.json'), 'utf8'));
    manifest.type = v.type;
    writeFileSync(join(project, 'package.json'), JSON.stringify(manifest, null, 2));
    writeFileSync(
      join(project, 'tsconfig.json'),
      JSON.stringify(
        {
          compilerOptions: {
            target: 'es2022',
            module: v.module,
            moduleResolution: v.moduleResolution,
            strict: true,
            skipLibCheck: false,
            noEmit: true,
            types: ['node'],
            lib: ['es2023'],
          },
          files: ['touch.ts'],
        },
        null,
        2,
      ),
    );
    try {
      run(
        process.execPath,
        [join(project, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json'],
        project,
      );
      console.log(`ok   ${v.name}`);
    } catch (err) {
      failures++;
      console.log(`FAIL ${v.name}`);
      console.log(
        String(err.stdout || err.message)
          .trim()
          .split('\n')
          .slice(0, 40)
          .join('\n'),
      );
    }
  }
} finally {
  rmSync(work, { recursive: true, force: true });
}
console.log(
  `${subpaths.length} subpaths, ${variants.length} resolutions: ${failures ? `${failures} failed` : 'all compile'}`,
);
process.exit(failures ? 1 : 0);
