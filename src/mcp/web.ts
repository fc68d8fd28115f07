import { toResponse } from '../core/response';
import type { IdentityPlane } from '../identity/types';
import { mcpGuard } from './guard';
import { rpcError } from './node';
import type { McpAuthInfo, McpAuthOptions } from './types';

/**
 * What `withMcpAuth` hands the wrapped handler: the `AuthInfo` and, when the body was read to find
 * the tool called, the parsed body (give both to the transport so it does not read the body again).
 *
 * @example
 * ```ts
 * const handler = (request: Request, { authInfo, parsedBody }: McpRequestAuth) => transport.handleRequest(request, { authInfo, parsedBody });
 * ```
 */
export interface McpRequestAuth {
  readonly authInfo: McpAuthInfo;
  readonly parsedBody?: unknown;
}

/**
 * The Web-standard variant of `requireMcpAuth`, for the SDK's `WebStandardStreamableHTTPServerTransport`
 * (Hono, Bun, Deno, workers, Next.js route handlers): wraps a fetch handler so that it only runs for
 * an authenticated request allowed to call the tools it calls; every refusal is a `Response` whose
 * challenge names `resource_metadata` (401, 403 `insufficient_scope` with `scope="…"`, 503).
 *
 * @throws ConfigError at construction when no metadata URL can be derived (set `resourceMetadataUrl`).
 * @example
 * ```ts
 * const handle = withMcpAuth(plane, (request, { authInfo, parsedBody }) =>
 *   transport.handleRequest(request, { authInfo, parsedBody }), { toolScopes: { delete_note: ['notes:write'] } });
 * export default { fetch: handle };
 * ```
 */
export function withMcpAuth(
  plane: IdentityPlane,
  handler: (request: Request, auth: McpRequestAuth) => Response | Promise<Response>,
  options: McpAuthOptions = {},
): (request: Request) => Promise<Response> {
  if (typeof handler !== 'function') throw new TypeError('withMcpAuth: handler must be a function');
  const guard = mcpGuard(plane, options, 'withMcpAuth');
  return async function authplaneMcpFetch(request: Request): Promise<Response> {
    const decided = await guard.authenticate(request);
    if (!decided.ok) return toResponse(decided.failure);
    const authInfo = decided.info;
    if (!guard.needsBody || request.method !== 'POST') return handler(request, { authInfo });
    const read = await readJson(request, guard.maxBodyBytes);
    if (!read.ok) return Response.json(read.body, { status: read.status });
    const failure = guard.checkTools(authInfo, read.value);
    if (failure) return toResponse(failure);
    return handler(request, { authInfo, parsedBody: read.value });
  };
}

type Read = { ok: true; value: unknown } | { ok: false; status: number; body: Record<string, unknown> };

async function readJson(request: Request, max: number): Promise<Read> {
  const declared = Number(request.headers.get('content-length'));
  if (Number.isFinite(declared) && declared > max) {
    return { ok: false, status: 413, body: rpcError(-32600, 'Request body too large') };
  }
  const reader = request.body?.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  if (reader) {
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        size += value.byteLength;
        if (size > max) {
          await reader.cancel().catch(() => {});
          return { ok: false, status: 413, body: rpcError(-32600, 'Request body too large') };
        }
        chunks.push(value);
      }
    } catch {
      return { ok: false, status: 400, body: rpcError(-32700, 'Parse error: the body could not be read') };
    }
  }
  try {
    return { ok: true, value: JSON.parse(Buffer.concat(chunks).toString('utf8')) };
  } catch {
    return { ok: false, status: 400, body: rpcError(-32700, 'Parse error: invalid JSON') };
  }
}
