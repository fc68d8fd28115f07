/**
 * Runs examples/mcp-server against the dev issuer:
 *
 *   npx tsx examples/mcp-server/index.ts
 *
 * then point an MCP client (MCP Inspector, Claude, the SDK's client) at the printed URL: it discovers
 * the metadata, registers itself at the dev issuer (dynamic client registration), signs in (headless
 * dev login) and calls the tools.
 */
import { pathToFileURL } from 'node:url';
import { createIdentityPlane, resourceMetadataUrlFor } from 'authplane';
import { type DevIssuer, startDevIssuer } from 'authplane/dev';
import { startMcpServer } from './server';

async function main(): Promise<void> {
  let dev: DevIssuer | undefined;
  const mcp = await startMcpServer({
    port: Number(process.env.PORT ?? 3001),
    planeFor: async (resource) => {
      dev = await startDevIssuer({ audience: resource });
      return createIdentityPlane({
        provider: 'oidc',
        issuer: dev.issuer,
        audience: resource,
        allowInsecureRequests: true, // the dev issuer is plain http on loopback
        audienceMode: 'exact',
        resourceMetadataUrl: resourceMetadataUrlFor(resource),
      });
    },
  });
  console.log(`MCP server: ${mcp.url} (authorization server ${dev?.issuer})`);
  const stop = async () => {
    await mcp.close();
    await dev?.stop();
    process.exit(0);
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) void main();
