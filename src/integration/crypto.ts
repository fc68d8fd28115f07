// Tokens at rest: AES-256-GCM, a fresh 96-bit IV per seal, the key id stored beside the ciphertext so
// keys can rotate (old blobs stay readable while their key is in the ring; writes use the current key).
// The caller binds the blob to where it lives through the additional data (the connection plane binds
// org, integration and connection id): a blob copied onto another row fails authentication instead of
// handing one org's token to another. Format `v2` is what `seal` writes; `v1` blobs (written before the
// org was part of the binding) still open, with the context their writer used, until resealed.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { ConfigError } from '../core/errors';
import { DecryptionError } from './errors';

const VERSION = 'v2';
const FORMATS = new Set(['v1', 'v2']);

/**
 * The format of a sealed blob: `v2` (current) or `v1` (sealed before the org was bound; the connection
 * plane opens it with the legacy context and `resealAll()` rewrites it as `v2`).
 *
 * @example
 * ```ts
 * if (keyring.formatOf(blob) === 'v1') await integrations.resealAll();
 * ```
 */
export type SealFormat = 'v1' | 'v2';
const KEY_ID = /^[A-Za-z0-9_-]{1,64}$/;

/**
 * Encryption keys for stored credentials: several keys by id, one of them current (used for writes).
 * Each key is 32 random bytes, base64 (standard or url-safe), e.g. `openssl rand -base64 32`.
 *
 * @example
 * ```ts
 * const encryption: KeyringConfig = { currentKeyId: '2025-06', keys: { '2025-06': process.env.KEY_NEW!, '2025-01': process.env.KEY_OLD! } };
 * ```
 */
export interface KeyringConfig {
  readonly currentKeyId: string;
  readonly keys: Readonly<Record<string, string>>;
}

/**
 * Seals and opens credential blobs.
 *
 * @example
 * ```ts
 * const ring = createKeyring({ currentKeyId: 'k1', keys: { k1: key } });
 * const blob = ring.seal('{"accessToken":"…"}', 'github\u0000acme');
 * ring.open(blob, 'github\u0000acme');
 * ```
 */
export interface Keyring {
  readonly currentKeyId: string;
  seal(plaintext: string, context: string): string;
  open(sealed: string, context: string): string;
  /** The key id a blob was sealed with, or null when the blob is not in this format. */
  keyIdOf(sealed: string): string | null;
  /** The blob's format, or null when it is not a sealed blob. */
  formatOf(sealed: string): SealFormat | null;
}

/**
 * Builds a keyring and checks every key once (32 bytes after base64 decoding). Errors name the key
 * id, never the key.
 *
 * @throws ConfigError `encryption.keys.<id>` or `encryption.currentKeyId`.
 * @example
 * ```ts
 * const ring = createKeyring({ currentKeyId: 'k1', keys: { k1: randomBytes(32).toString('base64') } });
 * ```
 */
export function createKeyring(config: KeyringConfig): Keyring {
  const keys = new Map<string, Buffer>();
  for (const [id, encoded] of Object.entries(config.keys)) {
    if (!KEY_ID.test(id))
      throw new ConfigError(`encryption.keys.${id}`, 'key ids must match [A-Za-z0-9_-]{1,64}');
    const key = decodeKey(encoded);
    if (!key) throw new ConfigError(`encryption.keys.${id}`, 'must be 32 bytes, base64-encoded');
    keys.set(id, key);
  }
  const current = keys.get(config.currentKeyId);
  if (!current) throw new ConfigError('encryption.currentKeyId', 'must name one of encryption.keys');
  const currentKeyId = config.currentKeyId;

  return Object.freeze({
    currentKeyId,
    seal(plaintext: string, context: string): string {
      const iv = randomBytes(12);
      const cipher = createCipheriv('aes-256-gcm', current, iv);
      cipher.setAAD(Buffer.from(context, 'utf8'));
      const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final(), cipher.getAuthTag()]);
      return `${VERSION}.${currentKeyId}.${iv.toString('base64url')}.${body.toString('base64url')}`;
    },
    open(sealed: string, context: string): string {
      const parts = sealed.split('.');
      if (parts.length !== 4 || !FORMATS.has(parts[0] as string)) {
        throw new DecryptionError('The stored credentials are not in a known encrypted format', null);
      }
      const [, keyId = '', ivText = '', bodyText = ''] = parts;
      const key = keys.get(keyId);
      if (!key) {
        throw new DecryptionError(
          `The stored credentials were encrypted with key id "${keyId}", which is not in the keyring (add it to encryption.keys)`,
          keyId,
        );
      }
      const iv = Buffer.from(ivText, 'base64url');
      const body = Buffer.from(bodyText, 'base64url');
      if (iv.length !== 12 || body.length < 16) {
        throw new DecryptionError('The stored credentials are truncated', keyId);
      }
      try {
        const decipher = createDecipheriv('aes-256-gcm', key, iv);
        decipher.setAAD(Buffer.from(context, 'utf8'));
        decipher.setAuthTag(body.subarray(body.length - 16));
        return Buffer.concat([
          decipher.update(body.subarray(0, body.length - 16)),
          decipher.final(),
        ]).toString('utf8');
      } catch (cause) {
        throw new DecryptionError(
          `The stored credentials failed authentication with key id "${keyId}" (wrong key, or the data was altered or moved)`,
          keyId,
          { cause },
        );
      }
    },
    keyIdOf(sealed: string): string | null {
      const parts = sealed.split('.');
      return parts.length === 4 && FORMATS.has(parts[0] as string) ? (parts[1] ?? null) : null;
    },
    formatOf(sealed: string): SealFormat | null {
      const parts = sealed.split('.');
      return parts.length === 4 && FORMATS.has(parts[0] as string) ? (parts[0] as SealFormat) : null;
    },
  });
}

function decodeKey(encoded: unknown): Buffer | null {
  if (typeof encoded !== 'string' || !/^[A-Za-z0-9+/_-]+={0,2}$/.test(encoded)) return null;
  const key = Buffer.from(encoded.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
  return key.length === 32 ? key : null;
}
