/**
 * examples/mcp-server: an MCP server (the official @modelcontextprotocol/sdk, Streamable HTTP on
 * Express 5) protected by authplane. It publishes its RFC 9728 metadata, answers every 401/403 with a
 * challenge naming it, accepts only tokens issued for exactly this server (`audienceMode: 'exact'`),
 * and guards each tool with its own scopes.
 *
 * Run it against the dev issuer with `npx tsx examples/mcp-server/index.ts`.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import type { IdentityPlane, Principal } from 'authplane';
import { resourceMetadata } from 'authplane/express';
import { type McpAuthExtra, type McpNodeRequest, requireMcpAuth } from 'authplane/mcp';
import express from 'express';
import { z } from 'zod';

/** Scopes of each tool: `add_note` writes, the others read. */
export const TOOL_SCOPES = { whoami: ['read'], list_notes: ['read'], add_note: ['write'] } as const;

/** A running example server. */
export interface McpExample {
  /** The MCP endpoint, also the RFC 8707 resource clients ask tokens for. */
  readonly url: string;
  readonly plane: IdentityPlane;
  close(): Promise<void>;
}

/**
 * Starts the MCP server on 127.0.0.1. The plane is built by `planeFor(resource)` once the server knows
 * its own URL, since the resource (the `aud` of the tokens it accepts) is that URL.
 *
 * @example
 * ```ts
 * const mcp = await startMcpServer({ planeFor: (resource) => createIdentityPlane({ provider: 'oidc', issuer, audience: resource }) });
 * ```
 */
export async function startMcpServer(options: {
  planeFor: (resource: string) => Promise<IdentityPlane>;
  port?: number;
}): Promise<McpExample> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}/mcp`;
  const plane = await options.planeFor(url);

  const notes: string[] = [];
  const app = express();
  // Public: the RFC 9728 document at /.well-known/oauth-protected-resource/mcp.
  app.use(resourceMetadata(plane, { resource: url, scopesSupported: ['read', 'write'] }));
  app.post(
    '/mcp',
    express.json({ limit: '1mb' }),
    requireMcpAuth(plane, { scopes: ['read'], toolScopes: TOOL_SCOPES }),
    async (req, res) => {
      // Stateless Streamable HTTP: one server and transport per request.
      const mcp = buildServer(notes);
      const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
      res.on('close', () => {
        void transport.close();
        void mcp.close();
      });
      await mcp.connect(transport);
      // authplane/express types `req.auth` as a Principal; on this route requireMcpAuth set the SDK's AuthInfo.
      await transport.handleRequest(req as McpNodeRequest, res, req.body);
    },
  );
  // Stateless: no server-initiated stream, no session to delete.
  app.all('/mcp', (_req, res) => {
    res.status(405).set('allow', 'POST').json({ error: 'method_not_allowed' });
  });
  server.on('request', app);

  return {
    url,
    plane,
    close: () => closeServer(server).then(() => plane.close()),
  };
}

function buildServer(notes: string[]): McpServer {
  const mcp = new McpServer({ name: 'authplane-notes', version: '1.0.0' });
  mcp.registerTool('whoami', { description: 'Who the token belongs to' }, async (extra) => {
    const principal = principalOf(extra.authInfo?.extra);
    return {
      content: [
        { type: 'text', text: JSON.stringify({ subject: principal.subject, orgId: principal.orgId }) },
      ],
    };
  });
  mcp.registerTool('list_notes', { description: 'The notes' }, async () => ({
    content: [{ type: 'text', text: JSON.stringify(notes) }],
  }));
  mcp.registerTool(
    'add_note',
    { description: 'Adds a note', inputSchema: { text: z.string().max(500) } },
    async ({ text }) => {
      notes.push(text);
      return { content: [{ type: 'text', text: `added (${notes.length})` }] };
    },
  );
  return mcp;
}

// requireMcpAuth puts the verified principal in AuthInfo.extra.
function principalOf(extra: Record<string, unknown> | undefined): Principal {
  return (extra as unknown as McpAuthExtra).principal;
}

function closeServer(server: Server): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}
