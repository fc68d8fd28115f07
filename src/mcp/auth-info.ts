import type { Principal } from '../core/principal';
import type { McpAuthInfo } from './types';

/**
 * The MCP `AuthInfo` of a verified principal.
 *
 * @internal
 * @example
 * ```ts
 * const info = toAuthInfo(token, result.principal, result.traceId);
 * ```
 */
export function toAuthInfo(token: string, principal: Principal, traceId: string): McpAuthInfo {
  const claims = principal.claims ?? {};
  const client = typeof claims.client_id === 'string' ? claims.client_id : claims.azp;
  const info: McpAuthInfo = {
    token,
    clientId: typeof client === 'string' ? client : '',
    scopes: [...principal.scopes],
    extra: { principal, traceId },
  };
  if (principal.expiresAt) info.expiresAt = Math.floor(principal.expiresAt.getTime() / 1000);
  const resource = resourceOf(claims.aud);
  if (resource) info.resource = resource;
  return info;
}

// The token's resource: its audience when that is one absolute http(s) URL.
function resourceOf(aud: unknown): URL | undefined {
  const only = typeof aud === 'string' ? aud : Array.isArray(aud) && aud.length === 1 ? aud[0] : undefined;
  if (typeof only !== 'string' || !/^https?:\/\//i.test(only)) return undefined;
  return URL.canParse(only) ? new URL(only) : undefined;
}
