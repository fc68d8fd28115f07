import { defineConfig } from 'tsup';
import { CLI_ENTRY, distName, ENTRIES, EXTERNAL } from './entries';

// One entry per public subpath. Splitting keeps core classes single across entries in both formats,
// so `instanceof` and shared caches behave the same whether a user imports one subpath or several.
export default defineConfig({
  entry: {
    ...Object.fromEntries(Object.entries(ENTRIES).map(([subpath, file]) => [distName(subpath), file])),
    cli: CLI_ENTRY,
  },
  format: ['esm', 'cjs'],
  dts: true,
  splitting: true,
  sourcemap: true,
  clean: true,
  target: 'node20',
  platform: 'node',
  treeshake: true,
  external: EXTERNAL,
});
