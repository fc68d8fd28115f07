import type { AuthResult } from '../core/failure';
import type { Principal } from '../core/principal';
import type { Auditor } from '../telemetry/audit';
import type { ProtectedResourceMetadata, ResourceMetadataOptions } from './resource-metadata';

/**
 * What `authenticate` accepts: a Web `Request`, or the node:http shape (`IncomingMessage`, Express and
 * Fastify requests). `rawHeaders` is read when present, because node folds a repeated Authorization
 * header into the first one in `headers`, which would hide an ambiguous request.
 *
 * @example
 * ```ts
 * await plane.authenticate(new Request('https://api.example/x', { headers: { authorization: `Bearer ${t}` } }));
 * await plane.authenticate(req); // node:http IncomingMessage
 * ```
 */
export type RequestLike = Request | NodeRequestLike;

/**
 * The part of a node:http request that credential extraction reads.
 *
 * @example
 * ```ts
 * const req: NodeRequestLike = { headers: { authorization: 'Bearer abc' }, url: '/items' };
 * ```
 */
export interface NodeRequestLike {
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly rawHeaders?: readonly string[];
  /** Path and query (`/items?x=1`), used to detect a token in the query string. */
  readonly url?: string;
  /** The HTTP method: a DPoP proof's `htm` must equal it. */
  readonly method?: string;
  /** Express keeps the full path here when a mounted router rewrote `url`; a DPoP `htu` is matched against it. */
  readonly originalUrl?: string;
}

/** Per-call options of `authenticate` and `verify`. */
export interface VerifyOptions {
  /** Continue this trace id instead of reading `traceparent` or generating one. */
  readonly traceId?: string;
  /** Abort the verification (network calls it makes stop; the result is `provider_unavailable`). */
  readonly signal?: AbortSignal;
}

/**
 * What an adapter gets with each credential.
 *
 * @example
 * ```ts
 * async verify(token, { traceId, signal }) { … }
 * ```
 */
export interface AdapterContext {
  readonly traceId: string;
  readonly signal?: AbortSignal;
}

/**
 * The contract every provider adapter implements. It verifies one bare credential and returns a
 * `Principal`, or throws an `AuthRejection` with a reason. The plane around it owns extraction,
 * trace ids, revocation, error mapping and telemetry, so adapters stay small.
 *
 * @example
 * ```ts
 * const adapter: IdentityAdapter = { name: 'oidc', async verify(token, ctx) { …; return principal; } };
 * ```
 */
export interface IdentityAdapter {
  readonly name: string;
  verify(token: string, context: AdapterContext): Promise<Principal>;
  /** Stops timers and closes connections. */
  close?(): Promise<void>;
}

/**
 * What `plane.revoke` refuses from then on: one token by `jti`, or every token of a session.
 *
 * @example
 * ```ts
 * await plane.revoke({ jti: principal.claims.jti as string });
 * await plane.revoke({ sessionId: principal.sessionId! });
 * ```
 */
export type RevocationTarget = ({ readonly jti: string } | { readonly sessionId: string }) & {
  /** When the entry may be forgotten (the token's own expiry); defaults to the store's retention. */
  readonly until?: Date;
};

/**
 * The provider-neutral identity interface: every credential becomes one `Principal` or a
 * reason-coded failure. Never throws for a bad credential.
 *
 * @example
 * ```ts
 * const plane = await createIdentityPlane({ provider: 'oidc', issuer, audience });
 * const result = await plane.authenticate(request);
 * if (!result.ok) return toResponse(result.failure);
 * ```
 */
export interface IdentityPlane {
  /** The configured adapter's name (`oidc`, `auth0`, `migration`, …). */
  readonly provider: string;
  /**
   * Records audit events through the plane's `audit` hook (a no-op without one): `privileged` actions
   * (`plane.audit.privileged({ action: 'execution.start', principal, orgId, traceId })`) and
   * `authz.denied` for checks made outside the HTTP adapters.
   */
  readonly audit: Auditor;
  /**
   * Extracts the credential from a request and verifies it. With a Web `Request` this is the whole
   * integration for fetch-style runtimes — Next.js route handlers, Bun, Deno, Cloudflare Workers — no
   * adapter needed: answer a failure with `toResponse(result.failure)` (status, `WWW-Authenticate`,
   * `Retry-After`, `x-trace-id`, JSON body) and check scopes, roles and org with `authorize` (or
   * `createAuthorizer().check` for org membership), passing `result.traceId` to keep one trace.
   *
   * @example
   * ```ts
   * // app/api/orgs/[orgId]/reports/route.ts (Next.js App Router)
   * export async function GET(request: Request, { params }: { params: Promise<{ orgId: string }> }) {
   *   const result = await plane.authenticate(request);
   *   if (!result.ok) return toResponse(result.failure);
   *   const check = authorize(result.principal, { scopes: ['read'], orgId: (await params).orgId, traceId: result.traceId });
   *   if (!check.ok) return toResponse(check.failure);
   *   return Response.json({ reports: [] });
   * }
   * ```
   */
  authenticate(request: RequestLike, options?: VerifyOptions): Promise<AuthResult>;
  /** Verifies a bare credential string (no `Bearer ` prefix). */
  verify(token: string, options?: VerifyOptions): Promise<AuthResult>;
  /**
   * The RFC 9728 protected resource metadata of this resource server: `resource`, the
   * `authorization_servers` of the configured provider (both sides of a migration plane while both
   * may be accepted), `scopes_supported`, `bearer_methods_supported`, DPoP algorithms when DPoP is
   * configured. Serve it with the framework subpaths' `resourceMetadata(plane)`.
   *
   * @throws ConfigError when no resource URL is configured and the audience is not one http(s) URL.
   * @example
   * ```ts
   * const doc = plane.resourceMetadata({ resource: 'https://api.example/mcp' });
   * ```
   */
  resourceMetadata(options?: ResourceMetadataOptions): ProtectedResourceMetadata;
  /** The plane option `resourceMetadataUrl`: named by every 401/403 challenge, and by the guards'. */
  readonly resourceMetadataUrl?: string;
  /** Refuses a token (by `jti`) or a whole session on every later verify. */
  revoke(target: RevocationTarget): Promise<void>;
  /** Releases timers and connections. */
  close(): Promise<void>;
}
