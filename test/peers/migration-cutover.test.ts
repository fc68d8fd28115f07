// The cutover, end to end against real peers: legacy HS256 tokens (legacy adapter) and oidc-provider
// tokens (dev issuer) for the same linked users; org_acme moved legacy -> shadow -> dual -> target and
// back by OpenFeature flag changes, without restart.
import { InMemoryProvider, OpenFeature } from '@openfeature/server-sdk';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuthResult } from '../../src/core/failure';
import { type DevIssuer, startDevIssuer } from '../../src/dev/index';
import { createIdentityPlane } from '../../src/identity/create';
import {
  importLinks,
  type MigrationMode,
  type MigrationPlane,
  type ShadowEvent,
} from '../../src/migration/index';
import { createMemoryIdentityLinkStore } from '../../src/stores/memory';
import {
  LEGACY_SECRET,
  legacyConfig,
  legacyToken,
  linksCsv,
  requestWith,
  targetConfig,
  targetUserToken,
} from './migration-fixtures';

const FLAG = 'authplane-migration-mode';
const DOMAIN = 'migration-cutover';

function flags(acme: MigrationMode | 'bogus') {
  return {
    [FLAG]: {
      variants: { legacy: 'legacy', shadow: 'shadow', dual: 'dual', target: 'target', bogus: 'bogus' },
      defaultVariant: 'legacy',
      disabled: false,
      contextEvaluator: (ctx: { targetingKey?: string }) =>
        ctx.targetingKey === 'org_acme' ? acme : 'legacy',
    },
  };
}

let dev: DevIssuer;
let plane: MigrationPlane;
const flagProvider = new InMemoryProvider(flags('legacy'));
const events: ShadowEvent[] = [];
const tokens: Record<string, string> = {};

beforeAll(async () => {
  dev = await startDevIssuer();
  await OpenFeature.setProviderAndWait(DOMAIN, flagProvider);
  const links = createMemoryIdentityLinkStore();
  await importLinks(links, linksCsv(), { format: 'csv' });
  plane = await createIdentityPlane({
    provider: 'migration',
    legacy: legacyConfig,
    target: targetConfig(dev),
    mode: 'legacy',
    modeFlag: { client: OpenFeature.getClient(DOMAIN), errorMode: 'dual' },
    links: { store: links },
    shadow: { onEvent: (e) => events.push(e) },
  });
  tokens.aliceLegacy = await legacyToken('alice');
  tokens.bobLegacy = await legacyToken('bob');
  tokens.carolLegacy = await legacyToken('carol');
  tokens.aliceTarget = await targetUserToken(dev, 'alice');
  tokens.bobTarget = await targetUserToken(dev, 'bob');
  tokens.carolTarget = await targetUserToken(dev, 'carol');
}, 30_000);

afterAll(async () => {
  await plane?.close();
  await OpenFeature.clearProviders();
  await dev?.stop();
});

async function setMode(mode: MigrationMode | 'bogus') {
  flagProvider.putConfiguration(flags(mode));
}

const check = (result: AuthResult) => (result.ok ? 'ok' : result.failure.reason);

async function decisions() {
  const out: Record<string, string> = {};
  for (const name of ['aliceLegacy', 'aliceTarget', 'carolLegacy', 'carolTarget'] as const) {
    out[name] = check(await plane.authenticate(requestWith(tokens[name] as string)));
  }
  return out;
}

describe('migration cutover (legacy adapter + dev issuer, OpenFeature flags)', () => {
  it('links both providers to one subject and maps the legacy team to the target org', async () => {
    await setMode('dual');
    const legacy = await plane.verify(tokens.aliceLegacy as string);
    const target = await plane.verify(tokens.aliceTarget as string);
    if (!legacy.ok || !target.ok) throw new Error('expected both to pass in dual');
    expect(legacy.principal).toMatchObject({
      subject: 'usr_alice',
      provider: 'legacy',
      providerSubject: '101',
      orgId: 'org_acme',
    });
    expect(target.principal).toMatchObject({
      subject: 'usr_alice',
      provider: 'oidc',
      providerSubject: 'alice',
      orgId: 'org_acme',
    });
    expect(legacy.principal.roles).toEqual(target.principal.roles);
  });

  it('walks org_acme legacy -> shadow -> dual -> target -> dual -> legacy; org_globex stays legacy', async () => {
    const expected: Record<MigrationMode, Record<string, string>> = {
      legacy: { aliceLegacy: 'ok', aliceTarget: 'provider_disabled' },
      shadow: { aliceLegacy: 'ok', aliceTarget: 'provider_disabled' },
      dual: { aliceLegacy: 'ok', aliceTarget: 'ok' },
      target: { aliceLegacy: 'provider_disabled', aliceTarget: 'ok' },
    };
    const globex = { carolLegacy: 'ok', carolTarget: 'provider_disabled' };
    for (const mode of ['legacy', 'shadow', 'dual', 'target', 'dual', 'shadow', 'legacy'] as const) {
      await setMode(mode);
      // The very next request sees the new mode: no restart, no cache.
      expect({ mode, ...(await decisions()) }).toEqual({ mode, ...expected[mode], ...globex });
      expect((await plane.migration.modeOf('org_acme')).mode).toBe(mode);
    }
    expect(plane.migration.report().refusals.legacy).toBeGreaterThan(0);
    expect(plane.migration.report().refusals.target).toBeGreaterThan(0);
  });

  it('refuses with provider_disabled as a 401 invalid_token with a safe message', async () => {
    await setMode('target');
    const result = await plane.authenticate(requestWith(tokens.aliceLegacy as string));
    if (result.ok) throw new Error('expected a refusal');
    expect(result.failure).toMatchObject({
      reason: 'provider_disabled',
      status: 401,
      error: 'invalid_token',
    });
    expect(result.failure.message).not.toContain(tokens.aliceLegacy);
    expect(result.failure.challenge).toContain('invalid_token');
  });

  it('in shadow: returns the legacy decision and compares the paired target token off the hot path', async () => {
    await setMode('shadow');
    plane.migration.resetReport();
    events.length = 0;
    // alice: same subject, org, scopes, roles -> agreed.
    const agreed = await plane.authenticate(requestWith(tokens.aliceLegacy as string, tokens.aliceTarget));
    expect(agreed.ok && agreed.principal.provider).toBe('legacy');
    // bob's legacy token says admin, the target says member -> roles divergence.
    const bobAdmin = await legacyToken('bob', { roles: ['admin'] });
    expect((await plane.authenticate(requestWith(bobAdmin, tokens.bobTarget))).ok).toBe(true);
    // an expired legacy token beside a valid target token -> decision divergence (tenant from the target).
    const expired = await legacyToken('alice', { expiresInSec: -60 });
    const refused = await plane.authenticate(requestWith(expired, tokens.aliceTarget));
    expect(!refused.ok && refused.failure.reason).toBe('token_expired');
    // the paired token of another user -> subject divergence.
    expect((await plane.authenticate(requestWith(tokens.aliceLegacy as string, tokens.bobTarget))).ok).toBe(
      true,
    );
    // no paired token: nothing to compare.
    expect((await plane.authenticate(requestWith(tokens.aliceLegacy as string))).ok).toBe(true);
    await plane.migration.flush();

    const report = plane.migration.report();
    expect(report).toMatchObject({ comparisons: 4, agreed: 1, diverged: 3 });
    expect(report.byClass).toEqual({ decision: 1, subject: 1, org: 0, scopes: 0, roles: 2 });
    expect(report.byTenant.org_acme).toMatchObject({ comparisons: 4, diverged: 3 });
    expect(report.skipped.noTargetCredential).toBe(1);
    expect(events.map((e) => e.classes.join('+'))).toEqual(['', 'roles', 'decision', 'subject+roles']);
    // No credential anywhere in the report or events.
    const text = JSON.stringify({ report, events });
    for (const t of [...Object.values(tokens), bobAdmin, expired, LEGACY_SECRET])
      expect(text).not.toContain(t);
  });

  it('outside shadow nothing is compared, even with a paired token', async () => {
    await setMode('dual');
    plane.migration.resetReport();
    await plane.authenticate(requestWith(tokens.aliceLegacy as string, tokens.aliceTarget));
    await plane.migration.flush();
    expect(plane.migration.report().comparisons).toBe(0);
  });

  it('a flag that answers garbage falls back to the configured safe mode (dual) and is counted', async () => {
    plane.migration.resetReport();
    await setMode('bogus');
    expect(await decisions()).toMatchObject({ aliceLegacy: 'ok', aliceTarget: 'ok' });
    expect(await plane.migration.modeOf('org_acme')).toEqual({ mode: 'dual', source: 'flag_error' });
    expect(plane.migration.report().flagErrors).toBeGreaterThanOrEqual(2);
  });

  it('routes to exactly one side: a forged legacy token fails at legacy, an unknown issuer is refused', async () => {
    await setMode('dual');
    const legacyKeyForged = await legacyToken('alice', { secret: 'x'.repeat(40) });
    const r1 = await plane.verify(legacyKeyForged);
    expect(!r1.ok && r1.failure.reason).toBe('signature_invalid');
    const foreign = (tokens.aliceTarget as string).split('.');
    const payload = Buffer.from(
      JSON.stringify({ iss: 'https://elsewhere.example', sub: 'x', exp: 9e9 }),
    ).toString('base64url');
    const r2 = await plane.verify(`${foreign[0]}.${payload}.${foreign[2]}`);
    expect(!r2.ok && r2.failure.reason).toBe('issuer_mismatch');
    const r3 = await plane.verify('opaque-token-without-dots');
    expect(!r3.ok && r3.failure.reason).toBe('credentials_malformed');
  });
});
