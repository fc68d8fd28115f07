import type { ManagementClient } from 'auth0';
import { ConfigError } from '../../src/core/errors';
import { AuthRejection } from '../../src/core/failure';
import type { Principal } from '../../src/core/principal';
import type { MembershipAnswer, MembershipHook } from '../../src/identity/authorizer';
import { withRetries } from '../shared/retry';
import { createTtlCache } from '../shared/ttl-cache';
import { AUTH0_PROVIDER_NAME } from './adapter';
import { isRetryableAuth0Error, retryAfterMs, toAuth0Rejection } from './errors';
import { createSdkFetch } from './http';
import { auth0 } from './sdk';

/**
 * Options of {@link createAuth0Membership}. The fields match the Auth0 plane configuration, so
 * `createAuth0Membership(loadConfig(process.env))` works.
 *
 * @example
 * ```ts
 * const options: Auth0MembershipOptions = { domain: 'acme.eu.auth0.com', clientId, clientSecret };
 * ```
 */
export interface Auth0MembershipOptions {
  readonly domain: string;
  /** A machine-to-machine application authorized for the Management API (`read:users`, `read:organizations`, `read:organization_member_roles`). */
  readonly clientId?: string;
  readonly clientSecret?: string;
  /** Seam for every request: the SDK's token and Management API calls. */
  readonly fetch?: typeof fetch;
  /** Timeout of each call (the whole lookup, retries included). Default 5000. */
  readonly timeoutMs?: number;
  /** Retries on 429/5xx/network. Default 1. */
  readonly maxRetries?: number;
  /** Seconds an answer is reused. Default 60. */
  readonly cacheTtlSec?: number;
  /** Upper bound on cached answers. Default 10 000. */
  readonly cacheMaxEntries?: number;
  /** The Auth0 user id of a principal, or null if it has none. Default: `providerSubject` of `auth0` principals. */
  readonly userIdOf?: (principal: Principal) => string | null;
}

/**
 * The Management API lookups behind the membership hook.
 *
 * @example
 * ```ts
 * const membership = createAuth0Membership({ domain, clientId, clientSecret });
 * const authorizer = createAuthorizer({ isMember: membership.isMember });
 * ```
 */
export interface Auth0Membership {
  /** The `MembershipHook` of `createAuthorizer`: `{ roles }` in that org, or null when not a member. */
  readonly isMember: MembershipHook;
  /** The ids of the organizations a user belongs to (every page, cached). */
  organizations(userId: string, signal?: AbortSignal): Promise<readonly string[]>;
  /** The names of a member's roles in one organization (every page, cached). */
  roles(orgId: string, userId: string, signal?: AbortSignal): Promise<readonly string[]>;
  /** Forgets cached answers (one user's, or all). */
  forget(userId?: string): void;
  /** Aborts requests in flight and forgets every answer. */
  close(): void;
}

/** Page size asked of the Management API, and the most pages read for one list. */
const PER_PAGE = 50;
const MAX_PAGES = 20;

/**
 * Org membership and org roles through the Auth0 Management API (`ManagementClient` of the auth0
 * SDK, client-credentials token from its `TokenProvider`):
 * `GET /api/v2/users/{id}/organizations` and `GET /api/v2/organizations/{org}/members/{user}/roles`,
 * every page (`page`/`per_page`, bounded), cached per user and per (org, user) in a bounded TTL cache
 * with one request in flight per key. Every request goes through `fetch` with our timeout; the SDK's
 * own retries are off (`maxRetries: 0`) and replaced by `maxRetries` short retries within the timeout.
 * A user Auth0 does not know (404) is a member of nothing; any other failure throws an
 * `AuthRejection('provider_unavailable')`, which `createAuthorizer` turns into a 503, never an accept.
 *
 * @throws ConfigError when `clientId`/`clientSecret` are missing.
 * @example
 * ```ts
 * import { createAuth0Membership } from 'authplane/auth0';
 * const membership = createAuth0Membership({ domain: 'acme.eu.auth0.com', clientId, clientSecret });
 * const authorizer = createAuthorizer({ isMember: membership.isMember });
 * const decision = await authorizer.check(principal, { orgId: 'org_2', roles: ['admin'] });
 * ```
 */
export function createAuth0Membership(options: Auth0MembershipOptions): Auth0Membership {
  if (!options.clientId) throw new ConfigError('clientId', 'is required for the Management API');
  if (!options.clientSecret) throw new ConfigError('clientSecret', 'is required for the Management API');
  const timeoutMs = options.timeoutMs ?? 5000;
  const maxRetries = options.maxRetries ?? 1;
  const shutdown = new AbortController();
  let client: ManagementClient;
  try {
    client = new auth0.ManagementClient({
      domain: options.domain,
      clientId: options.clientId,
      clientSecret: options.clientSecret,
      fetch: createSdkFetch({ fetch: options.fetch, timeoutMs, signal: shutdown.signal }),
      // The SDK's defaults (2 retries from 1 s, 60 s timeout) would outlast any request: ours replace them.
      maxRetries: 0,
      timeoutInSeconds: Math.ceil(timeoutMs / 1000),
      telemetry: false,
    });
  } catch (cause) {
    throw new ConfigError('domain', 'must be a bare host name such as tenant.eu.auth0.com', { cause });
  }
  const cache = createTtlCache<readonly string[]>({
    ttlSec: options.cacheTtlSec ?? 60,
    maxEntries: options.cacheMaxEntries ?? 10_000,
  });
  const userIdOf =
    options.userIdOf ??
    ((principal: Principal) =>
      principal.provider === AUTH0_PROVIDER_NAME ? principal.providerSubject : null);

  const call = async <T>(run: (signal: AbortSignal) => Promise<T>, signal?: AbortSignal): Promise<T> => {
    const deadline = Date.now() + timeoutMs;
    const stop = signal
      ? AbortSignal.any([signal, AbortSignal.timeout(timeoutMs)])
      : AbortSignal.timeout(timeoutMs);
    try {
      return await withRetries(() => run(stop), {
        maxRetries,
        deadline,
        retryable: isRetryableAuth0Error,
        retryAfterMs,
        signal: stop,
      });
    } catch (err) {
      throw toAuth0Rejection(err);
    }
  };
  const requestOptions = (abortSignal: AbortSignal) => ({ abortSignal, maxRetries: 0 });

  const organizations = (userId: string, signal?: AbortSignal) =>
    cache.get(`${userId}\u0000orgs`, () =>
      call(async (abortSignal) => {
        const ids: string[] = [];
        for (let page = 0; page < MAX_PAGES; page++) {
          let result: Awaited<ReturnType<typeof client.users.organizations.list>>;
          try {
            result = await client.users.organizations.list(
              userId,
              { page, per_page: PER_PAGE, include_totals: true },
              requestOptions(abortSignal),
            );
          } catch (err) {
            // An unknown user belongs to no organization: a definite answer, not an outage.
            if (page === 0 && (err as { statusCode?: unknown }).statusCode === 404) return Object.freeze([]);
            throw err;
          }
          const items = result.data;
          if (!Array.isArray(items)) throw malformed();
          for (const org of items) {
            if (!org || typeof org.id !== 'string') throw malformed();
            ids.push(org.id);
          }
          const total = (result.response as { total?: unknown }).total;
          if (items.length < PER_PAGE || (typeof total === 'number' && ids.length >= total)) break;
        }
        return Object.freeze(ids);
      }, signal),
    );

  const roles = (orgId: string, userId: string, signal?: AbortSignal) =>
    cache.get(`${userId}\u0000roles\u0000${orgId}`, () =>
      call(async (abortSignal) => {
        const names: string[] = [];
        for (let page = 0; page < MAX_PAGES; page++) {
          const result = await client.organizations.members.roles.list(
            orgId,
            userId,
            { page, per_page: PER_PAGE, include_totals: true },
            requestOptions(abortSignal),
          );
          const items = result.data;
          if (!Array.isArray(items)) throw malformed();
          for (const role of items) {
            if (!role || typeof role.name !== 'string') throw malformed();
            names.push(role.name);
          }
          const total = (result.response as { total?: unknown }).total;
          if (items.length < PER_PAGE || (typeof total === 'number' && names.length >= total)) break;
        }
        return Object.freeze(names);
      }, signal),
    );

  const isMember: MembershipHook = async (principal, orgId, context): Promise<MembershipAnswer> => {
    const userId = userIdOf(principal);
    if (!userId) return null;
    const orgs = await organizations(userId, context.signal);
    if (!orgs.includes(orgId)) return null;
    return { roles: await roles(orgId, userId, context.signal) };
  };

  return Object.freeze({
    isMember,
    organizations,
    roles,
    forget(userId?: string) {
      cache.forget(userId === undefined ? undefined : `${userId}\u0000`);
    },
    close() {
      shutdown.abort();
      cache.forget();
    },
  });
}

function malformed(): AuthRejection {
  return new AuthRejection('provider_unavailable', 'Auth0 returned an unusable response');
}
