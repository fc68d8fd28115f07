// A Django project migrating to the first-party issuer: the real SimpleJWT tokens of the fixtures
// (RS256 with team claims, HS256 without) and dev-issuer (oidc-provider) tokens side by side on one
// migration plane; tenants in `dual` accept both, tenants in `target` refuse the legacy ones; Django
// user ids are linked to internal subjects from a CSV, as `authplane migrate import-links` reads it.
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuthResult } from '../../src/core/failure';
import { type DevIssuer, type DevUser, startDevIssuer } from '../../src/dev/index';
import { createIdentityPlane } from '../../src/identity/create';
import { importLinks, type MigrationPlane } from '../../src/migration/index';
import { createMemoryIdentityLinkStore } from '../../src/stores/memory';
import {
  copyDjangoDatabase,
  type DjangoFixtures,
  FIXTURE_NOW_MS,
  FIXTURES_PRESENT,
  loadFixtures,
  SKIP_NOTE,
} from './django-fixtures';
import { requestWith, targetConfig, targetUserToken } from './migration-fixtures';

const describeFixtures = FIXTURES_PRESENT ? describe : describe.skip;
const fx = (FIXTURES_PRESENT ? loadFixtures() : null) as DjangoFixtures;

/** Django teams (the RS256 tokens' org_id) and the orgs they become. */
const TEAMS = { team_1: 'org_acme', team_2: 'org_globex' } as const;
/** The dev issuer's users: the same people, logged in with the new issuer. */
const USERS: DevUser[] = [
  { id: 'alice', email: 'alice@acme.test', name: 'Alice', orgId: 'org_acme', roles: ['admin'] },
  { id: 'bob', email: 'bob@globex.test', name: 'Bob', orgId: 'org_globex', roles: ['member'] },
];

/** The links CSV a Django export gives: Django primary key -> internal id, team -> org. */
function djangoLinksCsv(): string {
  const rows = ['type,provider,external_id,internal_id'];
  for (const login of ['alice', 'bob', 'carol'] as const) {
    rows.push(`user,legacy,${fx.users[login]},usr_${login}`);
    rows.push(`user,oidc,${login},usr_${login}`);
  }
  for (const [team, org] of Object.entries(TEAMS)) rows.push(`org,legacy,${team},${org}`);
  return `${rows.join('\n')}\n`;
}

const outcome = (r: AuthResult) => (r.ok ? 'ok' : r.failure.reason);

describeFixtures(`Django -> first-party issuer migration with the real SimpleJWT tokens${SKIP_NOTE}`, () => {
  let dev: DevIssuer;
  let plane: MigrationPlane;
  let users: Database.Database;
  const target: Record<string, string> = {};

  beforeAll(async () => {
    dev = await startDevIssuer({ users: USERS });
    users = new Database(copyDjangoDatabase(), { readonly: true });
    const links = createMemoryIdentityLinkStore();
    const imported = await importLinks(links, djangoLinksCsv(), { format: 'csv' });
    expect(imported.inserted).toBeGreaterThan(0);
    plane = await createIdentityPlane({
      provider: 'migration',
      legacy: {
        provider: 'legacy',
        // The fixture tokens are verified at the time Django issued them; the dev issuer's in real time.
        clock: () => FIXTURE_NOW_MS,
        verifiers: [
          {
            preset: 'simplejwt',
            publicKey: fx.secrets.rs256_public_pem,
            issuer: 'https://legacy.example',
            audience: 'https://api.legacy.example',
          },
          { preset: 'simplejwt', secret: fx.secrets.default },
          { preset: 'allauth-headless', publicKey: fx.secrets.rs256_public_pem },
        ],
        isActive: (p) =>
          (
            users.prepare('SELECT is_active FROM auth_user WHERE id = ?').get(Number(p.providerSubject)) as
              | { is_active: number }
              | undefined
          )?.is_active === 1,
      },
      target: targetConfig(dev),
      mode: 'dual',
      tenants: { orgs: { org_acme: 'target', org_globex: 'dual' } },
      links: { store: links },
    });
    target.alice = await targetUserToken(dev, 'alice');
    target.bob = await targetUserToken(dev, 'bob');
  }, 30_000);

  afterAll(async () => {
    await plane?.close();
    await dev?.stop();
    users?.close();
  });

  it('dual: a Django token and a dev-issuer token of the same user give one subject and one org', async () => {
    const legacy = await plane.authenticate(requestWith(fx.rs256.bob_access));
    const fresh = await plane.authenticate(requestWith(target.bob as string));
    expect(legacy.ok && legacy.principal).toMatchObject({
      subject: 'usr_bob',
      providerSubject: String(fx.users.bob),
      provider: 'legacy',
      orgId: 'org_globex',
    });
    expect(fresh.ok && fresh.principal).toMatchObject({
      subject: 'usr_bob',
      providerSubject: 'bob',
      provider: 'oidc',
      orgId: 'org_globex',
    });
  });

  it('target: org_acme refuses Django tokens (provider_disabled) and accepts the new issuer', async () => {
    for (const token of [fx.rs256.access, fx.rs256.rotated_access]) {
      const refused = await plane.authenticate(requestWith(token));
      expect(!refused.ok && [refused.failure.reason, refused.failure.status]).toEqual([
        'provider_disabled',
        401,
      ]);
    }
    const accepted = await plane.authenticate(requestWith(target.alice as string));
    expect(accepted.ok && accepted.principal).toMatchObject({ subject: 'usr_alice', orgId: 'org_acme' });
  });

  it('tokens without a team (HS256 SimpleJWT, allauth) follow the default mode, linked, and Django refusals stay refusals', async () => {
    const hs = await plane.verify(fx.hs256.access);
    expect(hs.ok && hs.principal).toMatchObject({ subject: 'usr_alice', orgId: null, provider: 'legacy' });
    const allauth = await plane.verify(fx.hs256.allauth.access);
    expect(allauth.ok && allauth.principal).toMatchObject({ subject: 'usr_alice', provider: 'legacy' });
    expect(outcome(await plane.verify(fx.hs256.refresh))).toBe('token_type_mismatch');
    expect(outcome(await plane.verify(fx.hs256.allauth.refresh))).toBe('token_type_mismatch');
    expect(outcome(await plane.verify(fx.hs256.carol_access))).toBe('subject_inactive');
    expect(outcome(await plane.verify(fx.hs256.other_secret_access))).toBe('signature_invalid');
    expect(outcome(await plane.verify(fx.rs256.expiring_access))).toBe('token_expired');
  });
});
