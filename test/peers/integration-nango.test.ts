import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/core/errors';
import { createIntegrationPlane, IntegrationError } from '../../src/integration/index';
import { nangoFixture } from './integration-fixtures';
import { startLoopbackApi } from './loopback-api';
import type { NangoFake } from './nango-fake';

let fixture: Awaited<ReturnType<typeof nangoFixture>>;
let fake: NangoFake;
beforeAll(async () => {
  fixture = await nangoFixture('direct');
  fake = fixture.fake;
});
afterAll(async () => {
  await fixture?.cleanup();
});

describe('Nango adapter specifics (real SDK, loopback fake)', () => {
  it('a wrong secret key is a configuration error, never the key in the message', async () => {
    fake.add({ connection_id: 'k', provider_config_key: 'github', orgId: 'org_a' });
    const plane = await createIntegrationPlane({
      provider: 'nango',
      flags: { nango: true },
      nango: { secretKey: 'wrong-secret-key-value', host: fake.host },
    });
    const err = await plane
      .getToken({ integration: 'github', connectionId: 'k', orgId: 'org_a' })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConfigError);
    expect(err).toMatchObject({ path: 'nango.secretKey' });
    expect((err as Error).message).not.toContain('wrong-secret-key-value');
    expect((err as Error).message).not.toContain(fake.secretKey);
  });

  it('maps API-key and Basic credentials, and a connection whose credentials are gone', async () => {
    fake.add({
      connection_id: 'key',
      provider_config_key: 'jira',
      orgId: 'org_a',
      type: 'API_KEY',
      apiKey: 'jira-key',
      expires_at: null,
    });
    fake.add({
      connection_id: 'basic',
      provider_config_key: 'jira',
      orgId: 'org_a',
      type: 'BASIC',
      username: 'u',
      password: 'p',
      expires_at: null,
    });
    fake.add({
      connection_id: 'empty',
      provider_config_key: 'jira',
      orgId: 'org_a',
      access_token: '',
      expires_at: null,
    });
    expect(
      await fixture.plane.getToken({ integration: 'jira', connectionId: 'key', orgId: 'org_a' }),
    ).toMatchObject({
      accessToken: 'jira-key',
      tokenType: 'Bearer',
      expiresAt: null,
    });
    const basic = await fixture.plane.getToken({
      integration: 'jira',
      connectionId: 'basic',
      orgId: 'org_a',
    });
    expect(basic.tokenType).toBe('Basic');
    expect(Buffer.from(basic.accessToken, 'base64').toString()).toBe('u:p');
    await expect(
      fixture.plane.getToken({ integration: 'jira', connectionId: 'empty', orgId: 'org_a' }),
    ).rejects.toMatchObject({ reason: 'connection_needs_reauth' });
    expect(
      (await fixture.plane.getConnection({ integration: 'jira', connectionId: 'key', orgId: 'org_a' }))
        .authType,
    ).toBe('api_key');
  });

  it('lists connections by org and integration and maps integration names to provider config keys', async () => {
    for (let i = 0; i < 5; i++)
      fake.add({ connection_id: `many_${i}`, provider_config_key: 'slack', orgId: 'org_many' });
    const listed = await fixture.plane.listConnections({ orgId: 'org_many', integration: 'slack' });
    expect(listed.map((c) => c.connectionId).sort()).toEqual([
      'many_0',
      'many_1',
      'many_2',
      'many_3',
      'many_4',
    ]);
    const mapped = await createIntegrationPlane({
      provider: 'nango',
      flags: { nango: true },
      nango: { secretKey: fake.secretKey, host: fake.host, providerConfigKeys: { chat: 'slack' } },
    });
    const viaAlias = await mapped.listConnections({ orgId: 'org_many', integration: 'chat' });
    expect(viaAlias).toHaveLength(5);
    expect(viaAlias[0]?.integration).toBe('chat');
    expect(
      (await mapped.getToken({ integration: 'chat', connectionId: 'many_0', orgId: 'org_many' })).accessToken,
    ).toMatch(/^nango_at_/);
  });

  it('a Nango outage is provider_unavailable with a trace id', async () => {
    fake.add({ connection_id: 'down', provider_config_key: 'github', orgId: 'org_a' });
    fake.fault = 'server_error';
    try {
      const err = await fixture.plane
        .getToken({ integration: 'github', connectionId: 'down', orgId: 'org_a' })
        .catch((e: unknown) => e);
      expect(err).toBeInstanceOf(IntegrationError);
      expect(err).toMatchObject({
        reason: 'provider_unavailable',
        traceId: expect.stringMatching(/^[0-9a-f]{32}$/),
      });
      expect((err as Error).message).toContain('HTTP 500');
    } finally {
      fake.fault = 'none';
    }
  });
});

describe('Nango: a connection belongs to the org its configured binding names', () => {
  const reasonOf = (p: Promise<unknown>) =>
    p.then(
      () => 'resolved',
      (e: unknown) => (e instanceof IntegrationError ? e.reason : `threw ${String(e)}`),
    );

  it('a connection without an org binding says so (connection_unbound), not connection_not_found', async () => {
    fake.add({ connection_id: 'unbound', provider_config_key: 'github' });
    const ref = { integration: 'github', connectionId: 'unbound', orgId: 'org_a' };
    const err = await fixture.plane.getToken(ref).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(IntegrationError);
    expect(err).toMatchObject({ reason: 'connection_unbound' });
    expect((err as Error).message).toContain('end_user.organization.id');
    expect(await reasonOf(fixture.plane.getConnection(ref))).toBe('connection_unbound');
    expect(await reasonOf(fixture.plane.deleteConnection(ref))).toBe('connection_unbound');
    expect(await reasonOf(fixture.plane.getToken(ref))).toBe('connection_unbound'); // still there
  });

  it('reads the org from exactly the configured place: metadata cannot claim an org under end_user', async () => {
    fake.add({
      connection_id: 'claims',
      provider_config_key: 'github',
      metadata: { orgId: 'org_victim' },
      tags: { organization_id: 'org_victim' },
    });
    const ref = { integration: 'github', connectionId: 'claims', orgId: 'org_victim' };
    expect(await reasonOf(fixture.plane.getToken(ref))).toBe('connection_unbound');

    const byMetadata = await createIntegrationPlane({
      provider: 'nango',
      flags: { nango: true },
      nango: { secretKey: fake.secretKey, host: fake.host, orgBinding: { metadata: 'orgId' } },
    });
    expect((await byMetadata.getToken(ref)).accessToken).toMatch(/^nango_at_/);
    expect(await reasonOf(byMetadata.getToken({ ...ref, orgId: 'org_other' }))).toBe('connection_not_found');

    const byTag = await createIntegrationPlane({
      provider: 'nango',
      flags: { nango: true },
      nango: { secretKey: fake.secretKey, host: fake.host, orgBinding: { tag: 'organization_id' } },
    });
    expect((await byTag.getConnection(ref)).orgId).toBe('org_victim');
    // An end-user-bound connection is unbound for a plane that reads tags.
    fake.add({ connection_id: 'eu', provider_config_key: 'github', orgId: 'org_a' });
    expect(
      await reasonOf(byTag.getToken({ integration: 'github', connectionId: 'eu', orgId: 'org_a' })),
    ).toBe('connection_unbound');
  });

  it('refuses conflicting binding options, and a missing secret key with a sentence', async () => {
    const both = await createIntegrationPlane({
      provider: 'nango',
      flags: { nango: true },
      nango: { secretKey: fake.secretKey, orgBinding: 'end_user', orgTag: 'org' },
    }).catch((e: unknown) => e);
    expect(both).toMatchObject({ path: 'nango.orgTag' });
    for (const nango of [undefined, {}, { secretKey: '' }]) {
      const err = await createIntegrationPlane({
        provider: 'nango',
        flags: { nango: true },
        nango,
      } as never).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ConfigError);
      expect(err).toMatchObject({ path: 'nango.secretKey' });
      expect((err as Error).message).toMatch(/The Nango adapter needs the secret key/);
    }
  });
});

describe('Nango: tokens go only to allowed origins, direct and through the proxy', () => {
  it('refuses another origin before any request, in both fetch modes', async () => {
    const evil = await startLoopbackApi();
    const proxied = await nangoFixture('proxy');
    try {
      for (const f of [fixture, proxied]) {
        f.fake.add({ connection_id: 'o', provider_config_key: 'github', orgId: 'org_a' });
        const ref = { integration: 'github', connectionId: 'o', orgId: 'org_a' };
        const proxyCalls = f.fake.requests.PROXY ?? 0;
        const err = await f.plane.fetch(ref, `${evil.url}/steal`).catch((e: unknown) => e);
        expect(err).toMatchObject({ reason: 'url_not_allowed' });
        expect(evil.seen).toEqual([]);
        expect(f.fake.requests.PROXY ?? 0).toBe(proxyCalls);
        expect((await f.plane.fetch(ref, `${f.api.url}/me`)).status).toBe(200);
      }
      // The adapter's own proxy refuses it too (authplane/nango used without the plane).
      const { createNangoAdapter } = await import('../../providers/nango/index');
      const { nangoConfigSchema } = await import('../../src/integration/config');
      const adapter = await createNangoAdapter(
        nangoConfigSchema.parse({
          provider: 'nango',
          flags: { nango: true },
          nango: { secretKey: fake.secretKey, host: fake.host, fetchMode: 'proxy' },
        }),
      );
      const ref = { integration: 'github', connectionId: 'o', orgId: 'org_a' };
      await expect(adapter.proxy?.(ref, `${evil.url}/steal`, undefined)).rejects.toMatchObject({
        reason: 'url_not_allowed',
      });
      expect(evil.seen).toEqual([]);
    } finally {
      await proxied.cleanup();
      await evil.stop();
    }
  });
});
