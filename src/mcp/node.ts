import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AuthFailure } from '../core/failure';
import { toHttp } from '../core/response';
import type { IdentityPlane } from '../identity/types';
import { mcpGuard } from './guard';
import type { McpAuthInfo, McpAuthOptions } from './types';

/**
 * A node:http request as the MCP SDK's Express transport reads it: `auth` is the `AuthInfo` the
 * transport hands to tool handlers (`extra.authInfo`); `body` the parsed JSON-RPC body, if any.
 *
 * @example
 * ```ts
 * app.post('/mcp', requireMcpAuth(plane), (req, res) => transport.handleRequest(req, res, req.body));
 * ```
 */
export type McpNodeRequest = IncomingMessage & { auth?: McpAuthInfo; body?: unknown };

/**
 * An Express-compatible middleware: `(req, res, next)`.
 *
 * @example
 * ```ts
 * const mw: McpMiddleware = requireMcpAuth(plane);
 * ```
 */
export type McpMiddleware = (
  req: IncomingMessage,
  res: ServerResponse,
  next: (err?: unknown) => void,
) => Promise<void>;

/**
 * Middleware for the MCP SDK's Streamable HTTP transport on Express (or any `(req, res, next)`
 * server): authenticates the request with the plane and sets `req.auth` to the SDK's `AuthInfo`, so
 * tool handlers receive it as `extra.authInfo` (the principal in `extra.authInfo.extra.principal`).
 * Every refusal is answered here, with a challenge naming `resource_metadata` (how MCP clients find
 * the authorization server): 401 for a missing or bad token, 403 `insufficient_scope` with `scope="…"`
 * when `scopes` or the called tool's `toolScopes` are not held, 503 when the provider is unreachable.
 * With `toolScopes`, the JSON-RPC body is read (up to `maxBodyBytes`) and left parsed on `req.body`
 * when no body parser ran; pass `req.body` to `transport.handleRequest`.
 *
 * @throws ConfigError at construction when no metadata URL can be derived (set `resourceMetadataUrl`).
 * @example
 * ```ts
 * app.use(resourceMetadata(plane));                       // from authplane/express
 * app.post('/mcp', express.json(), requireMcpAuth(plane, { toolScopes: { delete_note: ['notes:write'] } }),
 *   (req, res) => transport.handleRequest(req, res, req.body));
 * ```
 */
export function requireMcpAuth(plane: IdentityPlane, options: McpAuthOptions = {}): McpMiddleware {
  const guard = mcpGuard(plane, options, 'requireMcpAuth');
  return async function authplaneMcpAuth(req, res, next) {
    const request = req as McpNodeRequest;
    const decided = await guard.authenticate(request);
    if (!decided.ok) return write(res, decided.failure);
    if (guard.needsBody && request.method === 'POST') {
      if (request.body === undefined) {
        const read = await readJson(request, guard.maxBodyBytes);
        if (!read.ok) {
          res.writeHead(read.status, { 'content-type': 'application/json' }).end(JSON.stringify(read.body));
          return;
        }
        request.body = read.value;
      }
      const failure = guard.checkTools(decided.info, request.body);
      if (failure) return write(res, failure);
    }
    request.auth = decided.info;
    next();
  };
}

function write(res: ServerResponse, failure: AuthFailure): void {
  const { status, headers, body } = toHttp(failure);
  res.writeHead(status, headers).end(body);
}

type Read = { ok: true; value: unknown } | { ok: false; status: number; body: Record<string, unknown> };

// Reads the whole body up to a cap, then parses it: a larger body is 413, unparsable JSON the JSON-RPC
// parse error the transport itself would answer.
async function readJson(req: IncomingMessage, max: number): Promise<Read> {
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of req) {
      const buf = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
      size += buf.length;
      if (size > max) {
        req.resume();
        return { ok: false, status: 413, body: rpcError(-32600, 'Request body too large') };
      }
      chunks.push(buf);
    }
  } catch {
    return { ok: false, status: 400, body: rpcError(-32700, 'Parse error: the body could not be read') };
  }
  try {
    return { ok: true, value: JSON.parse(Buffer.concat(chunks).toString('utf8')) };
  } catch {
    return { ok: false, status: 400, body: rpcError(-32700, 'Parse error: invalid JSON') };
  }
}

/**
 * A JSON-RPC error body without an id (the request could not be read).
 *
 * @internal
 * @example
 * ```ts
 * rpcError(-32700, 'Parse error');
 * ```
 */
export function rpcError(code: number, message: string): Record<string, unknown> {
  return { jsonrpc: '2.0', error: { code, message }, id: null };
}
