/**
 * authplane/express: middleware and route guards for Express 5.
 *
 * @example
 * ```ts
 * import { authenticate, requireOrg, requireScopes } from 'authplane/express';
 * app.use('/api', authenticate(plane));
 * app.get('/api/orgs/:orgId/reports', requireOrg({ param: 'orgId' }), requireScopes('read'), (req, res) => res.json(req.auth));
 * ```
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Principal } from '../core/principal';
import type { IdentityPlane } from '../identity/types';
import { metadataEndpoint, type ResourceMetadataHandlerOptions } from './metadata';
import { writeFailure } from './node';
import { type AuthenticateOptions, binder, defineGuards, type Guard, runGuard } from './shared';

export type { ResourceMetadataHandlerOptions } from './metadata';
export type { AuthenticateOptions, GuardRequirements, OrgSource } from './shared';
export { traceIdOf } from './shared';

declare global {
  // Express types its request through this global namespace.
  namespace Express {
    interface Request {
      /** The authenticated principal, set by `authenticate(plane)` from `authplane/express`. */
      auth?: Principal;
    }
  }
}

/**
 * What the adapter reads of an Express request: a structural view of `express.Request`, so that these
 * declarations compile without express's types.
 *
 * @example
 * ```ts
 * const subject = (req: ExpressRequestLike) => req.auth?.subject;
 * ```
 */
export interface ExpressRequestLike extends IncomingMessage {
  /** Route parameters (`/orgs/:orgId` → `params.orgId`). */
  params: Record<string, string | string[]>;
  /** The parsed query string. */
  query?: Record<string, unknown>;
  auth?: Principal;
}

/**
 * A middleware or guard of this adapter, assignable wherever Express takes a request handler.
 *
 * @example
 * ```ts
 * const canSync: ExpressHandler = requireScopes('sync:write');
 * app.post('/sync', canSync, handler);
 * ```
 */
export type ExpressHandler = (
  req: ExpressRequestLike,
  res: ServerResponse,
  next: (err?: unknown) => void,
) => Promise<void>;

/**
 * A plain (synchronous) Express middleware of this adapter, such as `resourceMetadata(plane)`.
 *
 * @example
 * ```ts
 * const metadata: ExpressMiddleware = resourceMetadata(plane);
 * app.use(metadata);
 * ```
 */
export type ExpressMiddleware = (
  req: ExpressRequestLike & { readonly path: string; readonly method: string },
  res: ServerResponse,
  next: (err?: unknown) => void,
) => void;

/**
 * Authenticates the request with the plane: the principal lands on `req.auth`, or the response is the
 * failure (401/400/503 with `WWW-Authenticate`, `Retry-After`, `x-trace-id` and a JSON body) and
 * `next` is not called. Duplicate Authorization headers are seen in `rawHeaders`.
 *
 * @example
 * ```ts
 * app.use(authenticate(plane, { authorizer: createAuthorizer({ isMember }) }));
 * ```
 */
export function authenticate(plane: IdentityPlane, options?: AuthenticateOptions): ExpressHandler {
  const bind = binder(plane, options);
  return async function authplaneAuthenticate(req, res, next) {
    const result = await plane.authenticate(req);
    if (!result.ok) return writeFailure(res, result.failure);
    req.auth = result.principal;
    bind(req, result.principal, result.traceId);
    next();
  };
}

/**
 * Serves the plane's RFC 9728 protected resource metadata at its path-aware well-known path
 * (`/.well-known/oauth-protected-resource{/path}` of `resource`) and passes every other request on.
 * Mount it before `authenticate`: the document is public. The document is built once, here, so a
 * missing `resource` fails at start-up.
 *
 * @example
 * ```ts
 * app.use(resourceMetadata(plane, { resource: 'https://api.example/mcp', scopesSupported: ['read'] }));
 * app.use('/mcp', authenticate(plane));
 * ```
 */
export function resourceMetadata(
  plane: IdentityPlane,
  options?: ResourceMetadataHandlerOptions,
): ExpressMiddleware {
  const endpoint = metadataEndpoint(plane, options);
  return function authplaneResourceMetadata(req, res, next) {
    if (req.path !== endpoint.path) return next();
    const { status, headers, body } = endpoint.answer(req.method);
    res.writeHead(status, headers).end(body);
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
 * app.delete('/orgs/:orgId', requireOrg({ param: 'orgId' }), requireRoles('owner'), handler);
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
 * Resolves the org the request acts on (`'token'`, `{ param }`, `{ header }` or a function) and checks it
 * against the principal: `org_mismatch`, or `org_membership_missing` through the authorizer's hook.
 *
 * @example
 * ```ts
 * app.get('/orgs/:orgId/reports', requireOrg({ param: 'orgId' }), handler);
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

function wrap(guard: Guard<ExpressRequestLike>, name: string): ExpressHandler {
  return async function authplaneGuard(req, res, next) {
    const failure = await runGuard(
      guard,
      req,
      req,
      {
        param: (key) => {
          const value = (req.params as Record<string, unknown> | undefined)?.[key];
          return typeof value === 'string' ? value : undefined;
        },
        header: (key) => {
          const value = req.headers[key];
          return typeof value === 'string' ? value : undefined;
        },
      },
      name,
    );
    if (failure) return writeFailure(res, failure);
    next();
  };
}
