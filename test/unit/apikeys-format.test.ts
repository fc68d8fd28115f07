import * as zlib from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  API_KEY_PATTERN,
  apiKeyPattern,
  generateApiKey,
  hashApiKey,
  isValidPrefix,
  KEY_ID_LENGTH,
  parseApiKey,
  SECRET_LENGTH,
} from '../../src/apikeys';
import { tableCrc32 } from '../../src/apikeys/format';

describe('API key format', () => {
  it('is prefix_id_secret+checksum, base62 after the prefix', () => {
    const { key, id } = generateApiKey('ap_live');
    expect(key).toMatch(/^ap_live_[0-9A-Za-z]{16}_[0-9A-Za-z]{38}$/);
    expect(key.slice(8, 24)).toBe(id);
    expect(parseApiKey(key)).toEqual({ prefix: 'ap_live', id, secret: key.slice(25, 25 + SECRET_LENGTH) });
  });

  it('carries at least 160 bits of randomness in the secret, and ids do not repeat', () => {
    expect(SECRET_LENGTH * Math.log2(62)).toBeGreaterThanOrEqual(160);
    const keys = Array.from({ length: 2_000 }, () => generateApiKey('ap_test'));
    expect(new Set(keys.map((k) => k.id)).size).toBe(keys.length);
    // Every base62 character shows up in secrets: the alphabet is used whole (no modulo gaps).
    const chars = new Set(keys.flatMap((k) => [...(parseApiKey(k.key)?.secret ?? '')]));
    expect(chars.size).toBe(62);
    expect(KEY_ID_LENGTH * Math.log2(62)).toBeGreaterThan(90);
  });

  it('refuses any single-character change (checksum) and any other shape', () => {
    const { key } = generateApiKey('ap_live');
    for (let i = 8; i < key.length; i++) {
      if (key[i] === '_') continue;
      const typo = key.slice(0, i) + (key[i] === 'a' ? 'b' : 'a') + key.slice(i + 1);
      expect(parseApiKey(typo)).toBeNull();
    }
    expect(parseApiKey(key.slice(0, -1))).toBeNull();
    expect(parseApiKey(`${key}x`)).toBeNull();
    expect(parseApiKey(key.replace('ap_live', 'AP_live'))).toBeNull();
    expect(parseApiKey(undefined)).toBeNull();
    expect(parseApiKey('')).toBeNull();
  });

  it('uses the standard CRC32 (node:zlib and the fallback table agree)', () => {
    expect(tableCrc32('123456789')).toBe(0xcbf43926);
    const native = (zlib as { crc32?: (s: string) => number }).crc32;
    fc.assert(
      fc.property(fc.string(), (s) => {
        if (native) expect(tableCrc32(s)).toBe(native(s) >>> 0);
      }),
    );
  });

  it('is found by the documented scanner regex, inside text, and nothing else is', () => {
    const live = generateApiKey('ap_live').key;
    const test = generateApiKey('ap_test').key;
    const text = `export KEY=${live}\n"token": "${test}", other ap_prod_${'a'.repeat(16)}_${'b'.repeat(38)}`;
    expect(text.match(API_KEY_PATTERN)).toEqual([live, test]);
    const custom = generateApiKey('acme_ci').key;
    expect(`x ${custom} y`.match(apiKeyPattern(['acme_ci']))).toEqual([custom]);
    expect(() => apiKeyPattern(['bad prefix'])).toThrow(TypeError);
  });

  it('validates prefixes', () => {
    expect(isValidPrefix('ap_live')).toBe(true);
    expect(isValidPrefix('acme')).toBe(true);
    for (const bad of ['', 'a', 'Ap_live', 'ap-live', 'ap__live', '_ap', 'ap_', '1ap', 'x'.repeat(33)]) {
      expect(isValidPrefix(bad)).toBe(false);
    }
    expect(() => generateApiKey('ap-live')).toThrow(TypeError);
  });

  it('stores a SHA-256 hex of the whole key', () => {
    const { key } = generateApiKey('ap_live');
    expect(hashApiKey(key)).toMatch(/^[0-9a-f]{64}$/);
    expect(hashApiKey(key)).not.toBe(hashApiKey(key.replace('ap_live', 'ap_test')));
  });
});
