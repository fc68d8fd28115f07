import { AuthplaneError } from '../core/errors';

/** Default bound on a JWKS response body. 64 RSA-4096 keys take about 60 KiB. */
export const DEFAULT_MAX_JWKS_BYTES = 256 * 1024;

/**
 * Why a JWKS fetch failed. Every kind means "the issuer is unavailable", never "the token is bad".
 *
 * @example
 * ```ts
 * if (err instanceof JwksFetchError && err.kind === 'timeout') retryLater();
 * ```
 */
export class JwksFetchError extends AuthplaneError {
  readonly kind: 'timeout' | 'aborted' | 'network' | 'http_status' | 'too_large' | 'invalid';
  constructor(kind: JwksFetchError['kind'], message: string, options?: { cause?: unknown }) {
    super('jwks_fetch_failed', message, options);
    this.kind = kind;
  }
}

/**
 * Options of one JWKS fetch.
 *
 * @example
 * ```ts
 * const options: FetchJwksOptions = { timeoutMs: 5000, maxBodyBytes: 262144 };
 * ```
 */
export interface FetchJwksOptions {
  readonly fetch?: typeof fetch;
  readonly timeoutMs: number;
  readonly maxBodyBytes?: number;
  /** Aborts the fetch (e.g. the cache is closing); the timeout applies in any case. */
  readonly signal?: AbortSignal;
}

/**
 * GETs a JWKS with a timeout, an abort signal, no redirects and a bounded body, and returns its
 * `keys` array after checking the document's shape. Throws `JwksFetchError`.
 *
 * @example
 * ```ts
 * const keys = await fetchJwks('https://id.example/jwks', { timeoutMs: 5000 });
 * ```
 */
export async function fetchJwks(uri: string, options: FetchJwksOptions): Promise<unknown[]> {
  const timeout = AbortSignal.timeout(options.timeoutMs);
  const signal = options.signal ? AbortSignal.any([timeout, options.signal]) : timeout;
  const doFetch = options.fetch ?? fetch;
  const maxBytes = options.maxBodyBytes ?? DEFAULT_MAX_JWKS_BYTES;
  let text: string;
  try {
    const response = await doFetch(uri, {
      method: 'GET',
      headers: { accept: 'application/jwk-set+json, application/json' },
      redirect: 'manual',
      signal,
    });
    if (response.status !== 200) {
      await response.body?.cancel().catch(() => {});
      throw new JwksFetchError('http_status', `The JWKS endpoint answered HTTP ${response.status}`);
    }
    const declared = Number(response.headers.get('content-length') ?? Number.NaN);
    if (declared > maxBytes) {
      await response.body?.cancel().catch(() => {});
      throw new JwksFetchError('too_large', 'The JWKS response exceeds the size limit');
    }
    text = await readBounded(response, maxBytes);
  } catch (err) {
    if (err instanceof JwksFetchError) throw err;
    if (timeout.aborted)
      throw new JwksFetchError('timeout', 'The JWKS endpoint did not answer in time', { cause: err });
    if (signal.aborted) throw new JwksFetchError('aborted', 'The JWKS fetch was aborted', { cause: err });
    throw new JwksFetchError('network', 'The JWKS endpoint is unreachable', { cause: err });
  }
  let document: unknown;
  try {
    document = JSON.parse(text);
  } catch (cause) {
    throw new JwksFetchError('invalid', 'The JWKS response is not JSON', { cause });
  }
  if (
    typeof document !== 'object' ||
    document === null ||
    !Array.isArray((document as { keys?: unknown }).keys)
  ) {
    throw new JwksFetchError('invalid', 'The JWKS response has no keys array');
  }
  return (document as { keys: unknown[] }).keys;
}

async function readBounded(response: Response, maxBytes: number): Promise<string> {
  if (!response.body) return '';
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > maxBytes) {
      await reader.cancel().catch(() => {});
      throw new JwksFetchError('too_large', 'The JWKS response exceeds the size limit');
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks, total).toString('utf8');
}
