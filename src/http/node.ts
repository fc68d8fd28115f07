/**
 * authplane/node: handler wrappers for plain node:http servers.
 *
 * @example
 * ```ts
 * import { createServer } from 'node:http';
 * import { authenticate, requireScopes } from 'authplane/node';
 * const protect = authenticate(plane);
 * createServer(protect(requireScopes('read')((req, res) => res.end(req.auth.subject)))).listen(3000);
 * ```
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AuthFailure } from '../core/failure';
import type { Principal } from '../core/principal';
import { toHttp } from '../core/response';
import type { IdentityPlane } from '../identity/types';
import { metadataEndpoint, pathOf, type ResourceMetadataHandlerOptions } from './metadata';
import {
  type AuthenticateOptions,
  binder,
  defineGuards,
  type Guard,
  type RequestView,
  runGuard,
} from './shared';

export type { ResourceMetadataHandlerOptions } from './metadata';
export type { AuthenticateOptions, GuardRequirements, OrgSource } from './shared';
export { traceIdOf } from './shared';

/**
 * A node:http request that `authenticate` accepted: the principal is on `req.auth`.
 *
 * @example
 * ```ts
 * const handler = (req: AuthenticatedRequest, res: ServerResponse) => res.end(req.auth.subject);
 * ```
 */
export type AuthenticatedRequest<Req extends IncomingMessage = IncomingMessage> = Req & { auth: Principal };

/**
 * A node:http request handler.
 *
 * @example
 * ```ts
 * const health: NodeHandler<IncomingMessage> = (_req, res) => res.end('ok');
 * ```
 */
export type NodeHandler<Req> = (req: Req, res: ServerResponse) => unknown;

/**
 * Wraps a handler of authenticated requests with a guard.
 *
 * @example
 * ```ts
 * const canRead: Guarded = requireScopes('read');
 * const handler = canRead((req, res) => res.end('ok'));
 * ```
 */
export type Guarded = <Req extends AuthenticatedRequest>(handler: NodeHandler<Req>) => NodeHandler<Req>;

/**
 * Authenticates every request with the plane before `handler` runs: the principal lands on `req.auth`,
 * or the request is answered with the failure (401/400/503, `WWW-Authenticate`, `Retry-After`,
 * `x-trace-id`, JSON body) and the handler never runs. Duplicate Authorization headers are seen in
 * `rawHeaders`. Errors thrown by `handler` propagate to the caller.
 *
 * @example
 * ```ts
 * const protect = authenticate(plane, { authorizer: createAuthorizer({ isMember }) });
 * createServer(protect((req, res) => res.end(`hello ${req.auth.subject}`)));
 * ```
 */
export function authenticate(
  plane: IdentityPlane,
  options?: AuthenticateOptions,
): <Req extends IncomingMessage>(
  handler: NodeHandler<AuthenticatedRequest<Req>>,
) => (req: Req, res: ServerResponse) => Promise<void> {
  const bind = binder(plane, options);
  return (handler) => async (req, res) => {
    const result = await plane.authenticate(req);
    if (!result.ok) return writeFailure(res, result.failure);
    const authed = req as AuthenticatedRequest<typeof req>;
    authed.auth = result.principal;
    bind(req, result.principal, result.traceId);
    await handler(authed, res);
  };
}

/**
 * Writes a failure as the response: status, `WWW-Authenticate`, `Retry-After` on 503, `Cache-Control:
 * no-store`, `x-trace-id` and the JSON body `{ error, reason, trace_id }`. For hand-written routers.
 *
 * @example
 * ```ts
 * const result = await plane.authenticate(req);
 * if (!result.ok) return writeFailure(res, result.failure);
 * ```
 */
export function writeFailure(res: ServerResponse, failure: AuthFailure): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const { status, headers, body } = toHttp(failure);
  res.writeHead(status, headers).end(body);
}

/**
 * Serves the plane's RFC 9728 protected resource metadata at its path-aware well-known path
 * (`/.well-known/oauth-protected-resource{/path}` of `resource`) and hands every other request to
 * `handler`. Wrap it around `authenticate`: the document is public. The document is built once, here,
 * so a missing `resource` fails at start-up.
 *
 * @example
 * ```ts
 * const protect = authenticate(plane);
 * createServer(resourceMetadata(plane)(protect((req, res) => res.end(req.auth.subject))));
 * ```
 */
export function resourceMetadata(
  plane: IdentityPlane,
  options?: ResourceMetadataHandlerOptions,
): <Req extends IncomingMessage>(
  handler: NodeHandler<Req>,
) => (req: Req, res: ServerResponse) => Promise<void> {
  const endpoint = metadataEndpoint(plane, options);
  return (handler) => async (req, res) => {
    if (pathOf(req.url) !== endpoint.path) {
      await handler(req, res);
      return;
    }
    const { status, headers, body } = endpoint.answer(req.method ?? 'GET');
    res.writeHead(status, headers).end(body);
  };
}

const guards = defineGuards(wrap);

/**
 * Requires every listed scope: 403 `scope_insufficient` with the RFC 6750 `scope` attribute otherwise.
 *
 * @example
 * ```ts
 * protect(requireScopes('sync:write')(handler));
 * ```
 */
export const requireScopes = guards.requireScopes;

/**
 * Requires at least one of the listed scopes.
 *
 * @example
 * ```ts
 * protect(requireAnyScope('read', 'admin')(handler));
 * ```
 */
export const requireAnyScope = guards.requireAnyScope;

/**
 * Requires every listed role (in the org `requireOrg` established, else the token's): 403
 * `role_insufficient` otherwise.
 *
 * @example
 * ```ts
 * protect(requireRoles('admin')(handler));
 * ```
 */
export const requireRoles = guards.requireRoles;

/**
 * Requires at least one of the listed roles.
 *
 * @example
 * ```ts
 * protect(requireAnyRole('admin', 'owner')(handler));
 * ```
 */
export const requireAnyRole = guards.requireAnyRole;

/**
 * Resolves the org the request acts on and checks it against the principal: `org_mismatch` for
 * another org (or `org_membership_missing` through the authorizer's `isMember` hook). node:http has no
 * route parameters: `{ param }` reads `req.params` when a router set it; pass a function otherwise.
 *
 * @example
 * ```ts
 * protect(requireOrg((req) => new URL(req.url ?? '/', 'http://x').pathname.split('/')[2])(handler));
 * protect(requireOrg({ header: 'x-org-id' }, { roles: ['admin'] })(handler));
 * ```
 */
export const requireOrg = guards.requireOrg;

/**
 * Requires any combination of scopes, roles, permissions, org and workspace (the visibility hook).
 *
 * @example
 * ```ts
 * protect(requireAccess({ permissions: ['reports:read'], workspaceId: 'ws_1' })(handler));
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
 * protect(requireAuthentication({ acr: ['urn:example:mfa'], maxAgeSec: 300 })(handler));
 * ```
 */
export const requireAuthentication = guards.requireAuthentication;

function wrap(guard: Guard<IncomingMessage>, name: string): Guarded {
  return (handler) => async (req, res) => {
    const failure = await runGuard(guard, req, req, new NodeRequestView(req), name);
    if (failure) return writeFailure(res, failure);
    await handler(req, res);
  };
}

// One small object per guarded request, its methods on the prototype rather than two fresh closures.
class NodeRequestView implements RequestView {
  readonly #req: IncomingMessage;

  constructor(req: IncomingMessage) {
    this.#req = req;
  }

  param(name: string): string | undefined {
    const value = (this.#req as { params?: Record<string, unknown> }).params?.[name];
    return typeof value === 'string' ? value : undefined;
  }

  header(name: string): string | undefined {
    const value = this.#req.headers[name];
    return typeof value === 'string' ? value : undefined;
  }
}
