import { createRequire } from 'node:module';
import { ConfigError } from '../../src/core/errors';

// Resolves from this module: `__filename` in the CommonJS build, `import.meta.url` in the ESM build
// (and under tsx/vitest). The bare `require` identifier is avoided: bundlers rewrite it in ESM output.
const load: NodeJS.Require = createRequire(typeof __filename === 'string' ? __filename : import.meta.url);

/**
 * Loads a vendor SDK (an optional peer dependency) for an adapter subpath, turning "not installed"
 * into the same clear `ConfigError` the plane gives (`npm install <pkg>`), instead of a raw
 * ERR_MODULE_NOT_FOUND at import time. Loaded synchronously so the adapter's factories stay sync.
 *
 * @throws ConfigError (path `provider`) when the package cannot be resolved.
 * @example
 * ```ts
 * const auth0 = requireVendorSdk<typeof import('auth0')>('auth0', 'authplane/auth0');
 * ```
 */
export function requireVendorSdk<T>(pkg: string, subpath: string): T {
  try {
    return load(pkg) as T;
  } catch (err) {
    const { code, message } = (err ?? {}) as { code?: unknown; message?: unknown };
    const missing =
      (code === 'MODULE_NOT_FOUND' || code === 'ERR_MODULE_NOT_FOUND') &&
      typeof message === 'string' &&
      message.includes(pkg);
    if (!missing) throw err;
    throw new ConfigError(
      'provider',
      `${subpath} needs the optional package "${pkg}", which is not installed; run: npm install ${pkg}`,
      { cause: err },
    );
  }
}
