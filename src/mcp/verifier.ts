import type { IdentityPlane } from '../identity/types';
import { toAuthInfo } from './auth-info';
import { sdkErrors } from './sdk';
import type { McpAuthInfo } from './types';

/**
 * The MCP SDK's `verifyAccessToken` over an identity plane: a valid token becomes the SDK's `AuthInfo`
 * (`token`, `clientId`, `scopes`, `expiresAt`, `resource`, and the authplane principal and trace id in
 * `extra`); a refused one throws the SDK's `InvalidTokenError` (its middleware answers 401), an outage
 * its `ServerError` (500: the client keeps its token), so the SDK's own `requireBearerAuth` answers
 * correctly. The SDK is loaded on first use.
 *
 * @example
 * ```ts
 * import { requireBearerAuth } from '@modelcontextprotocol/sdk/server/auth/middleware/bearerAuth.js';
 * app.use('/mcp', requireBearerAuth({ verifier: { verifyAccessToken: createMcpVerifier(plane) } }));
 * ```
 */
export function createMcpVerifier(plane: IdentityPlane): (token: string) => Promise<McpAuthInfo> {
  if (!plane || typeof plane.verify !== 'function') {
    throw new TypeError('createMcpVerifier: the argument must be an IdentityPlane');
  }
  return async function verifyAccessToken(token: string): Promise<McpAuthInfo> {
    const [errors, result] = await Promise.all([sdkErrors(), plane.verify(token)]);
    if (result.ok) return toAuthInfo(token, result.principal, result.traceId);
    const { failure } = result;
    // The message is authplane's safe one: it never contains the credential.
    if (failure.status === 503) throw new errors.ServerError(failure.message);
    if (failure.status === 403) throw new errors.InsufficientScopeError(failure.message);
    if (failure.status === 400) throw new errors.InvalidRequestError(failure.message);
    throw new errors.InvalidTokenError(failure.message);
  };
}
