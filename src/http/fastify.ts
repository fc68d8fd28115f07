/**
 * authplane/fastify: a Fastify 5 plugin decorating `request.auth`, and route guards.
 *
 * @example
 * ```ts
 * import { authenticate, requireScopes } from 'authplane/fastify';
 * await app.register(authenticate(plane));
 * app.get('/items', { onRequest: requireScopes('read') }, async (request) => ({ for: request.auth?.subject }));
 * ```
 */
import type { IncomingHttpHeaders, IncomingMessage } from 'node:http';
// Only so the augmentation below resolves while building; nothing is imported from fastify.
import type {} from 'fastify';
import type { AuthFailure } from '../core/failure';
import type { Principal } from '../core/principal';
import { toHttp } from '../core/response';
import type { IdentityPlane } from '../identity/types';
import { metadataEndpoint, type ResourceMetadataHandlerOptions } from './metadata';
import { type AuthenticateOptions, binder, defineGuards, type Guard, runGuard } from './shared';

export type { ResourceMetadataHandlerOptions } from './metadata';
export type { AuthenticateOptions, GuardRequirements, OrgSource } from './shared';
export { traceIdOf } from './shared';

// Fastify users see `request.auth` typed. Without fastify installed this augmentation is inert, so the
// declarations below name no fastify type: they describe the little of Fastify the adapter touches.
declare module 'fastify' {
  interface FastifyRequest {
    /** The authenticated principal, set by the `authenticate(plane)` plugin from `authplane/fastify`; null before it ran. */
    auth: Principal | null;
  }
}

/**
 * What the adapter reads of a Fastify request (a structural view of `FastifyRequest`, so that these
 * declarations compile without fastify's types).
 *
 * @example
 * ```ts
 * const subject = (request: FastifyRequestLike) => request.auth?.subject;
 * ```
 */
export interface FastifyRequestLike {
  readonly raw: IncomingMessage;
  readonly headers: IncomingHttpHeaders;
  readonly params: unknown;
  auth: Principal | null;
}

/**
 * What the adapter writes of a Fastify reply (a structural view of `FastifyReply`).
 *
 * @example
 * ```ts
 * const deny = (reply: FastifyReplyLike) => reply.code(403).send({ error: 'forbidden' });
 * ```
 */
export interface FastifyReplyLike {
  code(statusCode: number): FastifyReplyLike;
  headers(values: Record<string, string>): FastifyReplyLike;
  send(payload?: unknown): FastifyReplyLike;
}

/**
 * The part of a Fastify instance the plugin uses (a structural view of `FastifyInstance`).
 *
 * @example
 * ```ts
 * const plugin: (instance: FastifyInstanceLike) => Promise<void> = authenticate(plane);
 * ```
 */
export interface FastifyInstanceLike {
  hasRequestDecorator(name: string): boolean;
  decorateRequest(name: string, value: null): unknown;
  addHook(
    name: 'onRequest',
    hook: (request: FastifyRequestLike, reply: FastifyReplyLike) => Promise<unknown>,
  ): unknown;
}

/**
 * The part of a Fastify instance `resourceMetadata(plane)` uses: `route`.
 *
 * @example
 * ```ts
 * const plugin: (instance: FastifyRouteInstanceLike, options: unknown) => Promise<void> = resourceMetadata(plane);
 * ```
 */
export interface FastifyRouteInstanceLike {
  route(options: {
    method: string[];
    url: string;
    exposeHeadRoute: boolean;
    handler: (request: { readonly method: string }, reply: FastifyReplyLike) => Promise<unknown>;
  }): unknown;
}

/**
 * The plugin `authenticate(plane)` returns: pass it to `app.register`.
 *
 * @example
 * ```ts
 * const plugin: AuthplaneFastifyPlugin = authenticate(plane);
 * await app.register(plugin);
 * ```
 */
export type AuthplaneFastifyPlugin = (instance: FastifyInstanceLike, options: unknown) => Promise<void>;

/**
 * A route guard: use it as a route's `onRequest` hook, which runs after the plugin's and before the body
 * is parsed (an unauthorized body is never read), or as a `preHandler`.
 *
 * @example
 * ```ts
 * const canRead: FastifyGuard = requireScopes('read');
 * app.get('/items', { onRequest: canRead }, handler);
 * ```
 */
export type FastifyGuard = (
  request: FastifyRequestLike,
  reply: FastifyReplyLike,
) => Promise<FastifyReplyLike | undefined>;

/**
 * A plugin that decorates `request.auth` and authenticates every request of the scope it is registered
 * in (an `onRequest` hook): the principal lands on `request.auth`, or the reply is the failure
 * (401/400/503, `WWW-Authenticate`, `Retry-After`, `x-trace-id`, JSON body). Like fastify-plugin, it
 * is not encapsulated: register it inside a child scope to leave other routes public. The raw node
 * request is read, so duplicate Authorization headers are seen.
 *
 * @example
 * ```ts
 * await app.register(async (api) => {
 *   await api.register(authenticate(plane));
 *   api.get('/items', { onRequest: requireScopes('read') }, async (request) => request.auth);
 * });
 * ```
 */
export function authenticate(plane: IdentityPlane, options?: AuthenticateOptions): AuthplaneFastifyPlugin {
  const bind = binder(plane, options);
  const plugin: AuthplaneFastifyPlugin = async (fastify) => {
    if (!fastify.hasRequestDecorator('auth')) fastify.decorateRequest('auth', null);
    fastify.addHook('onRequest', async (request, reply) => {
      const result = await plane.authenticate(request.raw);
      if (!result.ok) return sendFailure(reply, result.failure);
      request.auth = result.principal;
      bind(request, result.principal, result.traceId);
    });
  };
  // What fastify-plugin does, without depending on it: the hook applies to the registering scope.
  return Object.assign(plugin, {
    [Symbol.for('skip-override')]: true,
    [Symbol.for('fastify.display-name')]: 'authplane',
  });
}

/**
 * A plugin adding the route of the plane's RFC 9728 protected resource metadata, at its path-aware
 * well-known path (`/.well-known/oauth-protected-resource{/path}` of `resource`; GET, HEAD and a CORS
 * OPTIONS). Register it outside the scope of `authenticate`: the document is public. The document is
 * built once, here, so a missing `resource` fails at start-up.
 *
 * @example
 * ```ts
 * await app.register(resourceMetadata(plane, { resource: 'https://api.example/mcp' }));
 * await app.register(async (api) => { await api.register(authenticate(plane)); });
 * ```
 */
export function resourceMetadata(
  plane: IdentityPlane,
  options?: ResourceMetadataHandlerOptions,
): (instance: FastifyRouteInstanceLike, options: unknown) => Promise<void> {
  const endpoint = metadataEndpoint(plane, options);
  return async (fastify) => {
    fastify.route({
      method: ['GET', 'HEAD', 'OPTIONS'],
      url: endpoint.path,
      // HEAD is declared explicitly; Fastify must not add its own.
      exposeHeadRoute: false,
      handler: async (request, reply) => {
        const { status, headers, body } = endpoint.answer(request.method);
        return reply
          .code(status)
          .headers(headers)
          .send(body === '' ? undefined : body);
      },
    });
  };
}

const guards = defineGuards(wrap);

/**
 * Requires every listed scope: 403 `scope_insufficient` with the RFC 6750 `scope` attribute otherwise.
 *
 * @example
 * ```ts
 * app.post('/sync', { onRequest: requireScopes('sync:write') }, handler);
 * ```
 */
export const requireScopes = guards.requireScopes;

/**
 * Requires at least one of the listed scopes.
 *
 * @example
 * ```ts
 * app.get('/items', { onRequest: requireAnyScope('read', 'admin') }, handler);
 * ```
 */
export const requireAnyScope = guards.requireAnyScope;

/**
 * Requires every listed role (in the org `requireOrg` established, else the token's).
 *
 * @example
 * ```ts
 * app.get('/admin', { onRequest: requireRoles('admin') }, handler);
 * ```
 */
export const requireRoles = guards.requireRoles;

/**
 * Requires at least one of the listed roles.
 *
 * @example
 * ```ts
 * app.get('/admin', { onRequest: requireAnyRole('admin', 'owner') }, handler);
 * ```
 */
export const requireAnyRole = guards.requireAnyRole;

/**
 * Resolves the org the request acts on (`'token'`, `{ param }`, `{ header }` or a function) and checks it
 * against the principal: `org_mismatch`, or `org_membership_missing` through the authorizer's hook.
 *
 * @example
 * ```ts
 * app.get('/orgs/:orgId/reports', { onRequest: [requireOrg({ param: 'orgId' }), requireScopes('read')] }, handler);
 * ```
 */
export const requireOrg = guards.requireOrg;

/**
 * Requires any combination of scopes, roles, permissions, org and workspace (the visibility hook).
 *
 * @example
 * ```ts
 * app.get('/reports', { onRequest: requireAccess({ permissions: ['reports:read'] }) }, handler);
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
 * app.post('/transfers', { onRequest: requireAuthentication({ acr: ['urn:example:mfa'], maxAgeSec: 300 }) }, handler);
 * ```
 */
export const requireAuthentication = guards.requireAuthentication;

function wrap(guard: Guard<FastifyRequestLike>, name: string): FastifyGuard {
  return async function authplaneGuard(request, reply) {
    const failure = await runGuard(
      guard,
      request,
      request,
      {
        param: (key) => {
          const value = (request.params as Record<string, unknown> | undefined)?.[key];
          return typeof value === 'string' ? value : undefined;
        },
        header: (key) => {
          const value = request.headers[key];
          return typeof value === 'string' ? value : undefined;
        },
      },
      name,
    );
    return failure ? sendFailure(reply, failure) : undefined;
  };
}

function sendFailure(reply: FastifyReplyLike, failure: AuthFailure): FastifyReplyLike {
  const { status, headers, body } = toHttp(failure);
  return reply.code(status).headers(headers).send(body);
}
