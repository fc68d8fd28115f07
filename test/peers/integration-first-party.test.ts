import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/core/errors';
import { CONNECT_STATE_INTEGRATION } from '../../src/integration/first-party/adapter';
import { createIntegrationPlane, DecryptionError, IntegrationError } from '../../src/integration/index';
import { createMemoryConnectionStore } from '../../src/stores/memory';
import {
  connectViaBrowser,
  type FirstPartyPeers,
  firstPartyPlane,
  newKey,
  REDIRECT_URI,
  startFirstPartyPeers,
} from './integration-fixtures';
import { completeBrowserLogin } from './user-agent';

let peers: FirstPartyPeers;
beforeAll(async () => {
  peers = await startFirstPartyPeers();
});
afterAll(async () => {
  await peers?.stop();
});

/** Store keys of the connections these tests create (all in org_acme unless named otherwise). */
const key = (integration: string, id: string, orgId = 'org_acme') => ({ orgId, integration, id });
const acme = { orgId: 'org_acme', userId: 'alice' };

const reasonOf = (p: Promise<unknown>) =>
  p.then(
    () => 'resolved',
    (e: unknown) => (e instanceof IntegrationError ? e.reason : `threw ${String(e)}`),
  );

describe('first-party connect flow against a real authorization server', () => {
  it('builds an authorization URL with PKCE S256 and a state, and stores an encrypted connection', async () => {
    const store = createMemoryConnectionStore();
    const plane = await firstPartyPlane(peers, { store });
    const started = await plane.connect.start({
      integration: 'github',
      orgId: 'org_acme',
      userId: 'alice',
      redirectUri: REDIRECT_URI,
    });
    const url = new URL(started.url);
    expect(url.origin + url.pathname).toBe(`${peers.dev.issuer}/auth`);
    expect(url.searchParams.get('code_challenge_method')).toBe('S256');
    expect(url.searchParams.get('code_challenge')).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(url.searchParams.get('state')).toBe(started.state);
    expect(url.searchParams.get('scope')).toBe('openid offline_access read');
    const callback = await completeBrowserLogin(started.url, { login: 'alice' });
    const info = await plane.connect.finish(callback, { orgId: 'org_acme', userId: 'alice' });
    expect(info).toMatchObject({
      integration: 'github',
      connectionId: 'org_acme',
      orgId: 'org_acme',
      status: 'active',
      authType: 'oauth2',
    });
    const token = await plane.getToken({
      integration: 'github',
      connectionId: 'org_acme',
      orgId: 'org_acme',
    });
    const row = await store.get(key('github', 'org_acme'));
    expect(row?.credentials).toMatch(/^v2\.k1\./);
    expect(row?.credentials).not.toContain(token.accessToken);
    expect(JSON.stringify(row?.metadata)).not.toContain(token.accessToken);
    // The pending state is gone once used.
    expect(await store.list({ integration: CONNECT_STATE_INTEGRATION })).toEqual([]);
  });

  it('refuses a wrong, replayed, expired or foreign state', async () => {
    let offset = 0;
    const plane = await firstPartyPlane(peers, { clock: () => Date.now() + offset });
    const started = await plane.connect.start({
      integration: 'github',
      orgId: 'org_acme',
      userId: 'alice',
      redirectUri: REDIRECT_URI,
    });
    const callback = await completeBrowserLogin(started.url, { login: 'alice' });
    const wrong = new URL(callback);
    wrong.searchParams.set('state', 'forged-state');
    expect(await reasonOf(plane.connect.finish(wrong, acme))).toBe('state_invalid');
    const noState = new URL(callback);
    noState.searchParams.delete('state');
    expect(await reasonOf(plane.connect.finish(noState, acme))).toBe('state_invalid');
    await plane.connect.finish(callback, acme);
    expect(await reasonOf(plane.connect.finish(callback, acme))).toBe('state_invalid'); // replay

    // Bound to org and user: a callback finished in another session is refused (and burns the state).
    const other = await plane.connect.start({
      integration: 'github',
      orgId: 'org_acme',
      userId: 'alice',
      redirectUri: REDIRECT_URI,
      connectionId: 'x1',
    });
    const otherCallback = await completeBrowserLogin(other.url, { login: 'alice' });
    expect(
      await reasonOf(plane.connect.finish(otherCallback, { orgId: 'org_globex', userId: 'alice' })),
    ).toBe('state_invalid');
    expect(await reasonOf(plane.connect.finish(otherCallback, acme))).toBe('state_invalid');

    const third = await plane.connect.start({
      integration: 'github',
      orgId: 'org_acme',
      userId: 'alice',
      redirectUri: REDIRECT_URI,
      connectionId: 'x2',
    });
    const thirdCallback = await completeBrowserLogin(third.url, { login: 'alice' });
    expect(
      await reasonOf(plane.connect.finish(thirdCallback, { orgId: 'org_acme', userId: 'mallory' })),
    ).toBe('state_invalid');

    // Another redirect URI than the one the flow started with.
    const fourth = await plane.connect.start({
      integration: 'github',
      orgId: 'org_acme',
      userId: 'alice',
      redirectUri: REDIRECT_URI,
      connectionId: 'x3',
    });
    const moved = new URL(await completeBrowserLogin(fourth.url, { login: 'alice' }));
    moved.pathname = '/elsewhere';
    expect(await reasonOf(plane.connect.finish(moved, acme))).toBe('state_invalid');

    // Expired (TTL 600 s by default).
    const fifth = await plane.connect.start({
      integration: 'github',
      orgId: 'org_acme',
      userId: 'alice',
      redirectUri: REDIRECT_URI,
      connectionId: 'x4',
    });
    const fifthCallback = await completeBrowserLogin(fifth.url, { login: 'alice' });
    offset += 601_000;
    expect(await reasonOf(plane.connect.finish(fifthCallback, acme))).toBe('state_invalid');
  });

  it('reports an authorization server refusal as connect_failed', async () => {
    const plane = await firstPartyPlane(peers);
    const started = await plane.connect.start({
      integration: 'github',
      orgId: 'org_acme',
      userId: 'alice',
      redirectUri: REDIRECT_URI,
    });
    // An unknown dev user makes the issuer end the flow with error=access_denied.
    const callback = await completeBrowserLogin(started.url, { login: 'nobody' });
    expect(new URL(callback).searchParams.get('error')).toBe('access_denied');
    expect(await reasonOf(plane.connect.finish(callback, acme))).toBe('connect_failed');
  });

  it('stores static API-key and Basic connections (a Jira API token)', async () => {
    const plane = await firstPartyPlane(peers);
    await plane.connect.saveCredentials({
      integration: 'jira',
      orgId: 'org_acme',
      connectionId: 'acme-jira',
      credentials: { type: 'basic', username: 'bot@acme.test', password: 'jira-api-token-123' },
    });
    const token = await plane.getToken({ integration: 'jira', connectionId: 'acme-jira', orgId: 'org_acme' });
    expect(token).toMatchObject({ tokenType: 'Basic', expiresAt: null });
    expect(Buffer.from(token.accessToken, 'base64').toString()).toBe('bot@acme.test:jira-api-token-123');
    const res = await plane.fetch(
      { integration: 'jira', connectionId: 'acme-jira', orgId: 'org_acme' },
      `${peers.api.url}/rest/api/3/myself`,
    );
    expect(await res.json()).toMatchObject({ ok: true, scheme: 'Basic' });
    await plane.connect.saveCredentials({
      integration: 'jira',
      orgId: 'org_acme',
      connectionId: 'acme-key',
      credentials: { type: 'api_key', apiKey: 'key-123' },
    });
    expect(
      await plane.getToken({ integration: 'jira', connectionId: 'acme-key', orgId: 'org_acme' }),
    ).toMatchObject({
      accessToken: 'key-123',
      tokenType: 'Bearer',
    });
    expect(
      (await plane.getConnection({ integration: 'jira', connectionId: 'acme-key', orgId: 'org_acme' }))
        .authType,
    ).toBe('api_key');
  });
});

describe('first-party refresh and rotation', () => {
  it('persists every rotated refresh token (the issuer revokes the grant on reuse)', async () => {
    const store = createMemoryConnectionStore();
    const plane = await firstPartyPlane(peers, { store });
    await connectViaBrowser(plane, 'org_acme', 'rot');
    const ref = { integration: 'github', connectionId: 'rot', orgId: 'org_acme' };
    const blobs = new Set([(await store.get(key('github', 'rot')))?.credentials]);
    const tokens = new Set<string>();
    for (let i = 0; i < 3; i++) {
      tokens.add((await plane.getToken(ref, { forceRefresh: true })).accessToken);
      blobs.add((await store.get(key('github', 'rot')))?.credentials);
    }
    expect(tokens.size).toBe(3);
    expect(blobs.size).toBe(4);
    expect((await store.get(key('github', 'rot')))?.version).toBe(4);
  });

  it('after invalid_grant re-reads the store: another instance’s rotation is used, not needs_reauth', async () => {
    const store = createMemoryConnectionStore();
    const keys = { k1: newKey() };
    // Two instances on one store with separate in-process locks: nothing orders them but the store.
    const a = await firstPartyPlane(peers, { store, keys });
    const b = await firstPartyPlane(peers, { store, keys });
    await connectViaBrowser(a, 'org_acme', 'race');
    const ref = { integration: 'github', connectionId: 'race', orgId: 'org_acme' };
    // B's refresh request is held at the token endpoint until A has rotated and stored new tokens, so
    // B presents the old refresh token and the real issuer answers invalid_grant.
    let aToken = '';
    const before = peers.tokens.refreshes;
    peers.tokens.beforeRefresh = async () => {
      aToken = (await a.getToken(ref, { forceRefresh: true })).accessToken;
    };
    const bToken = await b.getToken(ref, { forceRefresh: true });
    expect(aToken).not.toBe('');
    expect(bToken.accessToken).toBe(aToken);
    expect(peers.tokens.refreshes - before).toBe(2); // B's stale refresh did reach the issuer
    expect((await store.get(key('github', 'race')))?.status).toBe('active');
  });
});

describe('encryption at rest', () => {
  it('rotates keys: old blobs stay readable, resealAll moves them to the current key', async () => {
    const store = createMemoryConnectionStore();
    const k1 = newKey();
    const k2 = newKey();
    const old = await firstPartyPlane(peers, { store, keys: { k1 } });
    await connectViaBrowser(old, 'org_acme', 'enc');
    const ref = { integration: 'github', connectionId: 'enc', orgId: 'org_acme' };
    const token = await old.getToken(ref);

    const rotated = await firstPartyPlane(peers, { store, keys: { k1, k2 }, currentKeyId: 'k2' });
    expect((await rotated.getToken(ref)).accessToken).toBe(token.accessToken);
    expect(await rotated.resealAll()).toBe(1);
    expect((await store.get(key('github', 'enc')))?.credentials).toMatch(/^v2\.k2\./);
    expect(await rotated.resealAll()).toBe(0);

    const k2Only = await firstPartyPlane(peers, { store, keys: { k2 }, currentKeyId: 'k2' });
    expect((await k2Only.getToken(ref)).accessToken).toBe(token.accessToken);

    const k1Only = await firstPartyPlane(peers, { store, keys: { k1 } });
    const err = await k1Only.getToken(ref).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DecryptionError);
    expect(err).toMatchObject({ keyId: 'k2', code: 'credentials_undecryptable' });
    expect((err as Error).message).toContain('"k2"');
    expect((err as Error).message).not.toContain(k1);
  });

  it('refuses a tampered blob and a blob moved onto another connection', async () => {
    const store = createMemoryConnectionStore();
    const keys = { k1: newKey() };
    const plane = await firstPartyPlane(peers, { store, keys });
    await plane.connect.saveCredentials({
      integration: 'jira',
      orgId: 'org_a',
      connectionId: 'a',
      credentials: { type: 'api_key', apiKey: 'secret-a' },
    });
    await plane.connect.saveCredentials({
      integration: 'jira',
      orgId: 'org_b',
      connectionId: 'b',
      credentials: { type: 'api_key', apiKey: 'secret-b' },
    });
    const a = (await store.get(key('jira', 'a', 'org_a'))) as NonNullable<
      Awaited<ReturnType<typeof store.get>>
    >;
    const b = (await store.get(key('jira', 'b', 'org_b'))) as NonNullable<
      Awaited<ReturnType<typeof store.get>>
    >;
    await store.put({ ...b, credentials: a.credentials }); // org b's row now holds org a's ciphertext
    const fresh = await firstPartyPlane(peers, { store, keys });
    await expect(
      fresh.getToken({ integration: 'jira', connectionId: 'b', orgId: 'org_b' }),
    ).rejects.toBeInstanceOf(DecryptionError);
    const body = (a.credentials as string).split('.');
    body[3] = `${body[3]?.slice(0, -2)}AA`;
    await store.put({ ...a, credentials: body.join('.') });
    await expect(fresh.getToken({ integration: 'jira', connectionId: 'a', orgId: 'org_a' })).rejects.toThrow(
      /failed authentication/,
    );
  });
});

describe('createIntegrationPlane configuration', () => {
  const store = createMemoryConnectionStore();
  const encryption = { currentKeyId: 'k1', keys: { k1: newKey() } };

  it('names the bad field', async () => {
    await expect(createIntegrationPlane({ encryption, catalog: {} } as never)).rejects.toMatchObject({
      path: 'store',
    });
    await expect(
      createIntegrationPlane({
        store,
        encryption: { currentKeyId: 'k1', keys: { k1: 'c2hvcnQ=' } },
        catalog: {},
      }),
    ).rejects.toMatchObject({
      path: 'encryption.keys.k1',
    });
    await expect(
      createIntegrationPlane({
        store,
        encryption: { currentKeyId: 'k9', keys: encryption.keys },
        catalog: {},
      }),
    ).rejects.toMatchObject({
      path: 'encryption.currentKeyId',
    });
    await expect(
      createIntegrationPlane({ store, encryption, catalog: { linear: { clientId: 'x' } } }),
    ).rejects.toMatchObject({
      path: 'catalog.linear.authorizationEndpoint',
    });
    await expect(
      createIntegrationPlane({ store, encryption, catalog: { github: { tokenEndpoint: 'ftp://x' } } }),
    ).rejects.toMatchObject({
      path: 'catalog.github.tokenEndpoint',
    });
    await expect(
      createIntegrationPlane({ store, encryption, catalog: {}, timeoutMs: -1 }),
    ).rejects.toMatchObject({ path: 'timeoutMs' });
    await expect(
      createIntegrationPlane({ store, encryption, catalog: {}, bogus: 1 } as never),
    ).rejects.toMatchObject({ path: 'bogus' });
    await expect(createIntegrationPlane({ provider: 'zapier' } as never)).rejects.toBeInstanceOf(ConfigError);
  });

  it('gates Nango behind flags.nango and names @nangohq/node when it is missing', async () => {
    const nango = { secretKey: 'nango-secret-value' };
    const off = await createIntegrationPlane({ provider: 'nango', nango }).catch((e: unknown) => e);
    expect(off).toBeInstanceOf(ConfigError);
    expect(off).toMatchObject({ path: 'flags.nango' });
    const missing = await createIntegrationPlane({
      provider: 'nango',
      flags: { nango: true },
      nango: { ...nango, importSdk: () => import('@nangohq/not-installed-package' as string) },
    }).catch((e: unknown) => e);
    expect(missing).toBeInstanceOf(ConfigError);
    expect((missing as Error).message).toContain('@nangohq/node');
    expect((missing as Error).message).not.toContain('nango-secret-value');
  });

  it('requires a client id to start a connect flow', async () => {
    const plane = await createIntegrationPlane({ store, encryption, catalog: { jira: {} } });
    await expect(
      plane.connect.start({ integration: 'jira', orgId: 'o', userId: 'u', redirectUri: REDIRECT_URI }),
    ).rejects.toMatchObject({
      path: 'catalog.jira.clientId',
    });
    expect(
      await reasonOf(
        plane.connect.start({ integration: 'nope', orgId: 'o', userId: 'u', redirectUri: REDIRECT_URI }),
      ),
    ).toBe('integration_unknown');
  });
});
