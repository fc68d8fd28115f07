import { AuthRejection } from '../../core/failure';
import { trimTrailing } from '../../core/trim';
import type { RequestLike } from '../types';

/**
 * How the plane learns the URL clients used, which a DPoP proof's `htu` must match. Behind a proxy
 * that terminates TLS or rewrites the host, the URL the server sees is not the public one: give the
 * public origin (and path prefix, if the proxy strips one) as a string, or compute the whole URL.
 *
 * @example
 * ```ts
 * const publicUrl: PublicUrl = 'https://api.example.com';          // + the request's path
 * const computed: PublicUrl = (request) => `https://api.example.com${(request as { url: string }).url}`;
 * ```
 */
export type PublicUrl = string | ((request: RequestLike) => string);

/**
 * The method and the normalized target URI of a request (RFC 9449 §4.3: scheme and host lower-cased,
 * default port dropped, dot segments resolved, query and fragment removed).
 *
 * @example
 * ```ts
 * requestTarget(new Request('https://API.example:443/a/../items?x=1'), undefined);
 * // { method: 'GET', htu: 'https://api.example/items' }
 * ```
 */
export interface RequestTarget {
  readonly method: string;
  readonly htu: string;
}

const METHOD = /^[!#$%&'*+.^_`|~0-9A-Za-z-]{1,32}$/;
const MAX_URL = 8192;

/**
 * Reads the method and target URI of a Web `Request` or a node:http request (Express's `originalUrl`
 * when present, since a mounted router rewrites `url`). Without `publicUrl`, a node request's origin is
 * `http(s)://` + its Host header, https when its socket is TLS.
 *
 * @throws AuthRejection `dpop_proof_invalid` when the request has no readable method or URL.
 * @example
 * ```ts
 * const { method, htu } = requestTarget(req, 'https://api.example.com');
 * ```
 */
export function requestTarget(request: RequestLike, publicUrl: PublicUrl | undefined): RequestTarget {
  const r = request as unknown as Record<string, unknown>;
  const method = r.method;
  if (typeof method !== 'string' || !METHOD.test(method)) {
    throw new AuthRejection('dpop_proof_invalid', 'The request method could not be read');
  }
  let raw: string;
  if (typeof publicUrl === 'function') {
    raw = publicUrl(request);
  } else {
    const webUrl = typeof (r.headers as Headers | undefined)?.get === 'function' ? r.url : undefined;
    const path = pathOf(typeof webUrl === 'string' ? webUrl : nodePath(r));
    if (typeof publicUrl === 'string') raw = trimTrailing(publicUrl, '/') + path;
    else if (typeof webUrl === 'string') raw = webUrl;
    else raw = `${nodeOrigin(r)}${path}`;
  }
  const htu = normalizeHtu(raw);
  if (htu === null) throw new AuthRejection('dpop_proof_invalid', 'The request URL could not be read');
  return { method, htu };
}

/**
 * Normalizes an absolute http(s) URI for `htu` comparison, or null when it is not one.
 *
 * @example
 * ```ts
 * normalizeHtu('HTTPS://Api.Example:443/x?q#f'); // 'https://api.example/x'
 * ```
 */
export function normalizeHtu(value: unknown): string | null {
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_URL) return null;
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return null;
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') return null;
  if (url.username || url.password) return null;
  // WHATWG URL lower-cases scheme and host, drops the default port and resolves dot segments.
  return `${url.protocol}//${url.host}${normalizePercent(url.pathname)}`;
}

// RFC 3986 §6.2.2.1/6.2.2.2: hex digits of percent-encodings in upper case, unreserved characters decoded.
function normalizePercent(path: string): string {
  if (!path.includes('%')) return path;
  return path.replace(/%[0-9A-Fa-f]{2}/g, (encoded) => {
    const code = Number.parseInt(encoded.slice(1), 16);
    const char = String.fromCharCode(code);
    return /[A-Za-z0-9\-._~]/.test(char) ? char : encoded.toUpperCase();
  });
}

function nodePath(r: Record<string, unknown>): string {
  const original = r.originalUrl;
  if (typeof original === 'string' && original.startsWith('/')) return original;
  const url = r.url;
  return typeof url === 'string' ? url : '';
}

function pathOf(url: string): string {
  if (url.startsWith('/')) {
    const end = url.search(/[?#]/);
    return end < 0 ? url : url.slice(0, end);
  }
  try {
    return new URL(url).pathname;
  } catch {
    return '';
  }
}

function nodeOrigin(r: Record<string, unknown>): string {
  const headers = r.headers as Record<string, unknown> | undefined;
  const host = headers?.host;
  const socket = r.socket as { encrypted?: unknown } | undefined;
  const scheme = socket?.encrypted ? 'https' : 'http';
  return typeof host === 'string' ? `${scheme}://${host}` : '';
}
