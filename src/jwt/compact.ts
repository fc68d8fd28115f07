import { AuthRejection } from '../core/failure';
import type { JwtClaims, JwtHeader } from './types';

/**
 * A compact JWS split and decoded, not yet verified.
 *
 * @example
 * ```ts
 * const jws = parseCompactJws(token, 8192);
 * jws.header.alg; // 'RS256'
 * ```
 */
export interface ParsedJws {
  readonly header: JwtHeader;
  readonly claims: JwtClaims;
  /** ASCII bytes of `header.payload`, the JWS signing input. */
  readonly signingInput: Buffer;
  readonly signature: Buffer;
}

/**
 * Parses a compact JWS strictly (RFC 7515 §7.1, RFC 8725 §3.1).
 *
 * - longer than `maxBytes`, not exactly 3 segments, non-canonical base64url (padding, whitespace,
 *   characters outside the alphabet, non-zero trailing bits), header or payload not valid UTF-8
 *   (decoded fatally, never with replacement characters) or not a JSON object: `credentials_malformed`;
 * - 5 segments (a JWE): `header_rejected`.
 *
 * Canonical form is checked by re-encoding each decoded segment and comparing: Node's decoder is
 * lenient (it skips unknown characters and accepts `+/=`), the encoder is not, so any token that
 * differs from the canonical encoding of its bytes is refused. Messages never contain the token.
 *
 * @example
 * ```ts
 * const { header, claims, signingInput, signature } = parseCompactJws(token, 8192);
 * ```
 */
export function parseCompactJws(token: string, maxBytes: number): ParsedJws {
  const dot2 = splitCompactJws(token, maxBytes);
  const dot1 = token.indexOf('.');
  const header = decodeJsonSegment(token.slice(0, dot1), 'header') as JwtHeader;
  const claims = decodeJsonSegment(token.slice(dot1 + 1, dot2), 'payload') as JwtClaims;
  const signature = decodeSegment(token.slice(dot2 + 1));
  return { header, claims, signingInput: Buffer.from(token.slice(0, dot2), 'latin1'), signature };
}

/**
 * Checks the size and the segment count of a compact JWS and returns the index of its second dot
 * (the first is `token.indexOf('.')`). Too long or not 3 segments: `credentials_malformed`;
 * 5 segments (a JWE): `header_rejected`.
 *
 * @example
 * ```ts
 * const dot2 = splitCompactJws('a.b.c', 8192); // 3
 * ```
 */
export function splitCompactJws(token: string, maxBytes: number): number {
  if (typeof token !== 'string' || token.length === 0) {
    throw new AuthRejection('credentials_malformed', 'The token is empty');
  }
  if (token.length > maxBytes) {
    throw new AuthRejection('credentials_malformed', 'The token exceeds the size limit');
  }
  const dot1 = token.indexOf('.');
  const dot2 = dot1 < 0 ? -1 : token.indexOf('.', dot1 + 1);
  if (dot2 < 0 || token.indexOf('.', dot2 + 1) >= 0) {
    if (countDots(token) === 4) {
      throw new AuthRejection('header_rejected', 'Encrypted tokens (JWE) are not accepted');
    }
    throw new AuthRejection('credentials_malformed', 'The token is not a compact JWS');
  }
  return dot2;
}

/**
 * Decodes a canonical base64url segment holding a JSON object (a JOSE header or a claims set).
 * Not canonical, not JSON, or not an object: `credentials_malformed`.
 *
 * @example
 * ```ts
 * decodeJsonSegment('eyJhbGciOiJSUzI1NiJ9', 'header'); // { alg: 'RS256' }
 * ```
 */
export function decodeJsonSegment(segment: string, part: 'header' | 'payload'): Record<string, unknown> {
  return parseJsonObject(decodeSegment(segment), part);
}

/**
 * Decodes one base64url segment, refusing anything but its canonical unpadded encoding.
 *
 * @example
 * ```ts
 * decodeSegment('eyJhIjoxfQ'); // <Buffer 7b 22 61 22 3a 31 7d>
 * decodeSegment('eyJhIjoxfQ=='); // throws credentials_malformed
 * ```
 */
export function decodeSegment(segment: string): Buffer {
  const bytes = Buffer.from(segment, 'base64url');
  if (bytes.toString('base64url') !== segment) {
    throw new AuthRejection('credentials_malformed', 'The token is not canonical base64url');
  }
  return bytes;
}

/**
 * Counts the `.` separators of a token, to tell a JWE (4) from a JWS (2).
 *
 * @example
 * ```ts
 * countDots('a.b.c'); // 2
 * ```
 */
export function countDots(token: string): number {
  let dots = 0;
  for (let i = token.indexOf('.'); i >= 0; i = token.indexOf('.', i + 1)) dots++;
  return dots;
}

// Fatal: a byte sequence that is not UTF-8 throws instead of becoming U+FFFD, so two different
// payloads can never decode to the same claims. Non-fatal decoding would let `sub: "\xff"` and
// `sub: "\xfe"` both read as `sub: "\uFFFD"`.
const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

function parseJsonObject(bytes: Buffer, part: 'header' | 'payload'): Record<string, unknown> {
  let text: string;
  try {
    text = UTF8.decode(bytes);
  } catch {
    throw new AuthRejection('credentials_malformed', `The token ${part} is not valid UTF-8`);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new AuthRejection('credentials_malformed', `The token ${part} is not valid JSON`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new AuthRejection('credentials_malformed', `The token ${part} is not a JSON object`);
  }
  return value as Record<string, unknown>;
}
