// The two `isMember` hooks answer different questions with different arguments; the README and the
// doc comments say so, and these tests hold each hook to its documented call shape.
import { readFileSync } from 'node:fs';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { type ApiKeysOptions, createApiKeys } from '../../src/apikeys';
import { AuthRejection } from '../../src/core/failure';
import { freezePrincipal, type Principal } from '../../src/core/principal';
import { createAuthorizer, type MembershipHook } from '../../src/identity/authorizer';
import { createMemoryApiKeyStore } from '../../src/stores/memory';

describe('isMember: API keys (ownerId, orgId) vs authorizer (principal, orgId, ctx)', () => {
  it('the types differ as documented', () => {
    expectTypeOf<Parameters<NonNullable<ApiKeysOptions['isMember']>>>().toEqualTypeOf<
      [ownerId: string, orgId: string, context: { readonly signal: AbortSignal }]
    >();
    expectTypeOf<Parameters<MembershipHook>[0]>().toEqualTypeOf<Principal>();
  });

  it('API keys: called with the owner id and the key org (two strings) and a deadline signal; false refuses the key', async () => {
    const calls: unknown[][] = [];
    const keys = createApiKeys({
      store: createMemoryApiKeyStore(),
      prefix: 'ap_test',
      isMember: (...args: [string, string, { readonly signal: AbortSignal }]) => {
        calls.push(args);
        return false;
      },
    });
    const { key } = await keys.issue({ ownerId: 'usr_bob', orgId: 'org_acme', scopes: [] });
    const reason = await keys.verifyPrincipal(key).then(
      () => 'accepted',
      (e: unknown) => (e instanceof AuthRejection ? e.reason : String(e)),
    );
    expect(reason).toBe('org_membership_missing');
    expect(calls.map((c) => c.slice(0, 2))).toEqual([['usr_bob', 'org_acme']]);
    expect((calls[0]?.[2] as { signal?: unknown } | undefined)?.signal).toBeInstanceOf(AbortSignal);
  });

  it('authorizer: called with the principal object, the other org and a context with a signal', async () => {
    const calls: unknown[][] = [];
    const authorizer = createAuthorizer({
      isMember: async (...args) => {
        calls.push(args);
        return { roles: ['member'] };
      },
    });
    const alice = freezePrincipal({
      subject: 'alice',
      providerSubject: 'alice',
      provider: 'oidc',
      kind: 'user',
      orgId: 'org_a',
      roles: [],
      scopes: [],
      sessionId: null,
      expiresAt: null,
      authMethod: 'jwt',
      claims: {},
    });
    expect((await authorizer.check(alice, { orgId: 'org_b' })).ok).toBe(true);
    expect(calls).toHaveLength(1);
    const [first, orgId, ctx] = calls[0] as [Principal, string, { signal: AbortSignal }];
    expect(first).toMatchObject({ subject: 'alice', orgId: 'org_a' });
    expect(orgId).toBe('org_b');
    expect(ctx.signal).toBeInstanceOf(AbortSignal);
  });

  it('README and doc comments tell them apart', () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    expect(readme).toContain('Two `isMember` hooks, two questions.');
    expect(readme).toMatch(/createAuthorizer\(\{ isMember \}\)` is called as\s+`\(principal, orgId/);
    expect(readme).toMatch(/createApiKeys\(\{ isMember \}\)` is called as `\(ownerId, orgId\)`/);
    const keysSrc = readFileSync(new URL('../../src/apikeys/keys.ts', import.meta.url), 'utf8');
    expect(keysSrc).toContain("Not the authorizer's hook");
    const authorizerSrc = readFileSync(new URL('../../src/identity/authorizer.ts', import.meta.url), 'utf8');
    expect(authorizerSrc).toContain("Not the API keys' hook");
  });
});
