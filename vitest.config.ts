import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';
import { ENTRIES } from './entries';

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url));
const escapeRegExp = (s: string) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

export default defineConfig({
  resolve: {
    // Tests import the public subpaths by name, resolved to source, exactly as users import them.
    alias: Object.entries(ENTRIES).map(([subpath, file]) => ({
      find: new RegExp(`^${escapeRegExp(subpath === '.' ? 'authplane' : `authplane/${subpath.slice(2)}`)}$`),
      replacement: here(`./${file}`),
    })),
  },
  test: {
    include: ['test/**/*.test.ts', 'src/**/*.test.ts', 'providers/**/*.test.ts'],
    testTimeout: 20_000,
    hookTimeout: 20_000,
    reporters: [
      'default',
      ['json', { outputFile: '.vitest-results.json' }],
      './test/reporters/skip-reasons.ts',
    ],
  },
});
