import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createApiKeys, generateApiKey, parseApiKey } from '../../src/apikeys';
import { AuthRejection } from '../../src/core/failure';
import type { ApiKeyStore } from '../../src/stores/contracts';
import { createMemoryApiKeyStore } from '../../src/stores/memory';

// Counts how often verification reaches the store (a real memory store underneath, not a mock).
function counting(store: ApiKeyStore): ApiKeyStore & { lookups: number } {
  const counted = {
    ...store,
    lookups: 0,
    findById(id: string) {
      counted.lookups++;
      return store.findById(id);
    },
  };
  return counted;
}

describe('API key parser and verifier: property-based', () => {
  it('never throws on any string', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.string({ unit: 'grapheme' })),
        (s) => {
          expect(() => parseApiKey(s)).not.toThrow();
        },
      ),
      { numRuns: 2_000 },
    );
  });

  it('random strings and near-miss keys never verify, and forged checksums never reach the store', async () => {
    const store = counting(createMemoryApiKeyStore());
    const keys = createApiKeys({ store, prefix: 'ap_live' });
    const { key } = await keys.issue({ ownerId: 'u', orgId: 'o', scopes: ['read'] });
    const base62 = fc.constantFrom(...'0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz');
    const shaped = fc
      .tuple(
        fc.string({ unit: base62, minLength: 16, maxLength: 16 }),
        fc.string({ unit: base62, minLength: 38, maxLength: 38 }),
      )
      .map(([id, rest]) => `ap_live_${id}_${rest}`);
    const mutated = fc
      .tuple(fc.nat(key.length - 1), fc.string({ minLength: 1, maxLength: 1 }))
      .map(([i, c]) => key.slice(0, i) + c + key.slice(i + 1));
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.string(), shaped, mutated), async (candidate) => {
        fc.pre(candidate !== key);
        const before = store.lookups;
        const error = await keys.verifyPrincipal(candidate).then(
          () => null,
          (e: unknown) => e,
        );
        expect(error).toBeInstanceOf(AuthRejection);
        // Only a candidate whose checksum happens to hold may reach the store; then it fails on the hash.
        if (parseApiKey(candidate) === null) expect(store.lookups).toBe(before);
        expect((error as AuthRejection).reason).toBe('api_key_invalid');
      }),
      { numRuns: 1_500 },
    );
    await keys.close();
  });

  it('a key with a valid checksum but an unknown id or a wrong secret is invalid after one lookup', async () => {
    const store = counting(createMemoryApiKeyStore());
    const keys = createApiKeys({ store, prefix: 'ap_live' });
    const issued = await keys.issue({ ownerId: 'u', orgId: 'o', scopes: [] });
    const stranger = generateApiKey('ap_live').key; // well-formed, never issued
    await expect(keys.verifyPrincipal(stranger)).rejects.toMatchObject({ reason: 'api_key_invalid' });
    expect(store.lookups).toBe(1);
    // Same id, different secret, recomputed checksum: a forgery that knows the id.
    const parsed = parseApiKey(issued.key);
    const forged = generateApiKey('ap_live').key.replace(/_[0-9A-Za-z]{16}_/, `_${parsed?.id}_`);
    expect(parseApiKey(forged)).toBeNull(); // the swap breaks the checksum: refused before the store
    await expect(keys.verifyPrincipal(forged)).rejects.toMatchObject({ reason: 'api_key_invalid' });
    expect(store.lookups).toBe(1);
    await keys.close();
  });
});
