import { AuthplaneError } from '../core/errors';

/**
 * Loads an optional peer dependency (`pg`, `better-sqlite3`, `ioredis`) on first use. When it is not
 * installed, the error names the package to install, instead of a bare module-resolution failure.
 * The importer is passed in so bundlers see a literal `import('pg')` and keep it external.
 *
 * @example
 * ```ts
 * const pg = await loadPeer('pg', 'PostgreSQL stores', () => import('pg'));
 * ```
 */
export async function loadPeer<T>(name: string, feature: string, importer: () => Promise<T>): Promise<T> {
  try {
    return await importer();
  } catch (err) {
    const code = (err as { code?: unknown } | null)?.code;
    if (code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND') {
      throw new AuthplaneError(
        'peer_missing',
        `${feature} need the optional package '${name}': install it with \`npm install ${name}\``,
        { cause: err },
      );
    }
    throw err;
  }
}

/**
 * The CommonJS export object of a dynamically imported module (`import('pg')` yields `{ default }`
 * under Node ESM, the module itself under some bundlers).
 *
 * @example
 * ```ts
 * const { Pool } = cjs(await import('pg'));
 * ```
 */
export function cjs<T>(mod: T | { default: T }): T {
  const withDefault = mod as { default?: T };
  return withDefault.default ?? (mod as T);
}
