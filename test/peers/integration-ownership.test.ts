// Attacks on connection ownership and token delivery (issue 11, IntegrationPlane): each test is the
// attack as an org, a user or a compromised database would try it, against the real authorization
// server (oidc-provider) and real HTTP servers on loopback.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createIntegrationPlane,
  createKeyring,
  DecryptionError,
  IntegrationError,
} from '../../src/integration/index';
import { createMemoryConnectionStore } from '../../src/stores/memory';
import {
  connectViaBrowser,
  type FirstPartyPeers,
  firstPartyPlane,
  githubOnLoopback,
  newKey,
  REDIRECT_URI,
  startFirstPartyPeers,
} from './integration-fixtures';
import { type LoopbackApi, startLoopbackApi } from './loopback-api';
import { completeBrowserLogin } from './user-agent';

let peers: FirstPartyPeers;
let evil: LoopbackApi;
beforeAll(async () => {
  peers = await startFirstPartyPeers();
  evil = await startLoopbackApi();
});
afterAll(async () => {
  await Promise.all([peers?.stop(), evil?.stop()]);
});

const reasonOf = (p: Promise<unknown>) =>
  p.then(
    () => 'resolved',
    (e: unknown) => (e instanceof IntegrationError ? e.reason : `threw ${String(e)}`),
  );

/** A server on loopback that answers every request with a redirect to `to`. */
async function startRedirector(to: () => string, status = 302): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => {
    res.writeHead(status, { location: `${to()}${req.url ?? '/'}` }).end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server };
}

describe('a connection belongs to its org', () => {
  it('another org cannot overwrite a connection through saveCredentials, nor read its token', async () => {
    const store = createMemoryConnectionStore();
    const plane = await firstPartyPlane(peers, { store });
    await plane.connect.saveCredentials({
      integration: 'jira',
      orgId: 'org_victim',
      connectionId: 'shared',
      credentials: { type: 'api_key', apiKey: 'victim-key' },
    });
    // The attacker writes the same integration and connection id from its own org.
    await plane.connect.saveCredentials({
      integration: 'jira',
      orgId: 'org_attacker',
      connectionId: 'shared',
      credentials: { type: 'api_key', apiKey: 'attacker-key' },
    });
    const victim = { integration: 'jira', connectionId: 'shared', orgId: 'org_victim' };
    expect((await plane.getToken(victim)).accessToken).toBe('victim-key');
    expect((await plane.getToken({ ...victim, orgId: 'org_attacker' })).accessToken).toBe('attacker-key');
    expect((await plane.getConnection(victim)).orgId).toBe('org_victim');
    expect(await plane.deleteConnection({ ...victim, orgId: 'org_attacker' })).toBe(true);
    expect((await plane.getToken(victim)).accessToken).toBe('victim-key');
  });

  it('another org cannot overwrite a connection through the connect flow (the default id is the org id)', async () => {
    const store = createMemoryConnectionStore();
    const plane = await firstPartyPlane(peers, { store });
    await connectViaBrowser(plane, 'org_victim', 'org_victim');
    const victim = { integration: 'github', connectionId: 'org_victim', orgId: 'org_victim' };
    const before = await plane.getToken(victim);
    // The attacker connects its own account under the victim's connection id.
    await connectViaBrowser(plane, 'org_attacker', 'org_victim', 'bob');
    expect((await plane.getToken(victim)).accessToken).toBe(before.accessToken);
    expect((await plane.getConnection(victim)).metadata.connectedBy).toBe('alice');
    const theirs = await plane.getToken({ ...victim, orgId: 'org_attacker' });
    expect(theirs.accessToken).not.toBe(before.accessToken);
    expect(await store.list({ orgId: 'org_victim' })).toHaveLength(1);
  });

  it('a ref without its org is refused (no lookup by connection id alone)', async () => {
    const plane = await firstPartyPlane(peers);
    await plane.connect.saveCredentials({
      integration: 'jira',
      orgId: 'org_a',
      connectionId: 'c1',
      credentials: { type: 'api_key', apiKey: 'k' },
    });
    const noOrg = { integration: 'jira', connectionId: 'c1' } as never;
    await expect(plane.getToken(noOrg)).rejects.toThrow(/orgId is required/);
    await expect(plane.getConnection(noOrg)).rejects.toThrow(TypeError);
    await expect(plane.deleteConnection(noOrg)).rejects.toThrow(TypeError);
    await expect(plane.fetch(noOrg, `${peers.api.url}/x`)).rejects.toThrow(TypeError);
  });

  it('a row moved to another org does not decrypt (the org is bound into the seal)', async () => {
    const store = createMemoryConnectionStore();
    const keys = { k1: newKey() };
    const plane = await firstPartyPlane(peers, { store, keys });
    await plane.connect.saveCredentials({
      integration: 'jira',
      orgId: 'org_victim',
      connectionId: 'c',
      credentials: { type: 'api_key', apiKey: 'victim-secret' },
    });
    const row = await store.get({ orgId: 'org_victim', integration: 'jira', id: 'c' });
    if (!row) throw new Error('row missing');
    // Someone with write access to the table copies the row into their org, same integration and id.
    await store.put({ ...row, orgId: 'org_attacker' });
    const err = await plane
      .getToken({ integration: 'jira', connectionId: 'c', orgId: 'org_attacker' })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(DecryptionError);
    expect((err as Error).message).not.toContain('victim-secret');
  });

  it('opens v1 blobs written before the org binding, and resealAll upgrades them to v2', async () => {
    const store = createMemoryConnectionStore();
    const keys = { k1: newKey() };
    const ring = createKeyring({ currentKeyId: 'k1', keys });
    // A row as the previous release wrote it: v1, bound to integration and id only.
    const legacy = ring
      .seal(JSON.stringify({ type: 'api_key', apiKey: 'legacy-key' }), 'jira\u0000old')
      .replace(/^v2\./, 'v1.');
    await store.put({
      integration: 'jira',
      id: 'old',
      orgId: 'org_acme',
      status: 'active',
      metadata: { authType: 'api_key' },
      credentials: legacy,
      expiresAt: null,
    });
    const plane = await firstPartyPlane(peers, { store, keys });
    const ref = { integration: 'jira', connectionId: 'old', orgId: 'org_acme' };
    expect((await plane.getToken(ref)).accessToken).toBe('legacy-key');
    expect(await plane.resealAll()).toBe(1);
    const row = await store.get({ orgId: 'org_acme', integration: 'jira', id: 'old' });
    expect(row?.credentials).toMatch(/^v2\.k1\./);
    expect(await plane.resealAll()).toBe(0);
    // Now bound to the org: moved elsewhere it no longer opens.
    await store.put({ ...(row as NonNullable<typeof row>), orgId: 'org_other' });
    await expect(plane.getToken({ ...ref, orgId: 'org_other' })).rejects.toBeInstanceOf(DecryptionError);
    // A v2 blob relabelled as v1 does not open either (the legacy binding is different data).
    await store.put({
      ...(row as NonNullable<typeof row>),
      credentials: row?.credentials?.replace(/^v2\./, 'v1.') ?? null,
    });
    const uncached = await firstPartyPlane(peers, { store, keys });
    await expect(uncached.getToken(ref)).rejects.toBeInstanceOf(DecryptionError);
  });
});

describe('the connect state carries and enforces the org and user that started the flow', () => {
  const start = (plane: Awaited<ReturnType<typeof firstPartyPlane>>, connectionId: string) =>
    plane.connect.start({
      integration: 'github',
      orgId: 'org_acme',
      userId: 'alice',
      redirectUri: REDIRECT_URI,
      connectionId,
    });

  it('refuses to finish without the finishing session, and keeps the state for the right one', async () => {
    const plane = await firstPartyPlane(peers);
    const started = await start(plane, 'st1');
    const callback = await completeBrowserLogin(started.url, { login: 'alice' });
    await expect(plane.connect.finish(callback, undefined as never)).rejects.toThrow(TypeError);
    await expect(plane.connect.finish(callback, {} as never)).rejects.toThrow(TypeError);
    await expect(plane.connect.finish(callback, { orgId: 'org_acme' } as never)).rejects.toThrow(TypeError);
    const info = await plane.connect.finish(callback, { orgId: 'org_acme', userId: 'alice' });
    expect(info).toMatchObject({ orgId: 'org_acme', connectionId: 'st1' });
  });

  it('a callback finished in another org or by another user is state_invalid and stores nothing', async () => {
    const store = createMemoryConnectionStore();
    const plane = await firstPartyPlane(peers, { store });
    const a = await start(plane, 'st2');
    const callbackA = await completeBrowserLogin(a.url, { login: 'alice' });
    expect(await reasonOf(plane.connect.finish(callbackA, { orgId: 'org_evil', userId: 'alice' }))).toBe(
      'state_invalid',
    );
    const b = await start(plane, 'st3');
    const callbackB = await completeBrowserLogin(b.url, { login: 'alice' });
    expect(await reasonOf(plane.connect.finish(callbackB, { orgId: 'org_acme', userId: 'mallory' }))).toBe(
      'state_invalid',
    );
    expect(await plane.listConnections({})).toEqual([]);
  });
});

describe('fetch sends the token only to allowed origins', () => {
  const seed = async () => {
    const plane = await firstPartyPlane(peers);
    await plane.connect.saveCredentials({
      integration: 'jira',
      orgId: 'org_acme',
      connectionId: 'f',
      credentials: { type: 'api_key', apiKey: 'jira-secret-token' },
    });
    return { plane, ref: { integration: 'jira', connectionId: 'f', orgId: 'org_acme' } };
  };

  it('refuses any other origin before a request is made', async () => {
    const { plane, ref } = await seed();
    const seen = evil.seen.length;
    const apiPort = new URL(peers.api.url).port;
    const evilPort = new URL(evil.url).port;
    for (const url of [
      `${evil.url}/steal`,
      `http://127.0.0.1:${apiPort}@127.0.0.1:${evilPort}/steal`, // userinfo trick: the host is evil
      `http://localhost:${apiPort}/same-port-other-host`,
      `https://127.0.0.1:${apiPort}/other-scheme`,
      '/relative',
      'not a url',
    ]) {
      const err = await plane.fetch(ref, url).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(IntegrationError);
      expect(err).toMatchObject({ reason: 'url_not_allowed' });
      expect((err as Error).message).not.toContain('jira-secret-token');
    }
    expect(evil.seen.length).toBe(seen);
    // The allowed origin still gets it.
    const ok = await plane.fetch(ref, `${peers.api.url}/rest/api/3/myself`);
    expect(ok.status).toBe(200);
  });

  it('a GitHub token goes to the catalog apiBaseUrl only, never to another integration’s allowed origin', async () => {
    const plane = await firstPartyPlane(peers);
    await connectViaBrowser(plane, 'org_acme', 'gh');
    const ref = { integration: 'github', connectionId: 'gh', orgId: 'org_acme' };
    expect((await plane.fetch(ref, `${peers.api.url}/user`)).status).toBe(200);
    expect(await reasonOf(plane.fetch(ref, `${evil.url}/user`))).toBe('url_not_allowed');
  });

  it('follows a redirect to another origin without the token, and its 401 forces no refresh', async () => {
    // The integration's API answers with a redirect to a server it does not control.
    const redirector = await startRedirector(() => evil.url);
    const plane = await createIntegrationPlane({
      store: createMemoryConnectionStore(),
      encryption: { currentKeyId: 'k1', keys: { k1: newKey() } },
      catalog: { github: { ...githubOnLoopback(peers), apiBaseUrl: redirector.url } },
      timeoutMs: 2_000,
    });
    try {
      await connectViaBrowser(plane, 'org_acme', 'redir');
      const ref = { integration: 'github', connectionId: 'redir', orgId: 'org_acme' };
      const token = await plane.getToken(ref);
      const seen = evil.seen.length;
      const refreshes = peers.tokens.refreshes;
      const res = await plane.fetch(ref, `${redirector.url}/user`); // evil answers 401 to a bare request
      expect(res.status).toBe(401);
      expect(evil.seen.slice(seen)).toEqual(['']); // exactly one request, without any Authorization
      expect(peers.tokens.refreshes).toBe(refreshes); // a 401 from elsewhere never forces a refresh
      expect((await plane.getToken(ref)).accessToken).toBe(token.accessToken);
    } finally {
      redirector.server.close();
    }
  });
});

describe('resealAll racing a refresh', () => {
  it('never wins over the rotated refresh token (deterministic interleaving at the token endpoint)', async () => {
    const store = createMemoryConnectionStore();
    const k1 = newKey();
    const k2 = newKey();
    const before = await firstPartyPlane(peers, { store, keys: { k1 } });
    await connectViaBrowser(before, 'org_acme', 'reseal-race');
    const ref = { integration: 'github', connectionId: 'reseal-race', orgId: 'org_acme' };
    const rotated = { store, keys: { k1, k2 }, currentKeyId: 'k2' };
    const refresher = await firstPartyPlane(peers, rotated);
    const resealer = await firstPartyPlane(peers, rotated);
    // The refresh has read the row and sent the old refresh token; the issuer has not answered yet.
    // The reseal runs exactly now and rewrites that row (same tokens, new key, new version).
    let resealed = -1;
    peers.tokens.beforeRefresh = async () => {
      resealed = await resealer.resealAll();
    };
    const refreshed = await refresher.getToken(ref, { forceRefresh: true });
    expect(resealed).toBe(1);
    const row = await store.get({ orgId: 'org_acme', integration: 'github', id: 'reseal-race' });
    expect(row?.status).toBe('active');
    expect(row?.credentials).toMatch(/^v2\.k2\./);
    // The stored grant is the rotated one: a new instance (no cache) reads the refreshed token, and its
    // next refresh is accepted by the issuer (the old refresh token would revoke the whole grant).
    const reader = await firstPartyPlane(peers, rotated);
    expect((await reader.getToken(ref)).accessToken).toBe(refreshed.accessToken);
    const next = await reader.getToken(ref, { forceRefresh: true });
    expect(next.accessToken).not.toBe(refreshed.accessToken);
    expect((await reader.getConnection(ref)).status).toBe('active');
  });
});
