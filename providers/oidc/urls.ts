import { ConfigError } from '../../src/core/errors';

/**
 * Whether a URL hostname is a loopback address (`localhost`, 127.0.0.0/8, `::1`).
 *
 * @example
 * ```ts
 * isLoopbackHost('127.0.0.1'); // true
 * isLoopbackHost('id.example'); // false
 * ```
 */
export function isLoopbackHost(hostname: string): boolean {
  const host = hostname.toLowerCase();
  if (host === 'localhost' || host === '[::1]' || host === '::1') return true;
  const parts = host.split('.');
  return (
    parts.length === 4 && parts[0] === '127' && parts.every((p) => /^\d{1,3}$/.test(p) && Number(p) <= 255)
  );
}

/**
 * Refuses a URL the adapter must not call: anything but https, except http to a loopback host
 * when `allowInsecureRequests` is set (local development). Throws `ConfigError` naming `path`.
 *
 * @example
 * ```ts
 * assertSecureUrl('issuer', 'http://127.0.0.1:4000', true); // ok
 * assertSecureUrl('jwksUri', 'http://id.example/jwks', true); // throws ConfigError('jwksUri', …)
 * ```
 */
export function assertSecureUrl(path: string, value: string, allowInsecureRequests: boolean): void {
  let url: URL;
  try {
    url = new URL(value);
  } catch (cause) {
    throw new ConfigError(path, 'must be an absolute URL', { cause });
  }
  if (url.protocol === 'https:') return;
  if (url.protocol !== 'http:') throw new ConfigError(path, 'must be an https URL');
  if (!allowInsecureRequests) {
    throw new ConfigError(
      path,
      'must be an https URL (http is allowed only with allowInsecureRequests, for loopback hosts)',
    );
  }
  if (!isLoopbackHost(url.hostname)) {
    throw new ConfigError(
      path,
      'http is allowed only for loopback hosts (127.0.0.1, ::1, localhost), even with allowInsecureRequests',
    );
  }
}
