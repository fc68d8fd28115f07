// Loading an optional vendor SDK: a missing package is a ConfigError that names it and says how to
// install it, never a raw ERR_MODULE_NOT_FOUND. Shared by the adapters; imports nothing of theirs.
import { AuthplaneError, ConfigError } from '../core/errors';

/**
 * Whether an import failure means the optional package is not installed.
 *
 * @internal
 * @example
 * ```ts
 * if (isModuleNotFound(err)) throw new ConfigError('provider', 'install @nangohq/node');
 * ```
 */
export function isModuleNotFound(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === 'ERR_MODULE_NOT_FOUND' || code === 'MODULE_NOT_FOUND';
}

/**
 * Imports a vendor SDK; a missing package becomes a `ConfigError` naming it.
 *
 * @internal
 * @example
 * ```ts
 * const sdk = await importVendor('nango', '@nangohq/node', () => import('@nangohq/node'));
 * ```
 */
export async function importVendor<T>(provider: string, pkg: string, importer: () => Promise<T>): Promise<T> {
  try {
    return await importer();
  } catch (err) {
    if (isModuleNotFound(err)) {
      throw new ConfigError(
        'provider',
        `provider "${provider}" needs the optional package "${pkg}", which is not installed; run: npm install ${pkg}`,
        { cause: err },
      );
    }
    throw new AuthplaneError('vendor_load_failed', `Loading ${pkg} failed`, { cause: err });
  }
}
