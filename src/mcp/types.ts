import type { Principal } from '../core/principal';

/**
 * The MCP SDK's `AuthInfo` (`@modelcontextprotocol/sdk/server/auth/types.js`), declared here
 * structurally so that authplane's types compile without the SDK installed. A value of this type is
 * an `AuthInfo`: pass it wherever the SDK expects one.
 *
 * @example
 * ```ts
 * const info: McpAuthInfo = await verify(token);
 * info.extra?.principal; // the authplane Principal
 * ```
 */
export interface McpAuthInfo {
  /** The access token as presented. */
  token: string;
  /** The OAuth client the token was issued to (`client_id`, else `azp`; `''` when the token names none). */
  clientId: string;
  /** The principal's scopes (OAuth scopes united with provider permissions). */
  scopes: string[];
  /** Expiry in seconds since the epoch; absent for a credential that never expires (an API key). */
  expiresAt?: number;
  /** The RFC 8707 resource the token was issued for, when its audience is a URL. */
  resource?: URL;
  /** `principal` (the verified authplane `Principal`) and `traceId` (the decision's trace id). */
  extra?: Record<string, unknown>;
}

/**
 * The `extra` authplane puts on every `McpAuthInfo`.
 *
 * @example
 * ```ts
 * const { principal } = authInfo.extra as McpAuthExtra;
 * ```
 */
export interface McpAuthExtra {
  readonly principal: Principal;
  readonly traceId: string;
}

/**
 * Scopes each MCP tool needs, by tool name: a `tools/call` of a listed tool by a token lacking any of
 * them is answered HTTP 403 `insufficient_scope` with `scope="…"` naming them, before the tool runs.
 *
 * @example
 * ```ts
 * const toolScopes: McpToolScopes = { delete_note: ['notes:write'], search: ['notes:read'] };
 * ```
 */
export type McpToolScopes = Readonly<Record<string, readonly string[]>>;

/**
 * Options of `requireMcpAuth` and `withMcpAuth`.
 *
 * @example
 * ```ts
 * requireMcpAuth(plane, { scopes: ['mcp'], toolScopes: { delete_note: ['notes:write'] } });
 * ```
 */
export interface McpAuthOptions {
  /** Scopes every request needs (403 `insufficient_scope` otherwise). */
  readonly scopes?: readonly string[];
  /** Scopes per tool, checked on `tools/call` before the request reaches the transport. */
  readonly toolScopes?: McpToolScopes;
  /**
   * The metadata URL every 401/403 names (`resource_metadata`). Default: the plane's
   * `resourceMetadataUrl`, else the well-known URL of `plane.resourceMetadata().resource`.
   */
  readonly resourceMetadataUrl?: string;
  /** Largest JSON-RPC body read to find the tool called, in bytes. Default 4 MiB (the SDK's limit). */
  readonly maxBodyBytes?: number;
}
