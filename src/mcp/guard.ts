// What requireMcpAuth and withMcpAuth share: option checks, the metadata URL, and the decision for
// one request (authenticate, then the request's scopes, then the scopes of each tool called).
import { type AuthFailure, withResourceMetadata } from '../core/failure';
import { authorize } from '../identity/authorize';
import { resourceMetadataUrlFor } from '../identity/resource-metadata';
import type { IdentityPlane, RequestLike } from '../identity/types';
import { toAuthInfo } from './auth-info';
import type { McpAuthInfo, McpAuthOptions, McpToolScopes } from './types';

/** The SDK's limit on one message. */
const DEFAULT_MAX_BODY_BYTES = 4 * 1024 * 1024;

/** A validated guard. @internal */
export interface McpGuard {
  readonly needsBody: boolean;
  readonly maxBodyBytes: number;
  /** Authenticates a request and checks the request-wide scopes. */
  authenticate(
    request: RequestLike,
  ): Promise<{ ok: true; info: McpAuthInfo } | { ok: false; failure: AuthFailure }>;
  /** Checks the scopes of every `tools/call` in a parsed JSON-RPC body (one message or a batch). */
  checkTools(info: McpAuthInfo, body: unknown): AuthFailure | null;
}

/**
 * Validates the options once and returns the guard.
 *
 * @internal
 * @example
 * ```ts
 * const guard = mcpGuard(plane, { toolScopes: { delete_note: ['notes:write'] } }, 'requireMcpAuth');
 * ```
 */
export function mcpGuard(plane: IdentityPlane, options: McpAuthOptions, name: string): McpGuard {
  if (!plane || typeof plane.authenticate !== 'function') {
    throw new TypeError(`${name}: the first argument must be an IdentityPlane`);
  }
  if (!options || typeof options !== 'object') throw new TypeError(`${name}: options must be an object`);
  const scopes = scopeList(options.scopes, `${name}: scopes`);
  const toolScopes = toolScopeMap(options.toolScopes, name);
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  if (!Number.isSafeInteger(maxBodyBytes) || maxBodyBytes <= 0) {
    throw new TypeError(`${name}: maxBodyBytes must be a positive integer`);
  }
  // MCP clients find the authorization server only through this URL: a guard without one is a wiring
  // mistake, reported now rather than as clients that cannot log in.
  const metadataUrl =
    options.resourceMetadataUrl ??
    plane.resourceMetadataUrl ??
    resourceMetadataUrlFor(plane.resourceMetadata().resource);
  const stamp = (failure: AuthFailure) => withResourceMetadata(failure, metadataUrl);

  return Object.freeze({
    needsBody: toolScopes.size > 0,
    maxBodyBytes,
    async authenticate(request: RequestLike) {
      const result = await plane.authenticate(request);
      if (!result.ok) return { ok: false as const, failure: stamp(result.failure) };
      const { principal, traceId } = result;
      if (scopes) {
        const check = authorize(principal, { scopes, traceId });
        if (!check.ok) return { ok: false as const, failure: stamp(check.failure) };
      }
      return { ok: true as const, info: toAuthInfo(bearerToken(request), principal, traceId) };
    },
    checkTools(info: McpAuthInfo, body: unknown): AuthFailure | null {
      if (toolScopes.size === 0) return null;
      const { principal, traceId } = info.extra as {
        principal: Parameters<typeof authorize>[0];
        traceId: string;
      };
      const messages = Array.isArray(body) ? body : [body];
      for (const message of messages) {
        const tool = calledTool(message);
        const needed = tool === undefined ? undefined : toolScopes.get(tool);
        if (!needed) continue;
        const check = authorize(principal, { scopes: needed, traceId });
        if (!check.ok) return stamp(check.failure);
      }
      return null;
    },
  });
}

function calledTool(message: unknown): string | undefined {
  if (!message || typeof message !== 'object') return undefined;
  const { method, params } = message as { method?: unknown; params?: unknown };
  if (method !== 'tools/call' || !params || typeof params !== 'object') return undefined;
  const tool = (params as { name?: unknown }).name;
  return typeof tool === 'string' ? tool : undefined;
}

// The credential authenticate just accepted: a bearer token in the Authorization header (the only
// place the plane reads one from), or '' for a scheme the SDK's AuthInfo cannot name.
function bearerToken(request: RequestLike): string {
  const headers = (request as { headers: unknown }).headers;
  const value =
    typeof (headers as Headers).get === 'function'
      ? (headers as Headers).get('authorization')
      : (headers as Record<string, unknown>).authorization;
  if (typeof value !== 'string') return '';
  const space = value.indexOf(' ');
  return space === -1 ? '' : value.slice(space + 1).trim();
}

function scopeList(value: unknown, path: string): readonly string[] | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value) || value.some((s) => typeof s !== 'string' || s.length === 0)) {
    throw new TypeError(`${path} must be non-empty strings`);
  }
  return value.length > 0 ? Object.freeze([...value]) : undefined;
}

function toolScopeMap(
  value: McpToolScopes | undefined,
  name: string,
): ReadonlyMap<string, readonly string[]> {
  const map = new Map<string, readonly string[]>();
  if (value === undefined) return map;
  if (!value || typeof value !== 'object') throw new TypeError(`${name}: toolScopes must be an object`);
  for (const [tool, scopes] of Object.entries(value)) {
    const list = scopeList(scopes, `${name}: toolScopes.${tool}`);
    if (list) map.set(tool, list);
  }
  return map;
}
