import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/core/errors';
import { createIntegrationPlane, IntegrationError } from '../../src/integration/index';
import { nangoFixture } from './integration-fixtures';
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
