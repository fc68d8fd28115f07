/**
 * authplane/hono: middleware and route guards for Hono 4, on any runtime (the request is the Web
 * `Request`; failures are `toResponse`).
 *
 * @example
 * ```ts
 * import { authenticate, requireScopes, type AuthEnv } from 'authplane/hono';
 * const app = new Hono<AuthEnv>();
 * app.use('/api/*', authenticate(plane));
 * app.get('/api/items', requireScopes('read'), (c) => c.json({ for: c.var.auth.subject }));
 * ```
 */
import type { Principal } from '../core/principal';
import { toResponse } from '../core/response';
import type { IdentityPlane } from '../identity/types';
import { metadataEndpoint, type ResourceMetadataHandlerOptions } from './metadata';
import { type AuthenticateOptions, binder, defineGuards, type Guard, runGuard } from './shared';

export type { ResourceMetadataHandlerOptions } from './metadata';
export type { AuthenticateOptions, GuardRequirements, OrgSource } from './shared';
export { traceIdOf } from './shared';

/**
 * The Hono environment `authenticate` provides: `c.var.auth` / `c.get('auth')` is the principal.
 *
 * @example
 * ```ts
 * const app = new Hono<AuthEnv>();
 * app.get('/me', authenticate(plane), (c) => c.json({ subject: c.get('auth').subject }));
 * ```
 */
export type AuthEnv = { Variables: { auth: Principal } };

/**
 * What the adapter reads and writes of a Hono context: a structural view of `Context<AuthEnv>`, so that
 * these declarations compile without hono's types.
 *
 * @example
 * ```ts
 * const subject = (c: HonoContextLike) => c.req.header('x-org-id');
 * ```
 */
export interface HonoContextLike {
  readonly req: {
    readonly raw: Request;
    param(key: string): string | undefined;
    header(name: string): string | undefined;
  };
  set(key: 'auth', value: Principal): void;
}

/**
 * A middleware or guard of this adapter, usable wherever Hono takes a middleware of an app typed
 * `Hono<AuthEnv>`.
 *
 * @example
 * ```ts
 * const canRead: HonoMiddleware = requireScopes('read');
 * app.get('/items', canRead, (c) => c.json(c.var.auth));
 * ```
 */
export type HonoMiddleware = (c: HonoContextLike, next: () => Promise<void>) => Promise<Response | undefined>;

/**
 * Authenticates the request with the plane: the principal is set as `auth`, or the middleware answers
 * with `toResponse(failure)` (401/400/503, `WWW-Authenticate`, `Retry-After`, `x-trace-id`, JSON body).
 * A repeated Authorization header reaches the Web `Request` joined with a comma, and is refused as
 * `credentials_ambiguous`.
 *
 * @example
 * ```ts
 * app.use('/api/*', authenticate(plane, { authorizer: createAuthorizer({ isMember }) }));
 * ```
 */
export function authenticate(plane: IdentityPlane, options?: AuthenticateOptions): HonoMiddleware {
  const bind = binder(plane, options);
  return async function authplaneAuthenticate(c, next) {
    const result = await plane.authenticate(c.req.raw);
    if (!result.ok) return toResponse(result.failure);
    c.set('auth', result.principal);
    bind(c, result.principal, result.traceId);
    await next();
  };
}

/**
 * Middleware serving the plane's RFC 9728 protected resource metadata at its path-aware well-known
 * path (`/.well-known/oauth-protected-resource{/path}` of `resource`); every other request goes on.
 * Use it before `authenticate`: the document is public. The document is built once, here, so a
 * missing `resource` fails at start-up.
 *
 * @example
 * ```ts
 * app.use(resourceMetadata(plane, { resource: 'https://api.example/mcp' }));
 * app.use('/mcp', authenticate(plane));
 * ```
 */
export function resourceMetadata(
  plane: IdentityPlane,
  options?: ResourceMetadataHandlerOptions,
): (
  c: { readonly req: { readonly path: string; readonly method: string } },
  next: () => Promise<void>,
) => Promise<Response | undefined> {
  const endpoint = metadataEndpoint(plane, options);
  return async function authplaneResourceMetadata(c, next) {
    if (c.req.path !== endpoint.path) {
      await next();
      return undefined;
    }
    const { status, headers, body } = endpoint.answer(c.req.method);
    return new Response(status === 204 || body === '' ? null : body, { status, headers });
  };
}

const guards = defineGuards(wrap);

/**
 * Requires every listed scope: 403 `scope_insufficient` with the RFC 6750 `scope` attribute otherwise.
 *
 * @example
 * ```ts
 * app.post('/sync', requireScopes('sync:write'), handler);
 * ```
 */
export const requireScopes = guards.requireScopes;

/**
 * Requires at least one of the listed scopes.
 *
 * @example
 * ```ts
 * app.get('/items', requireAnyScope('read', 'admin'), handler);
 * ```
 */
export const requireAnyScope = guards.requireAnyScope;

/**
 * Requires every listed role (in the org `requireOrg` established, else the token's).
 *
 * @example
 * ```ts
 * app.get('/admin', requireRoles('admin'), handler);
 * ```
 */
export const requireRoles = guards.requireRoles;

/**
 * Requires at least one of the listed roles.
 *
 * @example
 * ```ts
 * app.get('/admin', requireAnyRole('admin', 'owner'), handler);
 * ```
 */
export const requireAnyRole = guards.requireAnyRole;

/**
 * Resolves the org the request acts on (`'token'`, `{ param }`, `{ header }` or a function of the context)
 * and checks it against the principal: `org_mismatch`, or `org_membership_missing` through the hook.
 *
 * @example
 * ```ts
 * app.get('/orgs/:orgId/reports', requireOrg({ param: 'orgId' }), requireScopes('read'), handler);
 * ```
 */
export const requireOrg = guards.requireOrg;

/**
 * Requires any combination of scopes, roles, permissions, org and workspace (the visibility hook).
 *
 * @example
 * ```ts
 * app.get('/reports', requireAccess({ permissions: ['reports:read'] }), handler);
 * ```
 */
export const requireAccess = guards.requireAccess;

/**
 * Step-up (RFC 9470): requires the token's `acr` to be one of `acr` and its `auth_time` to be at most
 * `maxAgeSec` old. Otherwise 401 `authentication_insufficient` with
 * `WWW-Authenticate: Bearer error="insufficient_user_authentication", acr_values="…", max_age=…`.
 *
 * @example
 * ```ts
 * app.post('/transfers', requireAuthentication({ acr: ['urn:example:mfa'], maxAgeSec: 300 }), handler);
 * ```
 */
export const requireAuthentication = guards.requireAuthentication;

function wrap(guard: Guard<HonoContextLike>, name: string): HonoMiddleware {
  return async function authplaneGuard(c, next) {
    const failure = await runGuard(
      guard,
      c,
      c,
      { param: (key) => c.req.param(key), header: (key) => c.req.header(key) },
      name,
    );
    if (failure) return toResponse(failure);
    await next();
  };
}
