import { AuthRejection } from '../core/failure';
import type { NodeRequestLike, RequestLike } from './types';

/**
 * Where an extracted credential came from.
 *
 * @example
 * ```ts
 * const source: CredentialSource = 'x-api-key';
 * ```
 */
export type CredentialSource = 'authorization' | 'x-api-key';

/**
 * A credential taken from a request, without its scheme.
 *
 * @example
 * ```ts
 * const { token, source } = extractCredential(request); // { token: 'eyJ…', source: 'authorization' }
 * ```
 */
export interface ExtractedCredential {
  readonly token: string;
  readonly source: CredentialSource;
  /** `'dpop'` when the token came with the DPoP scheme (RFC 9449 §7.1); absent for Bearer and API keys. */
  readonly scheme?: 'dpop';
}

/**
 * Options of {@link extractCredential}.
 *
 * @example
 * ```ts
 * extractCredential(request, { maxTokenBytes: 4096 });
 * ```
 */
export interface ExtractOptions {
  /** Largest credential accepted, in bytes. Default 8192. */
  readonly maxTokenBytes?: number;
  /**
   * Authorization schemes accepted besides `Bearer` for API keys, e.g. `['Api-Key']` (what
   * djangorestframework-api-key clients send). Compared case-insensitively.
   */
  readonly apiKeySchemes?: readonly string[];
  /** The API key header, lower-case. Default `x-api-key`. */
  readonly apiKeyHeader?: string;
  /** Also accept `Authorization: DPoP <token>` (a plane with `dpop` set). Default false. */
  readonly dpop?: boolean;
}

/**
 * The default API key header (`X-API-Key`), lower-case.
 *
 * @example
 * ```ts
 * extractCredential(request, { apiKeyHeader: DEFAULT_API_KEY_HEADER });
 * ```
 */
export const DEFAULT_API_KEY_HEADER = 'x-api-key';

/**
 * Default size cap of a credential, in bytes (8 KiB: room for large JWTs, far below header limits).
 *
 * @example
 * ```ts
 * createPlane(adapter, { maxTokenBytes: DEFAULT_MAX_TOKEN_BYTES / 2 });
 * ```
 */
export const DEFAULT_MAX_TOKEN_BYTES = 8192;

// RFC 6750 §2.1: credentials = "Bearer" 1*SP b64token (token68 in RFC 9110 terms). The character
// class excludes '=', so the trailing '=*' cannot backtrack: the match is linear. Every pattern in
// this file runs on attacker input: test/unit/redos.test.ts checks each one with recheck, and every
// value is capped in length before any of them scans it.
const TOKEN68 = /^[A-Za-z0-9\-._~+/]+=*$/;
// RFC 9110 §5.6.2 tchar: the characters of an auth-scheme name.
const SCHEME_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/**
 * The Authorization schemes the extractor accepts, keyed by lower-cased scheme name. Table-driven so a
 * scheme (an `Api-Key` scheme, DPoP) is one entry here, not another branch of the parser.
 */
const AUTHORIZATION_SCHEMES: ReadonlyMap<string, CredentialSource> = new Map([['bearer', 'authorization']]);

/**
 * Takes the one credential of a request, following RFC 6750 §2.1 strictly:
 *
 * - `Authorization: Bearer <token68>` (scheme case-insensitive, one or more spaces) or `X-API-Key: <key>`.
 * - No credential: `credentials_missing`.
 * - Another scheme (`Basic`, `DPoP`, …), bad token syntax, or a credential above `maxTokenBytes`:
 *   `credentials_malformed`.
 * - Two Authorization (or X-API-Key) headers, several comma-separated credentials (which is how
 *   `fetch` merges duplicate headers), a credential in both a header and the `access_token` query
 *   parameter, or an Authorization credential plus a different X-API-Key: `credentials_ambiguous`.
 * - An `access_token` query parameter on its own: `credentials_missing` (a bare challenge, RFC 6750
 *   §3.1: the client used no supported way to authenticate), because query-string tokens (RFC 6750
 *   §2.3) leak into logs and `Referer`, and RFC 9700 says not to use them. The message says query
 *   tokens are refused. Form-body tokens (RFC 6750 §2.2) are not read.
 * - Every header value is capped (`maxTokenBytes` + 256) before anything scans it, and every scan
 *   is linear, so no header shape costs more than its length.
 *
 * For node:http requests the duplicates are counted in `rawHeaders`, because node keeps only the
 * first Authorization header in `headers`.
 *
 * @throws AuthRejection with one of the reasons above; never returns an empty token.
 * @example
 * ```ts
 * extractCredential(new Request('https://api.example', { headers: { authorization: 'Bearer abc' } }));
 * // { token: 'abc', source: 'authorization' }
 * ```
 */
export function extractCredential(request: RequestLike, options: ExtractOptions = {}): ExtractedCredential {
  const maxTokenBytes = options.maxTokenBytes ?? DEFAULT_MAX_TOKEN_BYTES;
  const schemes = options.apiKeySchemes;
  const { authorization, apiKey, queryToken } = readSources(
    request,
    options.apiKeyHeader ?? DEFAULT_API_KEY_HEADER,
  );

  if (authorization.length > 1 || apiKey.length > 1) {
    throw new AuthRejection('credentials_ambiguous', 'More than one credential header was presented');
  }
  const auth = authorization[0];
  const key = apiKey[0];
  // The cap comes before any scan: nothing below looks at more than this many characters.
  const maxValue = maxTokenBytes + 256;
  if ((auth !== undefined && auth.length > maxValue) || (key !== undefined && key.length > maxValue)) {
    throw new AuthRejection('credentials_malformed', `The credential exceeds ${maxTokenBytes} bytes`);
  }

  if (auth !== undefined && countCredentials(auth) > 1) {
    throw new AuthRejection('credentials_ambiguous', 'The Authorization header holds several credentials');
  }
  if (key?.includes(',')) {
    throw new AuthRejection('credentials_ambiguous', 'The X-API-Key header holds several values');
  }
  if (queryToken && (auth !== undefined || key !== undefined)) {
    throw new AuthRejection(
      'credentials_ambiguous',
      'A credential was presented in both a header and the query',
    );
  }

  // The same key sent twice (as Bearer and as X-API-Key) is one credential; anything else is two.
  if (auth !== undefined && key !== undefined && credentialOf(auth, schemes) !== key) {
    throw new AuthRejection(
      'credentials_ambiguous',
      'Both an Authorization and an X-API-Key credential were presented',
    );
  }
  if (auth !== undefined && options.dpop === true && schemeOf(auth) === 'dpop') {
    // Capped before anything scans it; the spaces after the scheme are skipped by hand (no regex).
    if (auth.length > maxTokenBytes + 256) {
      throw new AuthRejection('credentials_malformed', `The credential exceeds ${maxTokenBytes} bytes`);
    }
    let start = 4;
    while (auth.charCodeAt(start) === 0x20) start++;
    const token = auth.slice(start);
    checkToken(token, maxTokenBytes, 'The DPoP token is malformed');
    return { token, source: 'authorization', scheme: 'dpop' };
  }
  if (auth !== undefined) {
    const keyToken = schemes && schemes.length > 0 ? apiKeySchemeToken(auth, schemes) : undefined;
    if (keyToken !== undefined) {
      checkToken(keyToken, maxTokenBytes, 'The API key is malformed');
      return { token: keyToken, source: 'authorization' };
    }
    return { token: parseBearer(auth, maxTokenBytes), source: 'authorization' };
  }
  if (key !== undefined) {
    checkToken(key, maxTokenBytes, 'The API key is malformed');
    return { token: key, source: 'x-api-key' };
  }
  if (queryToken) {
    // RFC 6750 §3.1: a request that uses no supported way to authenticate gets a bare challenge
    // without an error code. The message (never the challenge) says why the query token was ignored.
    throw new AuthRejection(
      'credentials_missing',
      'Access tokens in the query string are not accepted; send an Authorization: Bearer header',
    );
  }
  throw new AuthRejection('credentials_missing');
}

/**
 * Checks the syntax of a bare credential (token68, within the size cap). Nothing is trimmed: a token
 * with whitespace is malformed.
 *
 * @throws AuthRejection `credentials_missing` for an empty string, `credentials_malformed` otherwise.
 * @example
 * ```ts
 * checkToken('eyJhbGciOi…', 8192); // ok
 * checkToken(' abc', 8192);        // throws credentials_malformed
 * ```
 */
export function checkToken(
  token: unknown,
  maxTokenBytes: number = DEFAULT_MAX_TOKEN_BYTES,
  message = 'The credential is malformed',
): asserts token is string {
  if (typeof token !== 'string')
    throw new AuthRejection('credentials_malformed', 'The credential is not a string');
  if (token.length === 0) throw new AuthRejection('credentials_missing');
  // token68 is ASCII, so characters are bytes; a longer string is rejected before the regex runs.
  if (token.length > maxTokenBytes) {
    throw new AuthRejection('credentials_malformed', `The credential exceeds ${maxTokenBytes} bytes`);
  }
  if (!TOKEN68.test(token)) throw new AuthRejection('credentials_malformed', message);
}

// `<scheme> <key>` for one of the configured API key schemes (`Api-Key`), else undefined. A table of
// prefixes compared case-insensitively: no regex over the attacker's value.
function apiKeySchemeToken(value: string, schemes: readonly string[]): string | undefined {
  for (const scheme of schemes) {
    const n = scheme.length;
    if (
      value.length > n &&
      value.charCodeAt(n) === 0x20 &&
      value.slice(0, n).toLowerCase() === scheme.toLowerCase()
    ) {
      let start = n;
      while (start < value.length && value.charCodeAt(start) === 0x20) start++;
      return value.slice(start);
    }
  }
  return undefined;
}

// The credential of an Authorization value (Bearer or an API key scheme), for comparing with the key header.
function credentialOf(value: string, schemes: readonly string[] | undefined): string | undefined {
  const keyToken = schemes ? apiKeySchemeToken(value, schemes) : undefined;
  if (keyToken !== undefined) return keyToken;
  const parts = splitCredential(value);
  return parts?.scheme === 'bearer' ? parts.token : undefined;
}

function parseBearer(value: string, maxTokenBytes: number): string {
  // Fast path for the form almost every client sends (`Bearer ` then a valid token68): exactly what
  // the general path below returns for it. Anything else takes the general path and its messages.
  if (value.startsWith('Bearer ')) {
    const token = value.slice(7);
    if (token.length <= maxTokenBytes && TOKEN68.test(token)) return token;
  }
  if (value.length === 0)
    throw new AuthRejection('credentials_malformed', 'The Authorization header is empty');
  const parts = splitCredential(value);
  const source = parts && AUTHORIZATION_SCHEMES.get(parts.scheme);
  if (!parts || source === undefined) {
    throw new AuthRejection(
      'credentials_malformed',
      schemeOf(value) === 'bearer'
        ? 'The Bearer credential is malformed'
        : 'Only the Bearer authorization scheme is accepted',
    );
  }
  checkToken(parts.token, maxTokenBytes, 'The Bearer token is malformed');
  return parts.token;
}

/**
 * Splits `scheme 1*SP rest` in one pass: the scheme is lower-cased, the rest starts at the first
 * non-space character. No scheme name, no space, or nothing after the spaces: undefined.
 */
function splitCredential(value: string): { readonly scheme: string; readonly token: string } | undefined {
  const space = value.indexOf(' ');
  if (space <= 0) return undefined;
  const scheme = value.slice(0, space);
  if (!SCHEME_NAME.test(scheme)) return undefined;
  let start = space;
  while (start < value.length && value.charCodeAt(start) === 0x20) start++;
  if (start === value.length) return undefined;
  return { scheme: scheme.toLowerCase(), token: value.slice(start) };
}

/** The lower-cased leading scheme-like word of a value (up to the first space or tab). */
function schemeOf(value: string): string {
  let end = 0;
  while (end < value.length && !isOws(value.charCodeAt(end))) end++;
  return value.slice(0, end).toLowerCase();
}

// A comma never occurs in token68, so a comma-joined value is either several credentials (how fetch
// merges duplicate headers, or a client sending a list) or one malformed credential. One pass over a
// value already capped in length.
function countCredentials(value: string): number {
  if (!value.includes(',')) return 1;
  let count = 0;
  for (const part of value.split(',')) if (splitCredential(trim(part)) !== undefined) count++;
  return Math.max(count, 1);
}

interface Sources {
  readonly authorization: string[];
  readonly apiKey: string[];
  readonly queryToken: boolean;
}

function readSources(request: RequestLike, keyHeader: string): Sources {
  if (!request || typeof request !== 'object' || !('headers' in request) || !request.headers) {
    throw new AuthRejection('credentials_malformed', 'The request could not be read');
  }
  if (isWebRequest(request)) {
    const headers = request.headers;
    return {
      authorization: present(headers.get('authorization')),
      apiKey: present(headers.get(keyHeader)),
      queryToken: hasQueryToken(request.url),
    };
  }
  return readNode(request as NodeRequestLike, keyHeader);
}

function isWebRequest(request: object): request is Request {
  const headers = (request as { headers?: unknown }).headers;
  return typeof (headers as Headers | undefined)?.get === 'function';
}

function readNode(request: NodeRequestLike, keyHeader: string): Sources {
  const raw = request.rawHeaders;
  const headers = request.headers as Record<string, unknown>;
  const authorization: string[] = [];
  const apiKey: string[] = [];
  if (Array.isArray(raw)) {
    // rawHeaders is [name, value, name, value, …] exactly as received, duplicates included.
    for (let i = 0; i + 1 < raw.length; i += 2) {
      const name = raw[i];
      const value = raw[i + 1];
      if (typeof name !== 'string' || typeof value !== 'string') continue;
      // Only a name of the right length can lower-case to one we read (lower-casing never changes the
      // length of a name that ends up ASCII), so the other headers cost no toLowerCase allocation.
      if (name.length === 13 && name.toLowerCase() === 'authorization') {
        authorization.push(trim(value));
      } else if (name.length === keyHeader.length && name.toLowerCase() === keyHeader) {
        apiKey.push(trim(value));
      }
    }
  }
  // Hand-built requests, or middleware that set a header after parsing, only have `headers`.
  return {
    authorization: authorization.length > 0 ? authorization : values(headers.authorization),
    apiKey: apiKey.length > 0 ? apiKey : values(headers[keyHeader]),
    queryToken: hasQueryToken(request.url),
  };
}

function values(value: unknown): string[] {
  if (typeof value === 'string') return [trim(value)];
  if (Array.isArray(value)) return value.filter((v): v is string => typeof v === 'string').map(trim);
  return [];
}

function present(value: string | null): string[] {
  return value === null ? [] : [trim(value)];
}

function trim(value: string): string {
  // HTTP field values exclude surrounding optional whitespace (RFC 9110 §5.5); inner spaces are kept.
  // Index scans from both ends: linear however the spaces are laid out (a `[ \t]+$` regex is not).
  let start = 0;
  let end = value.length;
  while (start < end && isOws(value.charCodeAt(start))) start++;
  while (end > start && isOws(value.charCodeAt(end - 1))) end--;
  return start === 0 && end === value.length ? value : value.slice(start, end);
}

function isOws(code: number): boolean {
  return code === 0x20 || code === 0x09;
}

function hasQueryToken(url: unknown): boolean {
  if (typeof url !== 'string') return false;
  const start = url.indexOf('?');
  if (start < 0) return false;
  const end = url.indexOf('#', start);
  const query = url.slice(start + 1, end < 0 ? undefined : end);
  // Without a percent-escape a parameter's decoded name is its raw name ('+' decodes to a space, which
  // `access_token` has none of), so a query that does not contain the raw name cannot hold it.
  if (!query.includes('access_token') && !query.includes('%')) return false;
  // URLSearchParams decodes percent-escapes (access%5Ftoken) and never throws.
  return query.length > 0 && new URLSearchParams(query).has('access_token');
}
