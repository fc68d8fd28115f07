/**
 * authplane/mcp: protect an MCP server built with the official `@modelcontextprotocol/sdk` (an
 * optional peer) with any identity plane: the SDK's `verifyAccessToken`, a ready middleware for its
 * Express transport and its Web-standard transport, and per-tool scope guards. Publish the RFC 9728
 * metadata with the framework subpath's `resourceMetadata(plane)`.
 *
 * @example
 * ```ts
 * import { requireMcpAuth } from 'authplane/mcp';
 * import { resourceMetadata } from 'authplane/express';
 * app.use(resourceMetadata(plane));
 * app.post('/mcp', express.json(), requireMcpAuth(plane, { toolScopes: { write_note: ['write'] } }), (req, res) =>
 *   transport.handleRequest(req, res, req.body));
 * ```
 */
export { type McpMiddleware, type McpNodeRequest, requireMcpAuth } from './node';
export type { McpAuthExtra, McpAuthInfo, McpAuthOptions, McpToolScopes } from './types';
export { createMcpVerifier } from './verifier';
export { type McpRequestAuth, withMcpAuth } from './web';
