import { describe, expect, it } from 'vitest';
import { ApiKeyError, createApiKeys, parseApiKey } from '../../src/apikeys';
import { tableCrc32 } from '../../src/apikeys/format';
import { ConfigError } from '../../src/core/errors';
import { AuthRejection } from '../../src/core/failure';
import { freezePrincipal } from '../../src/core/principal';
import type { ApiKeyStore, ApiKeyUsage } from '../../src/stores/contracts';
import { createMemoryApiKeyStore } from '../../src/stores/memory';

const T0 = Date.UTC(2025, 0, 1);

function setup(options: { isMember?: (o: string, g: string) => boolean | Promise<boolean> } = {}) {
  let now = T0;
  const store = createMemoryApiKeyStore();
  const keys = createApiKeys({ store, prefix: 'ap_test', clock: () => now, ...options });
  return { keys, store, advance: (ms: number) => (now += ms), now: () => now };
}

const reasonOf = (p: Promise<unknown>) =>
  p.then(
    () => 'accepted',
    (e: unknown) => (e instanceof AuthRejection ? e.reason : `unexpected: ${String(e)}`),
  );

const B62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
function withChecksum(body: string): string {
  let n = tableCrc32(body);
  let sum = '';
  for (let i = 0; i < 6; i++) {
    sum = B62[n % 62] + sum;
    n = Math.floor(n / 62);
  }
  return body + sum;
}

describe('createApiKeys', () => {
  it('issues a key shown once and verifies it into an api_key principal', async () => {
    const { keys } = setup();
    const { key, record } = await keys.issue({
      ownerId: 'usr_1',
      orgId: 'org_1',
      scopes: ['sync:write', 'read'],
      name: 'CI',
    });
    expect(key.startsWith('ap_test_')).toBe(true);
    expect(record).not.toHaveProperty('hash');
    expect(JSON.stringify(record)).not.toContain(parseApiKey(key)?.secret);
    expect(record).toMatchObject({
      ownerId: 'usr_1',
      orgId: 'org_1',
      status: 'active',
      name: 'CI',
      expiresAt: null,
    });
    const principal = await keys.verifyPrincipal(key, { requiredScopes: ['sync:write'] });
    expect(principal).toMatchObject({
      subject: 'usr_1',
      providerSubject: record.id,
      provider: 'api_key',
      kind: 'api_key',
      authMethod: 'api_key',
      orgId: 'org_1',
      scopes: ['sync:write', 'read'],
      sessionId: null,
    });
    expect(Object.isFrozen(principal) && Object.isFrozen(principal.scopes)).toBe(true);
    expect(JSON.stringify(principal)).not.toContain(parseApiKey(key)?.secret);
  });

  it('stores only a hash of the key', async () => {
    const { keys, store } = setup();
    const { key, record } = await keys.issue({ ownerId: 'u', orgId: 'o', scopes: [] });
    const stored = await store.findById(record.id);
    expect(stored?.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.stringify(stored)).not.toContain(parseApiKey(key)?.secret);
  });

  it('refuses a wrong secret with a valid checksum after the lookup, in constant time', async () => {
    const { keys } = setup();
    const { key } = await keys.issue({ ownerId: 'u', orgId: 'o', scopes: [] });
    const parsed = parseApiKey(key);
    const forged = withChecksum(`ap_test_${parsed?.id}_${'A'.repeat(32)}`);
    expect(parseApiKey(forged)?.id).toBe(parsed?.id);
    expect(await reasonOf(keys.verifyPrincipal(forged))).toBe('api_key_invalid');
  });

  it('refuses a key of another accepted-prefix set (a test key on a live service) without a lookup', async () => {
    const test = setup();
    const { key } = await test.keys.issue({ ownerId: 'u', orgId: 'o', scopes: [] });
    let lookups = 0;
    const store = createMemoryApiKeyStore();
    const live = createApiKeys({
      store: {
        ...store,
        findById: (id: string) => {
          lookups++;
          return store.findById(id);
        },
      },
      prefix: 'ap_live',
    });
    expect(await reasonOf(live.verifyPrincipal(key))).toBe('api_key_invalid');
    expect(lookups).toBe(0);
    expect(live.matches(key)).toBe(true); // routed here, then refused: never sent to the JWT adapter
    expect(test.keys.matches(key)).toBe(true);
    expect(test.keys.matches('eyJhbGciOiJIUzI1NiJ9.e30.x')).toBe(false);
  });

  it('enforces scopes with scope_insufficient and the required scopes on the rejection', async () => {
    const { keys } = setup();
    const { key } = await keys.issue({ ownerId: 'u', orgId: 'o', scopes: ['read'] });
    const error = await keys
      .verifyPrincipal(key, { requiredScopes: ['read', 'sync:write'] })
      .catch((e: AuthRejection) => e);
    expect(error).toMatchObject({ reason: 'scope_insufficient', scope: ['read', 'sync:write'] });
    const result = await keys.verify(key, { requiredScopes: ['admin'] });
    expect(result.ok ? null : [result.failure.status, result.failure.reason]).toEqual([
      403,
      'scope_insufficient',
    ]);
  });

  it('expires a key at its expiresAt', async () => {
    const { keys, advance, now } = setup();
    const { key } = await keys.issue({
      ownerId: 'u',
      orgId: 'o',
      scopes: [],
      expiresAt: new Date(now() + 60_000),
    });
    await keys.verifyPrincipal(key);
    advance(60_000);
    expect(await reasonOf(keys.verifyPrincipal(key))).toBe('api_key_expired');
    expect((await keys.list({ orgId: 'o' }))[0]?.status).toBe('expired');
  });

  it('revokes at once, idempotently', async () => {
    const { keys } = setup();
    const { key, record } = await keys.issue({ ownerId: 'u', orgId: 'o', scopes: [] });
    const revoked = await keys.revoke(record.id);
    expect(revoked.status).toBe('revoked');
    expect(await reasonOf(keys.verifyPrincipal(key))).toBe('api_key_revoked');
    expect((await keys.revoke(record.id)).revokedAt).toEqual(revoked.revokedAt);
    await expect(keys.revoke('nope')).rejects.toMatchObject({ code: 'api_key_not_found' });
  });

  it('re-checks org membership at every verify: removing the owner kills the key at once', async () => {
    const members = new Set(['usr_1:org_1']);
    const { keys } = setup({ isMember: (owner, org) => members.has(`${owner}:${org}`) });
    const { key } = await keys.issue({ ownerId: 'usr_1', orgId: 'org_1', scopes: [] });
    await keys.verifyPrincipal(key);
    members.delete('usr_1:org_1');
    expect(await reasonOf(keys.verifyPrincipal(key))).toBe('org_membership_missing');
    members.add('usr_1:org_1');
    await keys.verifyPrincipal(key);
  });

  it('fails closed when the membership hook fails: provider_unavailable', async () => {
    const { keys } = setup({
      isMember: async () => {
        throw new Error('directory down');
      },
    });
    const { key } = await keys.issue({ ownerId: 'u', orgId: 'o', scopes: [] });
    expect(await reasonOf(keys.verifyPrincipal(key))).toBe('provider_unavailable');
  });

  it('a membership hook or legacy verifier that never answers is provider_unavailable at its deadline', async () => {
    const signals: AbortSignal[] = [];
    const never = <T>(signal: AbortSignal) => {
      signals.push(signal);
      return new Promise<T>(() => {});
    };
    const keys = createApiKeys({
      store: createMemoryApiKeyStore(),
      prefix: 'ap_test',
      hookTimeoutMs: 100,
      isMember: (_owner, _org, { signal }) => never<boolean>(signal),
      isLegacyKey: (c) => c.startsWith('legacy-'),
      legacyVerifier: (_key, { signal }) => never(signal),
    });
    const { key } = await keys.issue({ ownerId: 'u', orgId: 'o', scopes: [] });
    const started = Date.now();
    expect(await reasonOf(keys.verifyPrincipal(key))).toBe('provider_unavailable');
    expect(await reasonOf(keys.verifyPrincipal('legacy-abc'))).toBe('provider_unavailable');
    // Generous bound for a 100 ms deadline; without one these never settle.
    expect(Date.now() - started).toBeLessThan(3000);
    // Each hook was told to stop.
    expect(signals.map((s) => s.aborted)).toEqual([true, true]);
    // The default is the authorizer's 2 s deadline; a bad value is refused at construction.
    const slow = createApiKeys({
      store: createMemoryApiKeyStore(),
      prefix: 'ap_test',
      isMember: () => new Promise<boolean>(() => {}),
    });
    const issued = await slow.issue({ ownerId: 'u', orgId: 'o', scopes: [] });
    const t0 = Date.now();
    expect(await reasonOf(slow.verifyPrincipal(issued.key))).toBe('provider_unavailable');
    expect(Date.now() - t0).toBeGreaterThanOrEqual(1900);
    expect(Date.now() - t0).toBeLessThan(6000);
    for (const hookTimeoutMs of [0, -1, 1.5, 120_000]) {
      expect(() =>
        createApiKeys({ store: createMemoryApiKeyStore(), prefix: 'ap_test', hookTimeoutMs }),
      ).toThrow(ConfigError);
    }
  });

  it('rotates: a new key with the same grants; the old one works for the overlap only', async () => {
    const { keys, advance } = setup();
    const old = await keys.issue({ ownerId: 'u', orgId: 'o', scopes: ['deploy'], name: 'CI' });
    const rotated = await keys.rotate(old.record.id, { overlapSec: 3_600 });
    expect(rotated.record).toMatchObject({ ownerId: 'u', orgId: 'o', scopes: ['deploy'], name: 'CI' });
    expect(rotated.previous.replacedBy).toBe(rotated.record.id);
    expect(rotated.previous.expiresAt?.getTime()).toBe(T0 + 3_600_000);
    await keys.verifyPrincipal(old.key);
    await keys.verifyPrincipal(rotated.key);
    advance(3_600_000);
    expect(await reasonOf(keys.verifyPrincipal(old.key))).toBe('api_key_expired');
    await keys.verifyPrincipal(rotated.key);
    await expect(keys.rotate(old.record.id, { overlapSec: 0 })).rejects.toMatchObject({
      code: 'api_key_not_active',
    });
  });

  it('rotates with no overlap: the old key is refused at once; an earlier expiry is kept', async () => {
    const { keys, now } = setup();
    const a = await keys.issue({ ownerId: 'u', orgId: 'o', scopes: [] });
    await keys.rotate(a.record.id, { overlapSec: 0 });
    expect(await reasonOf(keys.verifyPrincipal(a.key))).toBe('api_key_expired');
    const b = await keys.issue({ ownerId: 'u', orgId: 'o', scopes: [], expiresAt: new Date(now() + 1_000) });
    const r = await keys.rotate(b.record.id, { overlapSec: 3_600 });
    expect(r.previous.expiresAt?.getTime()).toBe(now() + 1_000);
    await expect(keys.rotate(b.record.id, { overlapSec: -1 })).rejects.toBeInstanceOf(ApiKeyError);
  });

  it('lists by org or owner without hashes or secrets', async () => {
    const { keys } = setup();
    const a = await keys.issue({ ownerId: 'usr_a', orgId: 'org_x', scopes: [] });
    const b = await keys.issue({ ownerId: 'usr_b', orgId: 'org_x', scopes: [] });
    await keys.issue({ ownerId: 'usr_a', orgId: 'org_y', scopes: [] });
    const byOrg = await keys.list({ orgId: 'org_x' });
    expect(byOrg.map((k) => k.id).sort()).toEqual([a.record.id, b.record.id].sort());
    expect((await keys.list({ ownerId: 'usr_a' })).length).toBe(2);
    const text = JSON.stringify(byOrg);
    expect(text).not.toContain('hash');
    expect(text).not.toContain(parseApiKey(a.key)?.secret);
  });

  it('validates issue input and options', async () => {
    const { keys } = setup();
    await expect(keys.issue({ ownerId: '', orgId: 'o', scopes: [] })).rejects.toMatchObject({
      code: 'api_key_input_invalid',
    });
    await expect(keys.issue({ ownerId: 'u', orgId: 'o', scopes: ['has space'] })).rejects.toBeInstanceOf(
      ApiKeyError,
    );
    await expect(
      keys.issue({ ownerId: 'u', orgId: 'o', scopes: [], expiresAt: new Date(T0 - 1) }),
    ).rejects.toBeInstanceOf(ApiKeyError);
    expect(() => createApiKeys({ store: createMemoryApiKeyStore(), prefix: 'AP-LIVE' })).toThrow(ConfigError);
    expect(() => createApiKeys({ store: {} as ApiKeyStore, prefix: 'ap_live' })).toThrow(ConfigError);
  });

  it('records last-used times in memory and writes them in one batch, on flush and on close', async () => {
    const inner = createMemoryApiKeyStore();
    const batches: ApiKeyUsage[][] = [];
    const store: ApiKeyStore = {
      ...inner,
      touch: (usages) => {
        batches.push([...usages]);
        return inner.touch(usages);
      },
    };
    let now = T0;
    const keys = createApiKeys({ store, prefix: 'ap_test', clock: () => now, lastUsedFlushMs: 60_000 });
    const a = await keys.issue({ ownerId: 'u', orgId: 'o', scopes: [] });
    const b = await keys.issue({ ownerId: 'u', orgId: 'o', scopes: [] });
    for (let i = 0; i < 100; i++) {
      now += 1_000;
      await keys.verifyPrincipal(i % 2 ? a.key : b.key);
    }
    expect(batches).toHaveLength(0); // no write per request
    expect((await keys.get(a.record.id))?.lastUsedAt?.getTime()).toBe(now); // pending times are visible
    await keys.flush();
    expect(batches).toHaveLength(1);
    expect(batches[0]).toHaveLength(2);
    expect((await inner.findById(a.record.id))?.lastUsedAt?.getTime()).toBe(now);
    now += 5_000;
    await keys.verifyPrincipal(b.key);
    await keys.close();
    expect(batches).toHaveLength(2);
    expect((await inner.findById(b.record.id))?.lastUsedAt?.getTime()).toBe(now);
  });

  it('flushes early when the pending buffer is full, and on the timer', async () => {
    const inner = createMemoryApiKeyStore();
    let writes = 0;
    const store: ApiKeyStore = {
      ...inner,
      touch: (u) => {
        writes++;
        return inner.touch(u);
      },
    };
    const keys = createApiKeys({ store, prefix: 'ap_test', maxPendingUsage: 2, lastUsedFlushMs: 20 });
    const a = await keys.issue({ ownerId: 'u', orgId: 'o', scopes: [] });
    const b = await keys.issue({ ownerId: 'u', orgId: 'o', scopes: [] });
    await keys.verifyPrincipal(a.key);
    await keys.verifyPrincipal(b.key); // buffer full: flush without waiting for the timer
    await new Promise((r) => setTimeout(r, 5));
    expect(writes).toBe(1);
    await keys.verifyPrincipal(a.key);
    await new Promise((r) => setTimeout(r, 60));
    expect(writes).toBe(2);
    await keys.close();
  });

  it('sends credentials of another shape to the legacy verifier, and only those', async () => {
    const seen: string[] = [];
    const keys = createApiKeys({
      store: createMemoryApiKeyStore(),
      prefix: 'ap_test',
      isLegacyKey: (c) => c.startsWith('legacy-'),
      legacyVerifier: async (key) => {
        seen.push(key);
        if (key !== 'legacy-good') return null;
        return freezePrincipal({
          subject: 'usr_old',
          providerSubject: 'legacy-key-7',
          provider: 'legacy',
          kind: 'api_key',
          orgId: null,
          roles: [],
          scopes: ['read'],
          sessionId: null,
          expiresAt: null,
          authMethod: 'api_key',
          claims: {},
        });
      },
    });
    expect((await keys.verifyPrincipal('legacy-good')).subject).toBe('usr_old');
    expect(await reasonOf(keys.verifyPrincipal('legacy-bad'))).toBe('api_key_invalid');
    expect(await reasonOf(keys.verifyPrincipal('legacy-good', { requiredScopes: ['write'] }))).toBe(
      'scope_insufficient',
    );
    expect(await reasonOf(keys.verifyPrincipal(`ap_test_${'a'.repeat(16)}_${'b'.repeat(38)}`))).toBe(
      'api_key_invalid',
    );
    expect(seen).toEqual(['legacy-good', 'legacy-bad', 'legacy-good']);
    expect(keys.matches('legacy-x')).toBe(true);
    await keys.close();
  });

  it('works as an identity adapter that throws reason-coded rejections', async () => {
    const { keys } = setup();
    const { key } = await keys.issue({ ownerId: 'u', orgId: 'o', scopes: [] });
    const adapter = keys.adapter();
    expect(adapter.name).toBe('api_key');
    expect((await adapter.verify(key, { traceId: 't' })).kind).toBe('api_key');
    expect(await reasonOf(adapter.verify('nope', { traceId: 't' }))).toBe('api_key_invalid');
  });

  it('never puts the key in a rejection message', async () => {
    const { keys } = setup();
    const { key } = await keys.issue({ ownerId: 'u', orgId: 'o', scopes: [] });
    const result = await keys.verify(key.slice(0, -1));
    expect(result.ok).toBe(false);
    expect(JSON.stringify(result)).not.toContain(key.slice(0, 30));
  });
});
