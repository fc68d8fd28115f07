import { defineConfig } from 'tsup';

// One entry per public subpath. Splitting keeps core classes single across entries in both formats,
// so `instanceof` and shared caches behave the same whether a user imports one subpath or several.
export default defineConfig({
  entry: {
    index: 'src/index.ts',
    oidc: 'providers/oidc/index.ts',
    dev: 'src/dev/index.ts',
    cli: 'src/cli/index.ts',
  },
  format: ['esm', 'cjs'],
  dts: true,
  splitting: true,
  sourcemap: true,
  clean: true,
  target: 'node20',
  platform: 'node',
  treeshake: true,
  external: ['oidc-provider'],
});
