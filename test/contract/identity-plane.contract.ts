/**
 * The IdentityPlane contract: what every identity provider adapter must do, checked end to end through
 * `plane.verify` and `authorize`. Run it with a factory per adapter:
 *
 * ```ts
 * identityPlaneContract('auth0 (fake)', async () => ({
 *   provider: 'auth0',
 *   plane,                       // an IdentityPlane over the adapter under test
 *   orgId: 'org_contract',       // the org of `mint.valid()` tokens
 *   names: { read: 'read', write: 'write', role: 'admin' }, // optional: scope/role names the provider can mint
 *   mint: {
 *     valid: ({ scopes, roles }) => …,  // a valid user token in `orgId`, with these scopes and roles
 *     expired: () => …,                 // expired (beyond any clock tolerance)
 *     forged: () => …,                  // a known kid, signed by a key the provider does not have
 *     wrongAudience: () => …,           // valid but for another audience (Clerk: another authorized party)
 *     otherOrg: () => …,                // valid, in another org
 *   },
 *   outage: {                    // optional: adapters that fetch keys
 *     unseenKey: () => …,        // a valid token signed by a key the plane has not fetched yet (publish it)
 *     down: () => …, up: () => …,// the provider's key endpoint unreachable / back
 *   },
 *   close: () => …,
 * }), { outage: true }); // false for adapters with static keys (no outage controls)
 * ```
 *
 * Keep the plane's JWKS unknown-kid cooldown at 0 in the factory, so the outage check is deterministic.
 * The outage check runs last (it rotates keys on the provider side).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuthFailure, AuthResult } from '../../src/core/failure';
import type { Principal } from '../../src/core/principal';
import { authorize } from '../../src/identity/authorize';
import type { IdentityPlane } from '../../src/identity/types';

/** What a contract run needs from the adapter under test. */
export interface IdentityPlaneFixture {
  readonly provider: string;
  readonly plane: IdentityPlane;
  readonly orgId: string;
  readonly names?: { readonly read?: string; readonly write?: string; readonly role?: string };
  /** RFC 9728: the `authorization_servers` the plane must advertise (`[]` for none). */
  readonly authorizationServers?: readonly string[];
  readonly mint: {
    valid(options?: { scopes?: readonly string[]; roles?: readonly string[] }): Promise<string>;
    expired(): Promise<string>;
    forged(): Promise<string>;
    wrongAudience(): Promise<string>;
    otherOrg(): Promise<string>;
  };
  readonly outage?: {
    unseenKey(): Promise<string>;
    down(): Promise<void>;
    up(): Promise<void>;
  };
  close(): Promise<void>;
}

const PRINCIPAL_FIELDS = [
  'subject',
  'providerSubject',
  'provider',
  'kind',
  'orgId',
  'roles',
  'scopes',
  'sessionId',
  'expiresAt',
  'authMethod',
  'claims',
].sort();

/**
 * Registers the contract tests for one adapter.
 *
 * @example
 * ```ts
 * identityPlaneContract('oidc (dev issuer)', async () => oidcFixture());
 * identityPlaneContract('legacy (HS256)', async () => legacyFixture(), { outage: false });
 * ```
 */
export function identityPlaneContract(
  name: string,
  setup: () => Promise<IdentityPlaneFixture>,
  options: { readonly outage?: boolean } = {},
): void {
  describe(`IdentityPlane contract: ${name}`, () => {
    let f: IdentityPlaneFixture;
    let read = 'read';
    let write = 'write';
    let role = 'admin';
    beforeAll(async () => {
      f = await setup();
      read = f.names?.read ?? read;
      write = f.names?.write ?? write;
      role = f.names?.role ?? role;
    });
    afterAll(async () => {
      await f?.close();
    });

    const principalOf = (result: AuthResult): Principal => {
      if (!result.ok) throw new Error(`expected a principal, got ${result.failure.reason}`);
      return result.principal;
    };
    const failureOf = (result: AuthResult): AuthFailure => {
      if (result.ok) throw new Error('expected a failure, got a principal');
      return result.failure;
    };
    const refused = async (token: string, reason: string, status = 401) => {
      const failure = failureOf(await f.plane.verify(token));
      expect(failure).toMatchObject({ reason, status, provider: f.provider });
      expect(failure.message).not.toContain(token.slice(-20));
      expect(Object.isFrozen(failure)).toBe(true);
    };

    it('a valid token gives a complete, frozen principal', async () => {
      const principal = principalOf(
        await f.plane.verify(await f.mint.valid({ scopes: [read], roles: [role] })),
      );
      expect(Object.keys(principal).sort()).toEqual(PRINCIPAL_FIELDS);
      expect(principal.provider).toBe(f.provider);
      expect(principal.kind).toBe('user');
      expect(principal.orgId).toBe(f.orgId);
      expect(typeof principal.subject).toBe('string');
      expect(principal.subject.length).toBeGreaterThan(0);
      expect(typeof principal.providerSubject).toBe('string');
      expect(principal.authMethod).toBe('jwt');
      expect(principal.expiresAt).toBeInstanceOf(Date);
      expect((principal.expiresAt as Date).getTime()).toBeGreaterThan(Date.now());
      expect(principal.sessionId === null || typeof principal.sessionId === 'string').toBe(true);
      expect(principal.scopes).toContain(read);
      expect(principal.roles).toContain(role);
      expect(Object.isFrozen(principal)).toBe(true);
      expect(Object.isFrozen(principal.roles) && Object.isFrozen(principal.scopes)).toBe(true);
      expect(Object.isFrozen(principal.claims)).toBe(true);
      expect(() => (principal.scopes as string[]).push('admin:all')).toThrow();
    });

    it('an expired token is token_expired (401)', async () => {
      await refused(await f.mint.expired(), 'token_expired');
    });

    it('a forged signature is signature_invalid (401)', async () => {
      await refused(await f.mint.forged(), 'signature_invalid');
    });

    it('a token for another audience is audience_mismatch (401)', async () => {
      await refused(await f.mint.wrongAudience(), 'audience_mismatch');
    });

    it('a token of another org is verified, then refused for this org: org_mismatch (403)', async () => {
      const principal = principalOf(await f.plane.verify(await f.mint.otherOrg()));
      expect(principal.orgId).not.toBe(f.orgId);
      const check = authorize(principal, { orgId: f.orgId });
      expect(check).toMatchObject({ ok: false, failure: { reason: 'org_mismatch', status: 403 } });
      expect(authorize(principal, { orgId: principal.orgId as string }).ok).toBe(true);
    });

    it('scopes decide through authorize: present ok, missing scope_insufficient (403, scope=)', async () => {
      const principal = principalOf(
        await f.plane.verify(await f.mint.valid({ scopes: [read], roles: [role] })),
      );
      expect(authorize(principal, { scopes: [read], orgId: f.orgId }).ok).toBe(true);
      const check = authorize(principal, { scopes: [write] });
      expect(check).toMatchObject({
        ok: false,
        failure: { reason: 'scope_insufficient', status: 403, scope: [write] },
      });
      const both = principalOf(
        await f.plane.verify(await f.mint.valid({ scopes: [read, write], roles: [role] })),
      );
      expect(authorize(both, { scopes: [read, write] }).ok).toBe(true);
    });

    it('roles decide through authorize: present ok, missing role_insufficient (403)', async () => {
      const principal = principalOf(
        await f.plane.verify(await f.mint.valid({ scopes: [read], roles: [role] })),
      );
      expect(authorize(principal, { roles: [role] }).ok).toBe(true);
      expect(authorize(principal, { roles: ['contract:absent-role'] })).toMatchObject({
        ok: false,
        failure: { reason: 'role_insufficient', status: 403 },
      });
    });

    it('describes itself as an RFC 9728 protected resource, and its 401s name the metadata when configured', async () => {
      const doc = f.plane.resourceMetadata({ resource: 'https://api.contract.test/r' });
      expect(doc.resource).toBe('https://api.contract.test/r');
      expect(doc.bearer_methods_supported).toEqual(['header']);
      if (f.authorizationServers) expect(doc.authorization_servers ?? []).toEqual(f.authorizationServers);
      const failure = failureOf(await f.plane.verify(await f.mint.expired()));
      const url = f.plane.resourceMetadataUrl;
      if (url) expect(failure.challenge).toContain(`resource_metadata="${url}"`);
      else expect(failure.challenge).not.toContain('resource_metadata');
    });

    it('garbage is credentials_malformed (401), never an exception', async () => {
      await refused('not-a-token', 'credentials_malformed');
      const result = await f.plane.verify('eyJhbGciOiJSUzI1NiJ9.e30');
      expect(result.ok).toBe(false);
    });

    // Registered only for adapters that fetch keys (`options.outage`), so no test is skipped.
    if (options.outage !== false) {
      it('outage: an unseen key while the provider is down is provider_unavailable (503), then recovers', async () => {
        if (!f.outage) throw new Error('the fixture has no outage controls; pass { outage: false }');
        const token = await f.outage.unseenKey();
        await f.outage.down();
        try {
          const failure = failureOf(await f.plane.verify(token));
          expect(failure).toMatchObject({ reason: 'provider_unavailable', status: 503, challenge: null });
          expect(failure.retryAfterSec).toBeGreaterThan(0);
        } finally {
          await f.outage.up();
        }
        principalOf(await f.plane.verify(token));
      });
    }
  });
}
