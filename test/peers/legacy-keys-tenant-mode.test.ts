// drf-api-key keys of the real Django fixtures on a migration plane: a legacy key must follow its
// tenant's mode like a legacy token (refused in `target`, accepted in `dual`) and be linked to the
// internal subject and org. DEPENDS ON the migration plane routing API keys through tenant modes and
// links (engineer `mig`'s branch); it fails on a branch without that routing.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDrfApiKeyVerifier, type DrfApiKeyVerifier } from '../../providers/legacy/index';
import { type ApiKeys, createApiKeys } from '../../src/apikeys/keys';
import { type DevIssuer, startDevIssuer } from '../../src/dev/index';
import { createIdentityPlane } from '../../src/identity/create';
import { importLinks, type MigrationPlane } from '../../src/migration/index';
import { createMemoryApiKeyStore, createMemoryIdentityLinkStore } from '../../src/stores/memory';
import {
  copyDjangoDatabase,
  type DjangoFixtures,
  FIXTURE_NOW_MS,
  FIXTURES_PRESENT,
  loadFixtures,
  SKIP_NOTE,
} from './django-fixtures';
import { targetConfig } from './migration-fixtures';

const describeFixtures = FIXTURES_PRESENT ? describe : describe.skip;
const fx = (FIXTURES_PRESENT ? loadFixtures() : null) as DjangoFixtures;
/** The Django team of each key owner (what a real deployment reads from its team table). */
const TEAM_OF_USER: Record<string, string> = { '10': 'team_1', '11': 'team_2' };

describeFixtures(`Legacy drf-api-key keys follow the tenant mode on a migration plane${SKIP_NOTE}`, () => {
  let dev: DevIssuer;
  let drf: DrfApiKeyVerifier;
  let keys: ApiKeys;
  let plane: MigrationPlane;

  beforeAll(async () => {
    dev = await startDevIssuer();
    const links = createMemoryIdentityLinkStore();
    await importLinks(
      links,
      [
        'type,provider,external_id,internal_id',
        `user,legacy,${fx.users.alice},usr_alice`,
        `user,legacy,${fx.users.bob},usr_bob`,
        'org,legacy,team_1,org_acme',
        'org,legacy,team_2,org_globex',
        '',
      ].join('\n'),
      { format: 'csv' },
    );
    drf = createDrfApiKeyVerifier({
      database: `sqlite:${copyDjangoDatabase()}`,
      table: 'legacyapi_userapikey',
      orgId: (row) => TEAM_OF_USER[row.ownerId] ?? null,
      scopes: ['read'],
      clock: () => FIXTURE_NOW_MS,
    });
    keys = createApiKeys({ store: createMemoryApiKeyStore(), prefix: 'ap_live', ...drf });
    plane = await createIdentityPlane({
      provider: 'migration',
      legacy: { provider: 'legacy', preset: 'simplejwt', secret: fx.secrets.default },
      target: targetConfig(dev),
      mode: 'dual',
      tenants: { orgs: { org_acme: 'target', org_globex: 'dual' } },
      links: { store: links },
      apiKeys: keys,
      apiKeySchemes: ['Api-Key'],
    });
  }, 30_000);

  afterAll(async () => {
    await plane?.close();
    await keys?.close();
    await drf?.close();
    await dev?.stop();
  });

  const request = (key: string) =>
    new Request('https://api.example.test/items', { headers: { authorization: `Api-Key ${key}` } });

  it('refuses a legacy key of a tenant in target, accepts one in dual, linked to the internal subject and org', async () => {
    const alice = await plane.authenticate(request(fx.apikeys.valid?.key as string)); // team_1 -> org_acme: target
    expect(!alice.ok && [alice.failure.reason, alice.failure.status]).toEqual(['provider_disabled', 401]);
    const bob = await plane.authenticate(request(fx.apikeys.valid_bob?.key as string)); // team_2 -> org_globex: dual
    expect(bob.ok && bob.principal).toMatchObject({
      subject: 'usr_bob',
      orgId: 'org_globex',
      kind: 'api_key',
    });
    // Django's refusals stay refusals whatever the mode.
    const revoked = await plane.authenticate(request(fx.apikeys.revoked?.key as string));
    expect(!revoked.ok && revoked.failure.reason).toBe('api_key_revoked');
  });
});
