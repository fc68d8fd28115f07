// The IntegrationPlane contract: every adapter (first-party against a real authorization server,
// Nango through the real SDK against a loopback fake of its API) must pass it unchanged.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IntegrationError, type IntegrationPlane } from '../../src/integration/index';
import type { LoopbackApi } from '../peers/loopback-api';

export interface SeededRef {
  readonly integration: string;
  readonly connectionId: string;
  readonly orgId: string;
}

export interface IntegrationFixture {
  readonly plane: IntegrationPlane;
  readonly api: LoopbackApi;
  /** The plane's timeout for one token-endpoint / provider call. */
  readonly timeoutMs: number;
  /** Creates an OAuth connection owned by `orgId` with a fresh token. */
  seed(orgId: string, connectionId: string): Promise<SeededRef>;
  /** Refreshes performed at the token endpoint (or by Nango) so far. */
  refreshes(): number;
  /** Moves every clock past the current tokens' expiry. */
  expireAll(): void;
  /** Makes the refresh endpoint fail (5xx), hang, or refuse the grant; `none` restores it. */
  fault(mode: 'none' | 'fail' | 'hang' | 'revoke'): void;
  /** The stored secret state of a connection, to prove a failed refresh left it untouched. */
  stored(ref: SeededRef): Promise<unknown>;
  cleanup(): Promise<void>;
}

let seq = 0;
const next = (label: string) => `${label}_${++seq}_${Math.random().toString(36).slice(2, 8)}`;

async function reasonOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof IntegrationError) return err.reason;
    throw err;
  }
  return 'resolved';
}

export function integrationPlaneContract(name: string, setup: () => Promise<IntegrationFixture>): void {
  describe(`IntegrationPlane contract: ${name}`, () => {
    let f: IntegrationFixture;
    beforeAll(async () => {
      f = await setup();
    });
    afterAll(async () => {
      f.fault('none');
      await f.cleanup();
    });

    it('getToken returns a usable token and serves it from cache until shortly before expiry', async () => {
      const ref = await f.seed('org_a', next('c'));
      const before = f.refreshes();
      const token = await f.plane.getToken(ref);
      expect(token.accessToken).toEqual(expect.any(String));
      expect(token.tokenType).toBe('Bearer');
      expect(token.expiresAt).toBeInstanceOf(Date);
      expect(token.expiresAt?.getTime()).toBeGreaterThan(Date.now());
      expect(Array.isArray(token.scopes)).toBe(true);
      const again = await Promise.all(Array.from({ length: 20 }, () => f.plane.getToken(ref)));
      expect(new Set(again.map((t) => t.accessToken))).toEqual(new Set([token.accessToken]));
      expect(f.refreshes()).toBe(before);
    });

    it('getConnection and listConnections describe connections without any secret', async () => {
      const org = next('org');
      const a = await f.seed(org, next('c'));
      const b = await f.seed(org, next('c'));
      await f.seed(next('other_org'), next('c'));
      const token = await f.plane.getToken(a);
      const info = await f.plane.getConnection(a);
      expect(info).toMatchObject({
        integration: a.integration,
        connectionId: a.connectionId,
        orgId: org,
        status: 'active',
      });
      expect(info.provider).toBe(f.plane.provider);
      expect(JSON.stringify(info)).not.toContain(token.accessToken);
      const listed = await f.plane.listConnections({ orgId: org });
      expect(listed.map((c) => c.connectionId).sort()).toEqual([a.connectionId, b.connectionId].sort());
      expect(listed.every((c) => c.orgId === org)).toBe(true);
      const byIntegration = await f.plane.listConnections({ orgId: org, integration: a.integration });
      expect(byIntegration).toHaveLength(2);
      expect(await f.plane.listConnections({ orgId: org, integration: 'not-an-integration' })).toEqual([]);
      expect(JSON.stringify(listed)).not.toContain(token.accessToken);
    });

    it('restricts a caller to its own org: another org’s connection is connection_not_found', async () => {
      const ref = await f.seed('org_owner', next('c'));
      await f.plane.getToken(ref); // warm the cache: the restriction must hold on cache hits too
      const intruder = { ...ref, orgId: 'org_intruder' };
      expect(await reasonOf(f.plane.getToken(intruder))).toBe('connection_not_found');
      expect(await reasonOf(f.plane.getConnection(intruder))).toBe('connection_not_found');
      expect(await reasonOf(f.plane.fetch(intruder, `${f.api.url}/me`))).toBe('connection_not_found');
      expect(await f.plane.deleteConnection(intruder)).toBe(false);
      const own = await f.plane.getToken({ ...ref, orgId: 'org_owner' });
      expect(own.accessToken).toEqual(expect.any(String));
      expect((await f.plane.getConnection(ref)).orgId).toBe('org_owner');
    });

    it('reports unknown connections and integrations with their reasons and a trace id', async () => {
      const ref = await f.seed('org_a', next('c'));
      const missing = f.plane.getToken({
        integration: ref.integration,
        connectionId: next('missing'),
        orgId: ref.orgId,
      });
      await expect(missing).rejects.toBeInstanceOf(IntegrationError);
      await expect(missing).rejects.toMatchObject({
        reason: 'connection_not_found',
        traceId: expect.stringMatching(/^[0-9a-f]{32}$/),
      });
      expect(
        await reasonOf(
          f.plane.getConnection({
            integration: ref.integration,
            connectionId: next('missing'),
            orgId: ref.orgId,
          }),
        ),
      ).toBe('connection_not_found');
      expect(
        await reasonOf(
          f.plane.getToken({
            integration: 'no-such-integration',
            connectionId: ref.connectionId,
            orgId: ref.orgId,
          }),
        ),
      ).toBe('integration_unknown');
    });

    it('200 concurrent getToken calls at expiry cause exactly one refresh', async () => {
      const ref = await f.seed('org_a', next('herd'));
      const old = await f.plane.getToken(ref);
      f.expireAll();
      const before = f.refreshes();
      const tokens = await Promise.all(Array.from({ length: 200 }, () => f.plane.getToken(ref)));
      expect(f.refreshes() - before).toBe(1);
      const values = new Set(tokens.map((t) => t.accessToken));
      expect(values.size).toBe(1);
      expect(values.has(old.accessToken)).toBe(false);
      // And the refreshed token is now cached.
      await f.plane.getToken(ref);
      expect(f.refreshes() - before).toBe(1);
    });

    it('forceRefresh refreshes once for many concurrent callers and yields a new token', async () => {
      const ref = await f.seed('org_a', next('force'));
      const old = await f.plane.getToken(ref);
      const before = f.refreshes();
      const forced = await Promise.all(
        Array.from({ length: 10 }, () => f.plane.getToken(ref, { forceRefresh: true })),
      );
      expect(f.refreshes() - before).toBe(1);
      expect(forced[0]?.accessToken).not.toBe(old.accessToken);
      expect((await f.plane.getToken(ref)).accessToken).toBe(forced[0]?.accessToken);
    });

    it('fetch injects the token; on 401 it forces one refresh and retries once', async () => {
      const ref = await f.seed('org_a', next('fetch'));
      const ok = await f.plane.fetch(ref, `${f.api.url}/me`, {
        headers: { authorization: 'Bearer caller-set' },
      });
      expect(ok.status).toBe(200);
      expect(await ok.json()).toMatchObject({ ok: true, scheme: 'Bearer' });
      const token = await f.plane.getToken(ref);
      f.api.revoke(token.accessToken); // revoked early at the API, though not expired
      const seenBefore = f.api.seen.length;
      const before = f.refreshes();
      const retried = await f.plane.fetch(ref, `${f.api.url}/me`);
      expect(retried.status).toBe(200);
      expect(f.refreshes() - before).toBe(1);
      expect(f.api.seen.length - seenBefore).toBe(2);
      const fresh = await f.plane.getToken(ref);
      expect(fresh.accessToken).not.toBe(token.accessToken);
      // A POST body is replayed on the retry.
      f.api.revoke(fresh.accessToken);
      const posted = await f.plane.fetch(ref, `${f.api.url}/items`, { method: 'POST', body: 'payload' });
      expect(posted.status).toBe(200);
      // An API that keeps refusing gets exactly one retry: the 401 is returned, no storm.
      f.api.refuseAll = true;
      try {
        const seenAgain = f.api.seen.length;
        const beforeRefused = f.refreshes();
        const refused = await f.plane.fetch(ref, `${f.api.url}/me`);
        expect(refused.status).toBe(401);
        expect(f.api.seen.length - seenAgain).toBe(2);
        expect(f.refreshes() - beforeRefused).toBe(1);
      } finally {
        f.api.refuseAll = false;
      }
    });

    it('a failing refresh endpoint yields provider_unavailable and leaves the stored tokens untouched', async () => {
      const ref = await f.seed('org_a', next('fail'));
      await f.plane.getToken(ref);
      const stored = await f.stored(ref);
      f.fault('fail');
      try {
        const err = await f.plane.getToken(ref, { forceRefresh: true }).catch((e: unknown) => e);
        expect(err).toBeInstanceOf(IntegrationError);
        expect((err as IntegrationError).reason).toBe('provider_unavailable');
        expect(await f.stored(ref)).toEqual(stored);
      } finally {
        f.fault('none');
      }
      expect((await f.plane.getToken(ref, { forceRefresh: true })).accessToken).toEqual(expect.any(String));
    });

    it('a hanging refresh endpoint yields provider_unavailable within the timeout, tokens untouched', async () => {
      const ref = await f.seed('org_a', next('hang'));
      await f.plane.getToken(ref);
      const stored = await f.stored(ref);
      f.fault('hang');
      try {
        const started = performance.now();
        const results = await Promise.allSettled(
          Array.from({ length: 5 }, () => f.plane.getToken(ref, { forceRefresh: true })),
        );
        const elapsed = performance.now() - started;
        for (const r of results) {
          expect(r.status).toBe('rejected');
          expect((r as PromiseRejectedResult).reason).toMatchObject({ reason: 'provider_unavailable' });
        }
        expect(elapsed).toBeGreaterThanOrEqual(f.timeoutMs - 20);
        expect(elapsed).toBeLessThan(f.timeoutMs + 1_500);
        expect(await f.stored(ref)).toEqual(stored);
      } finally {
        f.fault('none');
      }
    });

    it('a refused grant yields connection_needs_reauth and the connection says so', async () => {
      const ref = await f.seed('org_a', next('revoked'));
      const token = await f.plane.getToken(ref);
      f.fault('revoke');
      try {
        const err = await f.plane.getToken(ref, { forceRefresh: true }).catch((e: unknown) => e);
        expect(err).toMatchObject({ reason: 'connection_needs_reauth' });
        expect(String((err as Error).message)).not.toContain(token.accessToken);
        expect((await f.plane.getConnection(ref)).status).toBe('needs_reauth');
      } finally {
        f.fault('none');
      }
    });

    it('deleteConnection removes it once; afterwards it is connection_not_found', async () => {
      const ref = await f.seed('org_a', next('del'));
      await f.plane.getToken(ref);
      expect(await f.plane.deleteConnection({ ...ref, orgId: 'org_a' })).toBe(true);
      expect(await reasonOf(f.plane.getToken(ref))).toBe('connection_not_found');
      expect(await f.plane.deleteConnection(ref)).toBe(false);
    });
  });
}
