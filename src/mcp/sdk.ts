// The MCP SDK is an optional peer: its error classes are loaded on first use, never at import.
import { AuthplaneError } from '../core/errors';

type SdkErrors = typeof import('@modelcontextprotocol/sdk/server/auth/errors.js');

let loading: Promise<SdkErrors> | undefined;

/**
 * The SDK's OAuth error classes (`InvalidTokenError`, `InsufficientScopeError`, `ServerError`), which
 * its `requireBearerAuth` middleware maps to 401, 403 and 500.
 *
 * @internal
 * @throws AuthplaneError `dependency_missing` naming the package when the SDK is not installed.
 * @example
 * ```ts
 * const { InvalidTokenError } = await sdkErrors();
 * ```
 */
export function sdkErrors(): Promise<SdkErrors> {
  loading ??= import('@modelcontextprotocol/sdk/server/auth/errors.js').catch((cause: unknown) => {
    loading = undefined;
    throw new AuthplaneError(
      'dependency_missing',
      'authplane/mcp createMcpVerifier needs the optional peer dependency "@modelcontextprotocol/sdk": npm i @modelcontextprotocol/sdk',
      { cause },
    );
  });
  return loading;
}
