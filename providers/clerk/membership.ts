import { ConfigError } from '../../src/core/errors';
import { AuthRejection } from '../../src/core/failure';
import type { Principal } from '../../src/core/principal';
import type { MembershipAnswer, MembershipHook } from '../../src/identity/authorizer';
import { assertSecureUrl } from '../oidc/urls';
import { createTtlCache } from '../shared/ttl-cache';
import { CLERK_PROVIDER_NAME } from './adapter';
import { createClerkApi, trimTrailingSlashes } from './backend';

/**
 * Options of {@link createClerkMembership}. The fields match the Clerk plane configuration, so
 * `createClerkMembership(loadConfig(process.env))` works.
 *
 * @example
 * ```ts
 * const options: ClerkMembershipOptions = { secretKey: process.env.CLERK_SECRET_KEY };
 * ```
 */
export interface ClerkMembershipOptions {
  readonly secretKey?: string;
  /** Default `https://api.clerk.com`. */
  readonly apiUrl?: string;
  /** Allow an http `apiUrl` on a loopback host (tests, development). */
  readonly allowInsecureRequests?: boolean;
  /** Every Backend API request goes through it (proxies, tests). Default: the global `fetch`. */
  readonly fetch?: typeof fetch;
  /** Timeout of each lookup (every page and retry included); the request is aborted then. Default 5000. */
  readonly timeoutMs?: number;
  /** Retries on 429/5xx/network. Default 1. */
  readonly maxRetries?: number;
  /** Seconds an answer is reused. Default 60. */
  readonly cacheTtlSec?: number;
  /** Upper bound on cached answers. Default 10 000. */
  readonly cacheMaxEntries?: number;
  /** The Clerk user id of a principal, or null. Default: `providerSubject` of `clerk` user principals. */
  readonly userIdOf?: (principal: Principal) => string | null;
}

/**
 * One organization membership of a user.
 *
 * @example
 * ```ts
 * const m: ClerkOrgMembership = { orgId: 'org_1', role: 'org:admin', permissions: ['org:reports:read'] };
 * ```
 */
export interface ClerkOrgMembership {
  readonly orgId: string;
  readonly role: string;
  readonly permissions: readonly string[];
}

/**
 * The Backend API lookups behind the membership hook.
 *
 * @example
 * ```ts
 * const membership = createClerkMembership({ secretKey });
 * const authorizer = createAuthorizer({ isMember: membership.isMember });
 * ```
 */
export interface ClerkMembership {
  /** The `MembershipHook` of `createAuthorizer`: `{ roles: [role], permissions }` in that org, or null. */
  readonly isMember: MembershipHook;
  /** Every organization membership of a user (every page, cached). */
  memberships(userId: string, signal?: AbortSignal): Promise<readonly ClerkOrgMembership[]>;
  /** Forgets cached answers (one user's, or all). */
  forget(userId?: string): void;
}

const PAGE_SIZE = 100;
const MAX_PAGES = 10;

/**
 * Org membership through the Clerk Backend API, `GET <apiUrl>/v1/users/{id}/organization_memberships
 * ?limit&offset` (the request `@clerk/backend`'s `users.getOrganizationMembershipList` sends, answered
 * by `{ data: [organization_membership…], total_count }`), every page (bounded), cached per user in a
 * bounded TTL cache with one lookup in flight per user. Requests go through `fetch` (default: the
 * global fetch), not the SDK, which has no `fetch` seam (see `createClerkApi`); a lookup is aborted at
 * `timeoutMs`, every page and retry included. An unknown user (404) is a member of nothing; any other
 * failure throws `AuthRejection('provider_unavailable')` (503 through `createAuthorizer`, never an
 * accept).
 *
 * @throws ConfigError without `secretKey`, or for an insecure `apiUrl`.
 * @example
 * ```ts
 * import { createClerkMembership } from 'authplane/clerk';
 * const membership = createClerkMembership({ secretKey: process.env.CLERK_SECRET_KEY });
 * const authorizer = createAuthorizer({ isMember: membership.isMember });
 * ```
 */
export function createClerkMembership(options: ClerkMembershipOptions): ClerkMembership {
  if (!options.secretKey) throw new ConfigError('secretKey', 'is required for the Backend API');
  const apiUrl = trimTrailingSlashes(options.apiUrl ?? 'https://api.clerk.com');
  assertSecureUrl('apiUrl', apiUrl, options.allowInsecureRequests ?? false);
  const secretKey = options.secretKey;
  const timeoutMs = options.timeoutMs ?? 5000;
  const api = createClerkApi({
    apiUrl,
    fetch: options.fetch,
    timeoutMs,
    maxRetries: options.maxRetries ?? 1,
  });
  const cache = createTtlCache<readonly ClerkOrgMembership[]>({
    ttlSec: options.cacheTtlSec ?? 60,
    maxEntries: options.cacheMaxEntries ?? 10_000,
  });
  const userIdOf =
    options.userIdOf ??
    ((principal: Principal) =>
      principal.provider === CLERK_PROVIDER_NAME && principal.kind === 'user'
        ? principal.providerSubject
        : null);

  const memberships = (userId: string, signal?: AbortSignal) =>
    cache.get(userId, async () => {
      const all: ClerkOrgMembership[] = [];
      const deadline = Date.now() + timeoutMs;
      for (let page = 0; page < MAX_PAGES; page++) {
        const result = (await api.call({
          method: 'GET',
          path: `/v1/users/${encodeURIComponent(userId)}/organization_memberships`,
          query: { limit: PAGE_SIZE, offset: page * PAGE_SIZE },
          bearer: secretKey,
          signal,
          deadline,
          // An unknown user belongs to no organization: a definite answer, not an outage.
          onStatus: (status) => (status === 404 && page === 0 ? { data: [], total_count: 0 } : undefined),
        })) as { data?: unknown; total_count?: unknown } | null;
        const items: unknown = result?.data;
        if (!Array.isArray(items)) throw malformed();
        for (const item of items) all.push(toMembership(item));
        const total = result?.total_count;
        if (items.length < PAGE_SIZE || (typeof total === 'number' && all.length >= total)) break;
      }
      return Object.freeze(all);
    });

  const isMember: MembershipHook = async (principal, orgId, context): Promise<MembershipAnswer> => {
    const userId = userIdOf(principal);
    if (!userId) return null;
    const found = (await memberships(userId, context.signal)).find((m) => m.orgId === orgId);
    return found ? { roles: [found.role], permissions: found.permissions } : null;
  };

  return Object.freeze({
    isMember,
    memberships,
    forget(userId?: string) {
      cache.forget(userId);
    },
  });
}

function toMembership(item: unknown): ClerkOrgMembership {
  const m = (item ?? {}) as { role?: unknown; permissions?: unknown; organization?: { id?: unknown } };
  const permissions = m.permissions ?? [];
  if (
    typeof m.organization?.id !== 'string' ||
    typeof m.role !== 'string' ||
    !Array.isArray(permissions) ||
    !permissions.every((p) => typeof p === 'string')
  ) {
    throw malformed();
  }
  return Object.freeze({
    orgId: m.organization.id,
    role: m.role,
    permissions: Object.freeze([...permissions]),
  });
}

function malformed(): AuthRejection {
  return new AuthRejection('provider_unavailable', 'Clerk returned an unusable response');
}
