/**
 * Public subpaths and their source files: the one list tsup builds and vitest resolves. package.json
 * `exports` and tsconfig `paths` must name the same subpaths (test/unit/package-exports.test.ts checks).
 */
export const ENTRIES = {
  '.': 'src/index.ts',
  './oidc': 'providers/oidc/index.ts',
  './legacy': 'providers/legacy/index.ts',
  './auth0': 'providers/auth0/index.ts',
  './clerk': 'providers/clerk/index.ts',
  './migration': 'src/migration/index.ts',
  './dev': 'src/dev/index.ts',
  './stores': 'src/stores/index.ts',
  './stores/sqlite': 'src/stores/sqlite.ts',
  './stores/postgres': 'src/stores/postgres/index.ts',
  './stores/redis': 'src/stores/redis.ts',
  './apikeys': 'src/apikeys/index.ts',
  './client': 'src/client/index.ts',
  './node': 'src/http/node.ts',
  './express': 'src/http/express.ts',
  './fastify': 'src/http/fastify.ts',
  './hono': 'src/http/hono.ts',
  './integration': 'src/integration/index.ts',
  './nango': 'providers/nango/index.ts',
  './mcp': 'src/mcp/index.ts',
} as const;

/** The `authplane` command, built beside the library entries. */
export const CLI_ENTRY = 'src/cli/index.ts';

/** Optional peers and vendor SDKs: never bundled, loaded by dynamic import where needed. */
export const EXTERNAL = [
  '@nangohq/node',
  'oidc-provider',
  'better-sqlite3',
  'pg',
  'ioredis',
  'express',
  'fastify',
  'hono',
  '@modelcontextprotocol/sdk',
];

/** `./stores/sqlite` -> `stores/sqlite`, `.` -> `index`: the file name under dist/. */
export const distName = (subpath: string): string => (subpath === '.' ? 'index' : subpath.slice(2));
