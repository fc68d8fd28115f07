// loadConfig(env) for AUTHPLANE_PROVIDER=migration: both sides and the control store from variables only,
// then a working plane that follows the store.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, loadMigrationConfig } from '../../src/config/env';
import { ConfigError } from '../../src/core/errors';
import { type DevIssuer, startDevIssuer } from '../../src/dev/index';
import { createIdentityPlane } from '../../src/identity/create';
import { openControlStore } from '../../src/migration/control/open';
import { isMigrationPlane } from '../../src/migration/index';
import { sleep } from '../contract/fixture';
import { LEGACY_SECRET, legacyToken, requestWith, targetUserToken } from './migration-fixtures';

let dev: DevIssuer;
const dir = mkdtempSync(join(tmpdir(), 'authplane-env-'));
beforeAll(async () => {
  dev = await startDevIssuer();
});
afterAll(async () => {
  await dev?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const envFor = (store: string) => ({
  AUTHPLANE_PROVIDER: 'migration',
  AUTHPLANE_LEGACY_SECRET: LEGACY_SECRET,
  AUTHPLANE_LEGACY_ORG_CLAIM: 'team_id',
  AUTHPLANE_TARGET_PROVIDER: 'oidc',
  AUTHPLANE_TARGET_ISSUER: dev.issuer,
  AUTHPLANE_TARGET_AUDIENCE: dev.audience,
  AUTHPLANE_TARGET_JWKS_URI: dev.jwksUri,
  AUTHPLANE_TARGET_ALLOW_INSECURE_REQUESTS: 'true',
  AUTHPLANE_MIGRATION_MODE: 'legacy',
  AUTHPLANE_MIGRATION_TENANTS: 'team_9=dual',
  AUTHPLANE_MIGRATION_STORE: store,
  AUTHPLANE_MIGRATION_POLL_SEC: '0.2',
});

describe('a whole migration plane from the environment', () => {
  it('reads both sides, the modes and the store, and the plane follows the store', async () => {
    const spec = `sqlite:${join(dir, 'env.db')}`;
    const config = loadMigrationConfig(envFor(spec));
    expect(config).toMatchObject({
      provider: 'migration',
      legacy: { provider: 'legacy', secret: LEGACY_SECRET, claims: { org: 'team_id' } },
      target: { provider: 'oidc', issuer: dev.issuer, audience: dev.audience },
      mode: 'legacy',
      tenants: { orgs: { team_9: 'dual' } },
      control: { store: spec, pollSec: 0.2 },
    });
    const plane = await createIdentityPlane(loadConfig(envFor(spec)));
    if (!isMigrationPlane(plane)) throw new Error('expected a migration plane');
    const writer = await openControlStore(spec);
    try {
      const legacy = await legacyToken('alice'); // team_7, no link store: org stays team_7
      const target = await targetUserToken(dev, 'alice');
      expect((await plane.authenticate(requestWith(legacy))).ok).toBe(true);
      const refused = await plane.authenticate(requestWith(target));
      expect(!refused.ok && refused.failure.reason).toBe('provider_disabled');
      await writer.store.change({ target: { scope: 'default' }, value: { mode: 'target' }, actor: 'ops' });
      const start = Date.now();
      while ((await plane.authenticate(requestWith(legacy))).ok) {
        if (Date.now() - start > 3_000) throw new Error('the store change was not applied');
        await sleep(50);
      }
      expect(plane.migration.control()?.version).toBe(1);
    } finally {
      await writer.close();
      await plane.close();
    }
  });

  it('names the variable that is wrong, and never echoes a secret', () => {
    const bad = (patch: Record<string, string>) => {
      try {
        loadConfig({ ...envFor('sqlite:/tmp/x.db'), ...patch });
      } catch (err) {
        return err as ConfigError;
      }
      throw new Error('expected a ConfigError');
    };
    expect(bad({ AUTHPLANE_TARGET_ISSUER: 'not a url' }).path).toBe('AUTHPLANE_TARGET_ISSUER');
    expect(bad({ AUTHPLANE_TARGET_PROVIDER: 'nope' }).path).toBe('AUTHPLANE_TARGET_PROVIDER');
    expect(bad({ AUTHPLANE_MIGRATION_POLL_SEC: '-1' }).path).toBe('AUTHPLANE_MIGRATION_POLL_SEC');
    expect(bad({ AUTHPLANE_MIGRATION_MODE: 'everything' }).path).toBe('AUTHPLANE_MIGRATION_MODE');
    const short = bad({ AUTHPLANE_LEGACY_SECRET: 'short-secret-value' });
    expect(short).toBeInstanceOf(ConfigError);
    expect(short.message).not.toContain('short-secret-value');
  });
});
