// The API key format:
//
//   ap_live_<id: 16 base62>_<secret: 32 base62><crc: 6 base62>
//   e.g. ap_live_3kTMd0wXq9bZ1pLa_Vx8…(32)…Q1w2E3
//
// - a readable prefix, so people and secret scanners know what leaked and where it belongs;
// - a public id (~95 bits, unique) used for the store lookup and shown in lists;
// - a secret of 32 base62 characters: 32 × log2(62) ≈ 190 bits of randomness (>= 160 required);
// - a CRC32 of everything before it, 6 base62 characters: a typo or a made-up key is refused without
//   touching the store, and scanners can confirm a candidate offline (as GitHub's tokens do).
// Only base62 after the prefix, so a double-click selects the whole key and no URL escaping is needed.
import { createHash, randomBytes } from 'node:crypto';
import * as zlib from 'node:zlib';

/** Length of the public key id. */
export const KEY_ID_LENGTH = 16;
/** Length of the secret part (≈190 bits). */
export const SECRET_LENGTH = 32;
/** Length of the base62 CRC32 checksum (62^6 > 2^32). */
export const CHECKSUM_LENGTH = 6;
// `_` + id + `_` + secret + checksum: everything after the prefix.
const TAIL_LENGTH = 1 + KEY_ID_LENGTH + 1 + SECRET_LENGTH + CHECKSUM_LENGTH;

const ALPHABET = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const PREFIX = /^[a-z][a-z0-9]*(?:_[a-z0-9]+)*$/;
const BASE62 = /^[0-9A-Za-z]+$/;

/**
 * The secret-scanner pattern for keys with the default prefixes `ap_live` and `ap_test`. Register it
 * with your scanner (GitHub push protection custom pattern, gitleaks, trufflehog); confirm a match
 * offline with {@link parseApiKey} (checksum) before alerting.
 *
 * @example
 * ```ts
 * const leaked = text.match(API_KEY_PATTERN); // every candidate key in a file
 * ```
 */
export const API_KEY_PATTERN = /\bap_(?:live|test)_[0-9A-Za-z]{16}_[0-9A-Za-z]{38}\b/g;

/**
 * The scanner pattern for custom prefixes: `\b(?:<prefixes>)_[0-9A-Za-z]{16}_[0-9A-Za-z]{38}\b`.
 *
 * @example
 * ```ts
 * apiKeyPattern(['acme_live']).source; // '\\b(?:acme_live)_[0-9A-Za-z]{16}_[0-9A-Za-z]{38}\\b'
 * ```
 */
export function apiKeyPattern(prefixes: readonly string[]): RegExp {
  for (const p of prefixes) checkPrefix(p);
  return new RegExp(
    `\\b(?:${prefixes.join('|')})_[0-9A-Za-z]{${KEY_ID_LENGTH}}_[0-9A-Za-z]{${SECRET_LENGTH + CHECKSUM_LENGTH}}\\b`,
    'g',
  );
}

/**
 * Whether a prefix is usable: lowercase letters and digits in `_`-separated words, starting with a
 * letter, at most 32 characters (`ap_live`, `acme_test`).
 *
 * @example
 * ```ts
 * isValidPrefix('ap_live'); // true
 * isValidPrefix('AP-live'); // false
 * ```
 */
export function isValidPrefix(prefix: unknown): prefix is string {
  return typeof prefix === 'string' && prefix.length >= 2 && prefix.length <= 32 && PREFIX.test(prefix);
}

function checkPrefix(prefix: string): void {
  if (!isValidPrefix(prefix)) {
    throw new TypeError(
      'API key prefix must be lowercase words joined by "_" (e.g. ap_live), 2-32 characters',
    );
  }
}

/**
 * The parts of a well-formed key. `secret` is sensitive: never log it.
 *
 * @example
 * ```ts
 * const parsed = parseApiKey(key); // { prefix: 'ap_live', id: '3kTMd0wXq9bZ1pLa', secret: '…' } or null
 * ```
 */
export interface ParsedApiKey {
  readonly prefix: string;
  readonly id: string;
  readonly secret: string;
}

/**
 * Parses a key and checks its checksum, with no I/O. Null for anything else, never a throw: safe to
 * call on any untrusted input.
 *
 * @example
 * ```ts
 * if (!parseApiKey(candidate)) throw new AuthRejection('api_key_invalid'); // refused before any lookup
 * ```
 */
export function parseApiKey(key: unknown): ParsedApiKey | null {
  if (typeof key !== 'string' || key.length <= TAIL_LENGTH + 1 || key.length > TAIL_LENGTH + 32) return null;
  const cut = key.length - TAIL_LENGTH;
  if (key.charCodeAt(cut) !== 0x5f || key.charCodeAt(cut + 1 + KEY_ID_LENGTH) !== 0x5f) return null;
  const prefix = key.slice(0, cut);
  const id = key.slice(cut + 1, cut + 1 + KEY_ID_LENGTH);
  const secret = key.slice(cut + 2 + KEY_ID_LENGTH, key.length - CHECKSUM_LENGTH);
  const checksum = key.slice(key.length - CHECKSUM_LENGTH);
  if (!PREFIX.test(prefix) || !BASE62.test(id) || !BASE62.test(secret) || !BASE62.test(checksum)) return null;
  if (checksum !== encodeChecksum(crc32(key.slice(0, key.length - CHECKSUM_LENGTH)))) return null;
  return { prefix, id, secret };
}

/**
 * A new key with this prefix: fresh id and secret from the CSPRNG, checksum appended.
 *
 * @example
 * ```ts
 * const { key, id } = generateApiKey('ap_live'); // show `key` once, store hashApiKey(key) under `id`
 * ```
 */
export function generateApiKey(prefix: string): { readonly key: string; readonly id: string } {
  checkPrefix(prefix);
  const id = randomBase62(KEY_ID_LENGTH);
  const body = `${prefix}_${id}_${randomBase62(SECRET_LENGTH)}`;
  return { key: body + encodeChecksum(crc32(body)), id };
}

/**
 * Lowercase hex SHA-256 of the full key: what the store keeps. A fast hash is right here, unlike for
 * passwords: the secret has ~190 bits of randomness, so a stolen hash cannot be brute-forced, and slow
 * hashes (bcrypt, scrypt) would only cap verifications per second. Hashing the whole key binds the
 * prefix and id too.
 *
 * @example
 * ```ts
 * await store.insert({ ...record, hash: hashApiKey(key) });
 * ```
 */
export function hashApiKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

function randomBase62(length: number): string {
  let out = '';
  while (out.length < length) {
    const bytes = randomBytes(length * 2);
    for (let i = 0; i < bytes.length && out.length < length; i++) {
      const b = bytes[i] as number;
      // Rejection sampling: 248 = 4 × 62, so accepting only b < 248 keeps every character equally likely.
      if (b < 248) out += ALPHABET[b % 62];
    }
  }
  return out;
}

function encodeChecksum(value: number): string {
  let out = '';
  let n = value >>> 0;
  for (let i = 0; i < CHECKSUM_LENGTH; i++) {
    out = ALPHABET[n % 62] + out;
    n = Math.floor(n / 62);
  }
  return out;
}

// node:zlib has crc32 since Node 20.15 / 22.2; the table is a fallback for runtimes without it.
const nativeCrc32 = (zlib as { crc32?: (data: string) => number }).crc32;
let table: Uint32Array | undefined;

function crc32(text: string): number {
  return nativeCrc32 ? nativeCrc32(text) >>> 0 : tableCrc32(text);
}

/**
 * CRC32 (IEEE) from a lookup table; internal, not re-exported. Tests check it against node:zlib's.
 *
 * @example
 * ```ts
 * tableCrc32('123456789'); // 0xcbf43926
 * ```
 */
export function tableCrc32(text: string): number {
  table ??= makeTable();
  let crc = 0xffffffff;
  for (const byte of Buffer.from(text, 'utf8')) crc = (table[(crc ^ byte) & 0xff] as number) ^ (crc >>> 8);
  return (crc ^ 0xffffffff) >>> 0;
}

function makeTable(): Uint32Array {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
}
