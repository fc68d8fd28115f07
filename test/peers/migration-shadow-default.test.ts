// A tenant in `shadow` compares by default (issue 16, "First: shadow mode must compare"), tried as a new
// user would: the README's runbook configuration, pasted exactly as the README shows it.
import { OpenFeature } from '@openfeature/server-sdk';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createIdentityPlane } from '../../src/identity/create';
import type { MigrationPlane } from '../../src/migration/index';
import { createMemoryIdentityLinkStore } from '../../src/stores/memory';

const SECRET = 'runbook-legacy-signing-key-0123456789-abcdef';
let plane: MigrationPlane;

beforeAll(async () => {
  process.env.LEGACY_SIGNING_KEY = SECRET;
  const links = createMemoryIdentityLinkStore();
  // --- pasted from README.md, "Migrating identity providers (runbook)" ---
  plane = await createIdentityPlane({
    provider: 'migration',
    legacy: { provider: 'legacy', secret: process.env.LEGACY_SIGNING_KEY },
    target: { provider: 'oidc', issuer: 'https://id.example.com', audience: 'https://api.example.com' },
    mode: 'legacy', // the deployed default
    tenants: { orgs: { org_pilot: 'shadow' }, rollout: { mode: 'dual', percent: 10 } },
    modeFlag: { client: OpenFeature.getClient() }, // optional: any flag service drives the modes
    links: { store: links }, // an IdentityLinkStore (memory, SQLite, PostgreSQL)
  });
  // --- end of the pasted block ---
});

afterAll(async () => {
  await plane?.close();
  delete process.env.LEGACY_SIGNING_KEY;
});

async function legacyToken(orgId: string): Promise<string> {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({ token_type: 'access', user_id: 7, org_id: orgId, jti: `j${now}${Math.random()}` })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setIssuedAt(now - 5)
    .setExpirationTime(now + 600)
    .sign(new TextEncoder().encode(SECRET));
}

// A target-side token by its shape and issuer (the README's issuer is not reachable from a test: the
// target answers provider_unavailable, which the comparison records as a decision divergence).
const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
const targetShaped = `${b64({ alg: 'RS256', kid: 'k1', typ: 'at+jwt' })}.${b64({
  iss: 'https://id.example.com',
  aud: 'https://api.example.com',
  sub: 'u7',
  exp: Math.floor(Date.now() / 1000) + 600,
})}.${'A'.repeat(43)}`;

const request = (token: string, shadow?: string) =>
  new Request('https://api.example.com/items', {
    headers: { authorization: `Bearer ${token}`, ...(shadow ? { 'x-authplane-shadow-token': shadow } : {}) },
  });

describe('shadow mode with the runbook configuration', () => {
  it('an empty report says why nothing was compared', () => {
    const report = plane.migration.report();
    expect(report.comparisons).toBe(0);
    expect(report.why).toContain('no request was accepted for a tenant in shadow mode');
  });

  it('a shadow-mode request without the target credential is counted and the report names the header', async () => {
    const r = await plane.authenticate(request(await legacyToken('org_pilot')));
    expect(r.ok).toBe(true);
    await plane.migration.flush();
    const report = plane.migration.report();
    expect(report).toMatchObject({ comparisons: 0, shadowRequests: 1 });
    expect(report.skipped.noTargetCredential).toBe(1);
    expect(report.why).toContain('x-authplane-shadow-token');
  });

  it('compares a pilot-tenant request without any `shadow` option', async () => {
    const r = await plane.authenticate(request(await legacyToken('org_pilot'), targetShaped));
    expect(r.ok && r.principal.provider).toBe('legacy'); // legacy decides in shadow
    await plane.migration.flush();
    const report = plane.migration.report();
    expect(report.comparisons).toBe(1);
    expect(report.byTenant.org_pilot?.comparisons).toBe(1);
    expect(report.why).toBeNull();
  }, 20_000);

  it('a tenant outside shadow is never compared', async () => {
    plane.migration.resetReport();
    const r = await plane.authenticate(request(await legacyToken('org_other'), targetShaped));
    expect(r.ok).toBe(true);
    await plane.migration.flush();
    expect(plane.migration.report()).toMatchObject({ comparisons: 0, shadowRequests: 0 });
  });
});
