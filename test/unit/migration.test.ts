import { InMemoryProvider, OpenFeature } from '@openfeature/server-sdk';
import { afterAll, describe, expect, it } from 'vitest';
import { AuthRejection } from '../../src/core/failure';
import { freezePrincipal } from '../../src/core/principal';
import type { IdentityAdapter } from '../../src/identity/types';
import {
  byVerifiedEmail,
  composeMigrationPlane,
  createModeResolver,
  createRouter,
  importLinks,
  LinkImportError,
  migrationModesFromEnv,
  parseLinkFile,
  rolloutBucket,
  summarizeShadowEvents,
} from '../../src/migration/index';
import { createMemoryIdentityLinkStore } from '../../src/stores/memory';

const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
const jwt = (payload: Record<string, unknown>) => `${b64({ alg: 'ES256' })}.${b64(payload)}.c2ln`;
const hs = (payload: Record<string, unknown>) => `${b64({ alg: 'HS256', typ: 'JWT' })}.${b64(payload)}.c2ln`;

afterAll(async () => {
  await OpenFeature.clearProviders();
});

describe('mode resolution', () => {
  it('org override, then a stable percentage rollout, then the default', () => {
    const r = createModeResolver({
      mode: 'legacy',
      tenants: { orgs: { org_acme: 'target' }, rollout: { mode: 'shadow', percent: 25 } },
    });
    expect(r.resolve('org_acme')).toBe('target');
    expect(r.resolve(null)).toBe('legacy');
    const orgs = Array.from({ length: 4000 }, (_, i) => `org_${i}`);
    const inRollout = orgs.filter((o) => r.resolve(o) === 'shadow');
    expect(inRollout.length / orgs.length).toBeGreaterThan(0.22);
    expect(inRollout.length / orgs.length).toBeLessThan(0.28);
    // Stable: the same bucket every time, and a larger percentage keeps every tenant already in.
    const wider = createModeResolver({ tenants: { rollout: { mode: 'shadow', percent: 50 } } });
    for (const o of inRollout) expect(wider.resolve(o)).toBe('shadow');
    expect(rolloutBucket('org_acme')).toBe(rolloutBucket('org_acme'));
    expect(rolloutBucket('org_acme', 'seed2')).not.toBe(rolloutBucket('org_acme'));
    expect(() => createModeResolver({ tenants: { rollout: { mode: 'dual', percent: 101 } } })).toThrow(
      /percent/,
    );
  });

  it('reads an OpenFeature flag per tenant, sees changes on the next evaluation, counts errors', async () => {
    const domain = 'unit-modes';
    const provider = new InMemoryProvider({
      m: { variants: { dual: 'dual', target: 'target' }, defaultVariant: 'dual', disabled: false },
    });
    await OpenFeature.setProviderAndWait(domain, provider);
    const errors: string[] = [];
    const r = createModeResolver({
      mode: 'legacy',
      tenants: { orgs: { org_static: 'shadow' } },
      modeFlag: { client: OpenFeature.getClient(domain), key: 'm' },
      onFlagError: (_o, kind) => errors.push(kind),
    });
    expect(await r.resolve('org_a')).toBe('dual');
    provider.putConfiguration({
      m: { variants: { dual: 'dual', target: 'target' }, defaultVariant: 'target', disabled: false },
    });
    expect(await r.resolve('org_a')).toBe('target');
    // A disabled flag hands back the static answer (not an error).
    provider.putConfiguration({ m: { variants: { dual: 'dual' }, defaultVariant: 'dual', disabled: true } });
    expect(await r.explain('org_static')).toEqual({ mode: 'shadow', source: 'org' });
    // Flag missing: errorMode 'static' (the default) = the tenant's static mode, counted.
    provider.putConfiguration({});
    expect(await r.explain('org_static')).toEqual({ mode: 'shadow', source: 'flag_error' });
    expect(errors).toEqual(['FLAG_NOT_FOUND']);
  });

  it('times out a slow flag client and uses errorMode; caches until the provider says it changed', async () => {
    let calls = 0;
    const handlers: Array<() => void> = [];
    const slow = createModeResolver({
      modeFlag: {
        client: { getStringDetails: () => new Promise(() => {}) },
        timeoutMs: 20,
        errorMode: 'legacy',
      },
    });
    expect(await slow.explain('org_a')).toEqual({ mode: 'legacy', source: 'flag_error' });
    let value = 'dual';
    const cached = createModeResolver({
      modeFlag: {
        client: {
          getStringDetails: async () => {
            calls++;
            return { value, reason: 'TARGETING_MATCH' };
          },
          addHandler: (_e, h) => handlers.push(h),
        },
        cacheUntilChanged: true,
      },
    });
    expect(await cached.resolve('org_a')).toBe('dual');
    value = 'target';
    expect(cached.resolve('org_a')).toBe('dual'); // synchronous cache hit
    for (const h of handlers) h(); // PROVIDER_CONFIGURATION_CHANGED
    expect(await cached.resolve('org_a')).toBe('target');
    expect(calls).toBe(2);
  });

  it('reads static modes from the environment, naming the variable on error', () => {
    expect(
      migrationModesFromEnv({
        AUTHPLANE_MIGRATION_MODE: 'shadow',
        AUTHPLANE_MIGRATION_TENANTS: 'org_a=dual, org_b=target',
        AUTHPLANE_MIGRATION_ROLLOUT: 'dual:12.5:s1',
      }),
    ).toEqual({
      mode: 'shadow',
      tenants: {
        orgs: { org_a: 'dual', org_b: 'target' },
        rollout: { mode: 'dual', percent: 12.5, seed: 's1' },
      },
    });
    expect(() => migrationModesFromEnv({ AUTHPLANE_MIGRATION_TENANTS: 'org_a=sideways' })).toThrow(
      /AUTHPLANE_MIGRATION_TENANTS/,
    );
  });
});

describe('routing', () => {
  const route = createRouter({
    targetIssuers: ['https://id.example'],
    legacyIssuers: ['https://old.example'],
    legacyPrefixes: ['lk_'],
  });
  it('routes by unverified issuer, legacy marker claim and prefix to exactly one side', () => {
    expect(route(jwt({ iss: 'https://id.example' }))).toBe('target');
    expect(route(jwt({ iss: 'https://old.example' }))).toBe('legacy');
    expect(route(jwt({ token_type: 'access', user_id: 1 }))).toBe('legacy');
    expect(route('lk_abc123')).toBe('legacy');
    // HMAC tokens go to legacy from the header alone: no target adapter accepts HMAC.
    expect(route(hs({ iss: 'https://id.example' }))).toBe('legacy');
    expect(
      createRouter({ targetIssuers: ['https://id.example'], hmacIsLegacy: false })(
        hs({ iss: 'https://id.example' }),
      ),
    ).toBe('target');
  });
  it('refuses what no side would take', () => {
    const reason = (t: string) => {
      try {
        route(t);
        return 'routed';
      } catch (e) {
        return (e as AuthRejection).reason;
      }
    };
    expect(reason(jwt({ iss: 'https://evil.example' }))).toBe('issuer_mismatch');
    expect(reason(jwt({ sub: 'x' }))).toBe('credentials_malformed');
    expect(reason('opaque')).toBe('credentials_malformed');
    expect(reason('a.%%%.c')).toBe('credentials_malformed');
    expect(reason(jwt({ iss: 42 }))).toBe('claims_invalid');
    expect(createRouter({ opaque: 'target' })('opaque')).toBe('target');
  });
});

describe('link files', () => {
  it('parses CSV with quoting and aliases, and JSON in both shapes', () => {
    const csv = 'provider,provider_subject,subject\nlegacy,42,usr_42\n"oidc","a,b","usr ""x"""\n\n';
    expect(parseLinkFile(csv, 'csv').links).toEqual([
      { provider: 'legacy', providerSubject: '42', subject: 'usr_42' },
      { provider: 'oidc', providerSubject: 'a,b', subject: 'usr "x"' },
    ]);
    const json = JSON.stringify({
      links: [{ provider: 'legacy', providerSubject: '1', subject: 'u1' }],
      orgs: [{ provider: 'legacy', externalOrgId: 't1', orgId: 'o1' }],
    });
    expect(parseLinkFile(json, 'json')).toEqual({
      links: [{ provider: 'legacy', providerSubject: '1', subject: 'u1' }],
      orgs: [{ provider: 'legacy', externalOrgId: 't1', orgId: 'o1' }],
    });
    expect(
      parseLinkFile('{"provider":"legacy","externalOrgId":"t1","orgId":"o1"}\n', 'jsonl').orgs,
    ).toHaveLength(1);
  });

  it('reports every bad line, without values, and writes nothing', async () => {
    const store = createMemoryIdentityLinkStore();
    const csv = [
      'type,provider,external_id,internal_id',
      'user,legacy,1,usr_1',
      'user,legacy,,usr_2',
      'robot,legacy,3,usr_3',
      'user,legacy,1,usr_other',
      'user,legacy,4',
      'user,legacy,5,secret-value\u0001',
    ].join('\n');
    const err = await importLinks(store, csv, { format: 'csv' }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(LinkImportError);
    expect((err as LinkImportError).issues).toEqual([
      { line: 3, message: 'provider_subject is empty' },
      { line: 4, message: 'type must be "user" or "org"' },
      { line: 5, message: 'links the same identity as line 2 to another subject' },
      { line: 6, message: 'expected 4 fields, found 3' },
      { line: 7, message: 'subject contains control characters' },
    ]);
    expect((err as Error).message).not.toContain('secret-value');
    expect(await store.resolve('legacy', '1')).toBeNull();
  });

  it('is idempotent, and reports a conflict with stored links by line', async () => {
    const store = createMemoryIdentityLinkStore();
    const csv = 'provider,external_id,internal_id\nlegacy,1,usr_1\nlegacy,2,usr_2\n';
    expect(await importLinks(store, csv, { format: 'csv' })).toEqual({
      links: 2,
      orgs: 0,
      inserted: 2,
      unchanged: 0,
    });
    expect(await importLinks(store, csv, { format: 'csv' })).toEqual({
      links: 2,
      orgs: 0,
      inserted: 0,
      unchanged: 2,
    });
    const err = await importLinks(
      store,
      'provider,external_id,internal_id\nlegacy,3,usr_3\nlegacy,2,usr_9\n',
      { format: 'csv' },
    ).catch((e: unknown) => e);
    expect((err as LinkImportError).issues).toEqual([
      { line: 3, message: 'the identity is already linked to another subject' },
    ]);
    expect(await store.resolve('legacy', '3')).toBeNull();
  });
});

// Hand-written adapters: real IdentityAdapter implementations standing in for two providers, so the
// plane's composition is tested without any network.
function fakeSide(
  name: 'legacy' | 'oidc',
  claims: (token: string) => Record<string, unknown> | null,
): IdentityAdapter {
  return {
    name,
    async verify(token) {
      const c = claims(token);
      if (!c) throw new AuthRejection('signature_invalid');
      return freezePrincipal({
        subject: String(c.sub),
        providerSubject: String(c.sub),
        provider: name,
        kind: 'user',
        orgId: (c.org as string) ?? null,
        roles: [],
        scopes: [],
        sessionId: null,
        expiresAt: null,
        authMethod: 'jwt',
        claims: c,
      });
    },
  };
}
const decode = (t: string) =>
  JSON.parse(Buffer.from(t.split('.')[1] as string, 'base64url').toString()) as Record<string, unknown>;

describe('composeMigrationPlane', () => {
  it('links on first sight by verified email, once; an unlinked identity gets a provider-namespaced subject', async () => {
    const store = createMemoryIdentityLinkStore();
    const lookups: string[] = [];
    const plane = composeMigrationPlane(
      { legacy: fakeSide('legacy', decode), target: fakeSide('oidc', decode) },
      {
        mode: 'dual',
        routing: { targetIssuers: ['https://id.example'] },
        links: {
          store,
          onFirstSight: byVerifiedEmail((email) => {
            lookups.push(email);
            return email === 'dana@acme.test' ? 'usr_dana' : null;
          }),
        },
      },
    );
    const verified = jwt({
      iss: 'https://id.example',
      sub: 'auth|dana',
      email: 'Dana@acme.test',
      email_verified: true,
    });
    const first = await plane.verify(verified);
    const again = await plane.verify(verified);
    expect(first.ok && first.principal.subject).toBe('usr_dana');
    expect(again.ok && again.principal.subject).toBe('usr_dana');
    expect(await store.resolve('oidc', 'auth|dana')).toBe('usr_dana');
    expect(lookups).toEqual(['dana@acme.test']);
    const unverified = await plane.verify(
      jwt({ iss: 'https://id.example', sub: 'auth|eve', email: 'dana@acme.test', email_verified: false }),
    );
    expect(unverified.ok && unverified.principal.subject).toBe('oidc:auth|eve');
    await plane.close();
  });

  it('links orgs on first sight through a hook, once, and records the org link', async () => {
    const store = createMemoryIdentityLinkStore();
    const seen: string[] = [];
    const plane = composeMigrationPlane(
      { legacy: fakeSide('legacy', decode), target: fakeSide('oidc', decode) },
      {
        mode: 'dual',
        routing: { targetIssuers: ['https://id.example'] },
        links: {
          store,
          onFirstSightOrg: ({ provider, externalOrgId }) => {
            seen.push(`${provider}/${externalOrgId}`);
            return externalOrgId === 'team_7' ? 'org_acme' : null;
          },
        },
      },
    );
    const token = hs({ token_type: 'access', sub: 'u1', org: 'team_7' });
    const first = await plane.verify(token);
    const again = await plane.verify(token);
    expect(first.ok && first.principal.orgId).toBe('org_acme');
    expect(again.ok && again.principal.orgId).toBe('org_acme');
    expect(await store.resolveOrg('legacy', 'team_7')).toBe('org_acme');
    // An org the hook does not know keeps the provider's id, and is asked once too.
    const other = hs({ token_type: 'access', sub: 'u1', org: 'team_x' });
    expect((await plane.verify(other)).ok && (await plane.verify(other)).ok).toBe(true);
    expect(seen).toEqual(['legacy/team_7', 'legacy/team_x']);
    await plane.close();
  });

  it('org links decide the tenant mode: a legacy team linked on first sight to a target tenant is refused', async () => {
    const plane = composeMigrationPlane(
      { legacy: fakeSide('legacy', decode), target: fakeSide('oidc', decode) },
      {
        mode: 'dual',
        tenants: { orgs: { org_acme: 'target' } },
        routing: { targetIssuers: ['https://id.example'] },
        links: { onFirstSightOrg: ({ externalOrgId }) => (externalOrgId === 'team_7' ? 'org_acme' : null) },
      },
    );
    const r = await plane.verify(hs({ token_type: 'access', sub: 'u1', org: 'team_7' }));
    expect(!r.ok && r.failure).toMatchObject({ reason: 'provider_disabled', provider: 'legacy' });
    await plane.close();
  });

  it('a first-sight hook that never answers is provider_unavailable within its deadline', async () => {
    const plane = composeMigrationPlane(
      { legacy: fakeSide('legacy', decode), target: fakeSide('oidc', decode) },
      {
        mode: 'dual',
        routing: { targetIssuers: ['https://id.example'] },
        links: {
          hookTimeoutMs: 50,
          onFirstSight: () => new Promise<string | null>(() => {}),
          onFirstSightOrg: () => new Promise<string | null>(() => {}),
        },
      },
    );
    const started = Date.now();
    const r1 = await plane.verify(jwt({ iss: 'https://id.example', sub: 'x' }));
    const r2 = await plane.verify(hs({ token_type: 'access', sub: 'x', org: 'team_1' }));
    expect(!r1.ok && r1.failure.reason).toBe('provider_unavailable');
    expect(!r2.ok && r2.failure.reason).toBe('provider_unavailable');
    expect(Date.now() - started).toBeLessThan(3000);
    await plane.close();
  });

  it('fails closed when the link store is down', async () => {
    const store = createMemoryIdentityLinkStore();
    const broken = { ...store, resolve: async () => Promise.reject(new Error('down')) };
    const plane = composeMigrationPlane(
      { legacy: fakeSide('legacy', decode), target: fakeSide('oidc', decode) },
      {
        mode: 'dual',
        routing: { targetIssuers: ['https://id.example'] },
        links: { store: broken, cacheTtlSec: 0 },
      },
    );
    const r = await plane.verify(jwt({ iss: 'https://id.example', sub: 'x' }));
    expect(!r.ok && r.failure.reason).toBe('provider_unavailable');
  });

  it('never delays the request for shadow work: a full queue drops and counts', async () => {
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => (release = resolve));
    const slowTarget: IdentityAdapter = {
      name: 'oidc',
      async verify(token) {
        await gate;
        return fakeSide('oidc', decode).verify(token, { traceId: 't' });
      },
    };
    const plane = composeMigrationPlane(
      { legacy: fakeSide('legacy', decode), target: slowTarget },
      {
        mode: 'shadow',
        routing: { targetIssuers: ['https://id.example'] },
        // u1 is linked on neither side: the subjects differ (legacy:u1 vs oidc:u1), which is not what this test is about.
        shadow: { queueSize: 2, concurrency: 1, ignore: ['subject'] },
      },
    );
    const legacy = jwt({ token_type: 'access', sub: 'u1', org: 'org_a' });
    const target = jwt({ iss: 'https://id.example', sub: 'u1', org: 'org_a' });
    const started = performance.now();
    for (let i = 0; i < 10; i++) {
      const r = await plane.authenticate(
        new Request('https://x.test', {
          headers: { authorization: `Bearer ${legacy}`, 'x-authplane-shadow-token': target },
        }),
      );
      expect(r.ok).toBe(true);
    }
    expect(performance.now() - started).toBeLessThan(1000); // the target never answered, yet every request returned
    release();
    await plane.migration.flush();
    const report = plane.migration.report();
    expect(report.comparisons + report.dropped.queueFull).toBe(10);
    expect(report.dropped.queueFull).toBeGreaterThanOrEqual(7);
    expect(report.agreed).toBe(report.comparisons);
    await plane.close();
  });

  it('samples and summarises events from a JSON-lines file', () => {
    const side = { decision: 'accept', reason: null, subject: 's', orgId: 'o', scopes: [], roles: [] };
    const lines = [
      {
        type: 'migration.shadow',
        time: '2024-01-01T00:00:00.000Z',
        traceId: 't',
        tenant: 'org_a',
        outcome: 'diverged',
        classes: ['scopes'],
        legacy: side,
        target: side,
      },
      {
        type: 'migration.shadow',
        time: '2024-01-01T00:00:01.000Z',
        traceId: 't',
        tenant: 'org_a',
        outcome: 'agreed',
        classes: [],
        legacy: side,
        target: side,
      },
      { nope: true },
    ];
    const report = summarizeShadowEvents(lines);
    expect(report).toMatchObject({
      since: '2024-01-01T00:00:00.000Z',
      comparisons: 2,
      diverged: 1,
      errors: 1,
    });
    expect(report.byClass.scopes).toBe(1);
    expect(report.byTenant.org_a?.diverged).toBe(1);
  });
});

describe("createIdentityPlane({ provider: 'migration' }) configuration", () => {
  const legacy = { provider: 'legacy' as const, secret: 'x'.repeat(40) };
  const target = { provider: 'oidc' as const, issuer: 'https://id.example', audience: 'a' };
  it.each([
    [{ legacy: { provider: 'legacy' }, target }, 'legacy.secret'],
    [{ legacy, target: { ...target, issuer: 'nope' } }, 'target.issuer'],
    [{ legacy, target: { provider: 'auth0', domain: 'acme.auth0.com', audience: 'a' } }, 'flags.auth0'],
    [{ legacy, target, tenants: { rollout: { mode: 'dual', percent: 120 } } }, 'tenants.rollout.percent'],
    [{ legacy, target, mode: 'sideways' }, 'mode'],
  ])('refuses %j with a ConfigError at %s', async (fields, path) => {
    const { createIdentityPlane } = await import('../../src/identity/create');
    await expect(createIdentityPlane({ provider: 'migration', ...fields } as never)).rejects.toMatchObject({
      path,
    });
  });
});
