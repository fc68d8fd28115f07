// A tenant's mode binds every credential that acts on that tenant (issue 11, migration), attacked as an
// attacker would: SimpleJWT tokens without an org claim acting on a tenant in `target` through a route
// parameter and a membership hook, on every framework adapter and through createAuthorizer; legacy API
// keys for a tenant in `target`; a legacy user and a target subject with the same raw id; which side a
// failure names. Target tokens come from the real dev issuer (oidc-provider), legacy tokens are HS256
// SimpleJWT-style tokens verified by the real legacy adapter.
import { randomUUID } from 'node:crypto';
import { InMemoryProvider, OpenFeature } from '@openfeature/server-sdk';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { legacyApiKeyPrincipal } from '../../providers/legacy/api-keys';
import { createApiKeys } from '../../src/apikeys/keys';
import { DEFAULT_DEV_USERS, type DevIssuer, startDevIssuer } from '../../src/dev/index';
import { authorize } from '../../src/identity/authorize';
import { createAuthorizer } from '../../src/identity/authorizer';
import { createIdentityPlane } from '../../src/identity/create';
import { importLinks, type MigrationPlane } from '../../src/migration/index';
import { createMemoryApiKeyStore, createMemoryIdentityLinkStore } from '../../src/stores/memory';
import { bearer, FRAMEWORKS, send } from './http-servers';
import {
  LEGACY_SECRET,
  legacyConfig,
  legacyToken,
  linksCsv,
  PEOPLE,
  targetConfig,
  targetUserToken,
} from './migration-fixtures';

let dev: DevIssuer;
const tokens: Record<string, string> = {};

/** A SimpleJWT default access token: `token_type`, `user_id`, `jti`, `exp`, and NO org claim. */
async function orglessLegacyToken(userId: number | string): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ token_type: 'access', user_id: userId, jti: randomUUID(), scope: 'read sync:write' })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setIssuedAt(now - 5)
    .setExpirationTime(now + 600)
    .sign(new TextEncoder().encode(LEGACY_SECRET));
}

async function linkedStore() {
  const links = createMemoryIdentityLinkStore();
  await importLinks(links, linksCsv(), { format: 'csv' });
  return links;
}

// alice is a member of org_acme (in `target`) and of org_beta (in `legacy`), in the app's directory.
const isMember = (p: { subject: string }, orgId: string) =>
  p.subject === 'usr_alice' && (orgId === 'org_acme' || orgId === 'org_beta')
    ? { roles: ['admin'], permissions: ['read'] }
    : null;

beforeAll(async () => {
  dev = await startDevIssuer({
    users: [
      ...DEFAULT_DEV_USERS,
      { id: '12', email: 'twelve@acme.test', name: 'Twelve', orgId: null, roles: [] },
    ],
  });
  tokens.aliceOrgless = await orglessLegacyToken(PEOPLE.alice.legacyId);
  tokens.aliceTarget = await targetUserToken(dev, 'alice');
  tokens.twelveTarget = await targetUserToken(dev, '12');
}, 30_000);

afterAll(async () => {
  await OpenFeature.clearProviders();
  await dev?.stop();
});

describe('a legacy token without an org claim acting on a tenant in target', () => {
  let plane: MigrationPlane;
  beforeAll(async () => {
    plane = await createIdentityPlane({
      provider: 'migration',
      legacy: legacyConfig,
      target: targetConfig(dev),
      mode: 'legacy',
      tenants: { orgs: { org_acme: 'target', org_beta: 'legacy' } },
      links: { store: await linkedStore() },
    });
  });
  afterAll(async () => plane?.close());

  it('verifies (no org, default mode legacy): the attack starts from an accepted credential', async () => {
    const result = await plane.verify(tokens.aliceOrgless as string);
    expect(result.ok && result.principal).toMatchObject({ subject: 'usr_alice', orgId: null });
  });

  for (const [name, start] of FRAMEWORKS) {
    it(`${name}: requireOrg acting on org_acme (target) is provider_disabled; org_beta (legacy) passes`, async () => {
      const server = await start(plane, createAuthorizer({ isMember }));
      try {
        const refused = await send(`${server.url}/orgs/org_acme/reports`, {
          headers: bearer(tokens.aliceOrgless as string),
        });
        expect(refused.status).toBe(401);
        expect(refused.json()).toMatchObject({ reason: 'provider_disabled', error: 'invalid_token' });
        // The same credential on a tenant whose mode accepts legacy: the route itself works.
        const allowed = await send(`${server.url}/orgs/org_beta/reports`, {
          headers: bearer(tokens.aliceOrgless as string),
        });
        expect(allowed.status).toBe(200);
        // A target token of the same user on the target tenant passes.
        const target = await send(`${server.url}/orgs/org_acme/reports`, {
          headers: bearer(tokens.aliceTarget as string),
        });
        expect(target.status).toBe(200);
        expect(target.json()).toMatchObject({ subject: 'usr_alice' });
      } finally {
        await server.close();
      }
    });
  }

  it('createAuthorizer: the acting tenant decides, and the failure names the legacy side', async () => {
    const result = await plane.verify(tokens.aliceOrgless as string);
    if (!result.ok) throw new Error('expected the org-less token to verify');
    const authorizer = createAuthorizer({ isMember });
    const acme = await authorizer.check(result.principal, { orgId: 'org_acme', traceId: result.traceId });
    expect(!acme.ok && acme.failure).toMatchObject({ reason: 'provider_disabled', provider: 'legacy' });
    const beta = await authorizer.check(result.principal, { orgId: 'org_beta' });
    expect(beta.ok).toBe(true);
    // The gate survives a copy of the principal (what the membership path does).
    const copy = await authorizer.check({ ...result.principal }, { orgId: 'org_acme' });
    expect(!copy.ok && copy.failure.reason).toBe('provider_disabled');
  });

  it('a target token is bound too: acting on a tenant still in legacy is provider_disabled', async () => {
    const result = await plane.verify(tokens.aliceTarget as string); // org_acme: target accepts it
    if (!result.ok) throw new Error('expected the target token to verify');
    const beta = await createAuthorizer({ isMember }).check(result.principal, { orgId: 'org_beta' });
    expect(!beta.ok && beta.failure).toMatchObject({ reason: 'provider_disabled', provider: 'oidc' });
  });
});

describe('re-checking the acting tenant after a rollout', () => {
  it('a principal verified in dual is refused by authorize/createAuthorizer once the tenant is in target', async () => {
    const DOMAIN = 'tenant-binding';
    const flag = (mode: string) => ({
      'authplane-migration-mode': {
        variants: { legacy: 'legacy', dual: 'dual', target: 'target' },
        defaultVariant: 'legacy',
        disabled: false,
        contextEvaluator: (ctx: { targetingKey?: string }) =>
          ctx.targetingKey === 'org_acme' ? mode : 'legacy',
      },
    });
    const provider = new InMemoryProvider(flag('dual'));
    await OpenFeature.setProviderAndWait(DOMAIN, provider);
    const plane = await createIdentityPlane({
      provider: 'migration',
      legacy: legacyConfig,
      target: targetConfig(dev),
      modeFlag: { client: OpenFeature.getClient(DOMAIN) },
      links: { store: await linkedStore() },
    });
    try {
      const result = await plane.verify(await legacyToken('alice')); // team_7 -> org_acme, in dual
      if (!result.ok) throw new Error(`expected dual to accept: ${result.failure.reason}`);
      expect(authorize(result.principal, { orgId: 'org_acme' }).ok).toBe(true);
      provider.putConfiguration(flag('target'));
      const decision = await createAuthorizer().check(result.principal, { orgId: 'org_acme' });
      expect(!decision.ok && decision.failure).toMatchObject({
        reason: 'provider_disabled',
        provider: 'legacy',
      });
    } finally {
      await plane.close();
    }
  });

  it('authorize({ orgId }) re-checks a static mode synchronously', async () => {
    const plane = await createIdentityPlane({
      provider: 'migration',
      legacy: legacyConfig,
      target: targetConfig(dev),
      mode: 'dual',
      tenants: { orgs: { org_acme: 'target' } },
      links: { store: await linkedStore() },
    });
    try {
      // carol's team_9 maps to org_globex (dual): accepted; acting on org_globex is fine.
      const carol = await plane.verify(await legacyToken('carol'));
      if (!carol.ok) throw new Error('expected carol to verify');
      expect(authorize(carol.principal, { orgId: 'org_globex' }).ok).toBe(true);
      // A forged copy that claims org_acme (what a buggy middleware could produce) is still bound.
      const forged = { ...carol.principal, orgId: 'org_acme' };
      const check = authorize(forged, { orgId: 'org_acme' });
      expect(!check.ok && check.failure).toMatchObject({ reason: 'provider_disabled', provider: 'legacy' });
    } finally {
      await plane.close();
    }
  });
});

describe('tenantOf: an org-less credential is checked against its tenant at verification', () => {
  it('refuses the legacy token of a user whose tenant (via the org links) is in target', async () => {
    const tenantOf = (p: { subject: string }) => (p.subject === 'usr_alice' ? 'team_7' : null);
    const plane = await createIdentityPlane({
      provider: 'migration',
      legacy: legacyConfig,
      target: targetConfig(dev),
      mode: 'legacy',
      tenants: { orgs: { org_acme: 'target' } },
      links: { store: await linkedStore() },
      tenantOf,
    });
    try {
      const alice = await plane.verify(tokens.aliceOrgless as string);
      expect(!alice.ok && alice.failure).toMatchObject({ reason: 'provider_disabled', provider: 'legacy' });
      const bob = await plane.verify(await orglessLegacyToken(PEOPLE.bob.legacyId));
      expect(bob.ok).toBe(true);
    } finally {
      await plane.close();
    }
  });

  it('a hook that never answers is provider_unavailable within its deadline', async () => {
    const plane = await createIdentityPlane({
      provider: 'migration',
      legacy: legacyConfig,
      target: targetConfig(dev),
      links: { store: await linkedStore(), hookTimeoutMs: 100 },
      tenantOf: () => new Promise<string | null>(() => {}),
    });
    try {
      const started = Date.now();
      const r = await plane.verify(tokens.aliceOrgless as string);
      expect(!r.ok && r.failure.reason).toBe('provider_unavailable');
      expect(Date.now() - started).toBeLessThan(3000);
    } finally {
      await plane.close();
    }
  });
});

describe('API keys go through the tenant modes and links', () => {
  async function keyPlane(apiKeysSide?: 'legacy' | 'target') {
    const keys = createApiKeys({
      store: createMemoryApiKeyStore(),
      prefix: 'ap_test',
      isLegacyKey: (k) => k.startsWith('lk_'),
      legacyVerifier: async (k) =>
        k === 'lk_alice_acme'
          ? legacyApiKeyPrincipal({ keyId: '17', ownerId: '101', orgId: 'team_7', scopes: ['read'] })
          : k === 'lk_carol_globex'
            ? legacyApiKeyPrincipal({ keyId: '18', ownerId: '201', orgId: 'team_9', scopes: ['read'] })
            : null,
    });
    const plane = await createIdentityPlane({
      provider: 'migration',
      legacy: legacyConfig,
      target: targetConfig(dev),
      mode: 'dual',
      tenants: { orgs: { org_acme: 'target', org_globex: 'legacy' } },
      links: { store: await linkedStore() },
      apiKeys: keys,
      ...(apiKeysSide ? { apiKeysSide } : {}),
    });
    return { keys, plane };
  }

  it('a legacy key for a tenant in target is provider_disabled; in another tenant its owner is the linked subject', async () => {
    const { keys, plane } = await keyPlane();
    try {
      const acme = await plane.verify('lk_alice_acme');
      expect(!acme.ok && acme.failure).toMatchObject({ reason: 'provider_disabled', provider: 'legacy' });
      const globex = await plane.verify('lk_carol_globex');
      expect(globex.ok && globex.principal).toMatchObject({
        subject: 'usr_carol',
        orgId: 'org_globex',
        kind: 'api_key',
      });
      const unknown = await plane.verify('lk_nobody');
      expect(!unknown.ok && unknown.failure).toMatchObject({ reason: 'api_key_invalid', provider: 'legacy' });
    } finally {
      await plane.close();
      await keys.close();
    }
  });

  it('authplane keys belong to the target side by default, to the legacy side when configured', async () => {
    for (const side of ['target', 'legacy'] as const) {
      const { keys, plane } = await keyPlane(side === 'target' ? undefined : side);
      try {
        const acme = await keys.issue({ ownerId: 'usr_alice', orgId: 'org_acme', scopes: ['read'] });
        const globex = await keys.issue({ ownerId: 'usr_carol', orgId: 'org_globex', scopes: ['read'] });
        const a = await plane.verify(acme.key);
        const g = await plane.verify(globex.key);
        if (side === 'target') {
          expect(a.ok && a.principal.subject).toBe('usr_alice'); // issued to an internal owner: not relinked
          expect(!g.ok && g.failure).toMatchObject({ reason: 'provider_disabled', provider: 'oidc' });
        } else {
          expect(!a.ok && a.failure).toMatchObject({ reason: 'provider_disabled', provider: 'legacy' });
          expect(g.ok).toBe(true);
        }
      } finally {
        await plane.close();
        await keys.close();
      }
    }
  });

  it('a key accepted in its own tenant is still bound when it acts on a tenant in another mode', async () => {
    const { keys, plane } = await keyPlane();
    try {
      const r = await plane.verify('lk_carol_globex');
      if (!r.ok) throw new Error('expected the legacy key to verify');
      const check = authorize({ ...r.principal, orgId: 'org_acme' }, { orgId: 'org_acme' });
      expect(!check.ok && check.failure.reason).toBe('provider_disabled');
    } finally {
      await plane.close();
      await keys.close();
    }
  });
});

describe('unlinked identities never collide across providers', () => {
  it('legacy user 12 and target sub 12 are two subjects; links.require refuses both', async () => {
    const legacy12 = await orglessLegacyToken(12);
    const open = await createIdentityPlane({
      provider: 'migration',
      legacy: legacyConfig,
      target: targetConfig(dev),
      mode: 'dual',
      links: { store: await linkedStore() },
    });
    const strict = await createIdentityPlane({
      provider: 'migration',
      legacy: legacyConfig,
      target: targetConfig(dev),
      mode: 'dual',
      links: { store: await linkedStore(), require: true },
    });
    try {
      const l = await open.verify(legacy12);
      const t = await open.verify(tokens.twelveTarget as string);
      if (!l.ok || !t.ok) throw new Error('expected both to verify in dual');
      expect(l.principal.providerSubject).toBe('12');
      expect(t.principal.providerSubject).toBe('12');
      expect(l.principal.subject).toBe('legacy:12');
      expect(t.principal.subject).toBe('oidc:12');
      // Linked users keep their one internal subject.
      const alice = await strict.verify(tokens.aliceTarget as string);
      expect(alice.ok && alice.principal.subject).toBe('usr_alice');
      for (const token of [legacy12, tokens.twelveTarget as string]) {
        const r = await strict.verify(token);
        expect(!r.ok && r.failure.reason).toBe('subject_inactive');
      }
    } finally {
      await open.close();
      await strict.close();
    }
  });
});

describe('a failure names the side that refused', () => {
  it('legacy, target, mode and routing refusals', async () => {
    const plane = await createIdentityPlane({
      provider: 'migration',
      legacy: legacyConfig,
      target: targetConfig(dev),
      mode: 'dual',
      tenants: { orgs: { org_acme: 'target' } },
      links: { store: await linkedStore() },
    });
    try {
      const forged = await plane.verify(await legacyToken('carol', { secret: 'f'.repeat(40) }));
      expect(!forged.ok && forged.failure).toMatchObject({ reason: 'signature_invalid', provider: 'legacy' });
      const [h, p] = (tokens.aliceTarget as string).split('.');
      const tampered = await plane.verify(`${h}.${p}.${'A'.repeat(86)}`);
      expect(!tampered.ok && tampered.failure).toMatchObject({ provider: 'oidc' });
      const disabled = await plane.verify(await legacyToken('alice'));
      expect(!disabled.ok && disabled.failure).toMatchObject({
        reason: 'provider_disabled',
        provider: 'legacy',
      });
      const unroutable = await plane.verify('not-a-credential');
      expect(!unroutable.ok && unroutable.failure.provider).toBe('migration');
    } finally {
      await plane.close();
    }
  });
});
