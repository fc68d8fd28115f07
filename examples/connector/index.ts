// Connector quick start: get a token for a connection and call an API with it. First-party by default
// (connections in SQLite or memory, tokens encrypted at rest); via Nango when AUTHPLANE_INTEGRATIONS=nango.
//
//   npx tsx examples/connector/index.ts                        # first-party, a loopback API
//   AUTHPLANE_INTEGRATIONS=nango NANGO_SECRET_KEY=… NANGO_HOST=… CONNECTION_ID=… npx tsx examples/connector/index.ts
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createIntegrationPlane, type IntegrationPlane } from 'authplane/integration';
import { createMemoryConnectionStore } from 'authplane/stores';

/** A stand-in for a third-party API on loopback: echoes who called it. */
async function startApi(): Promise<{ url: string; close(): void }> {
  const server = createServer((req, res) => {
    const ok = typeof req.headers.authorization === 'string';
    res.writeHead(ok ? 200 : 401, { 'content-type': 'application/json' });
    res.end(
      JSON.stringify(
        ok
          ? { login: 'acme-bot', scheme: req.headers.authorization?.split(' ')[0] }
          : { message: 'Bad credentials' },
      ),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => server.close() };
}

async function firstParty(apiUrl: string): Promise<{ plane: IntegrationPlane; connectionId: string }> {
  const plane = await createIntegrationPlane({
    store: createMemoryConnectionStore(), // openSqliteStores / createPostgresStores in production
    encryption: {
      currentKeyId: 'k1',
      keys: { k1: process.env.AUTHPLANE_ENCRYPTION_KEY ?? randomBytes(32).toString('base64') },
    },
    catalog: {
      // OAuth integrations need a client: github: { clientId, clientSecret }, then connect.start / finish.
      jira: {},
    },
    // Tokens go only to an integration's allowed origins: here the loopback stand-in for Jira's API.
    allowedOrigins: { jira: [apiUrl] },
  });
  // A static connection (a Jira API token over Basic): no OAuth app needed for the demo.
  await plane.connect.saveCredentials({
    integration: 'jira',
    orgId: 'org_acme',
    connectionId: 'acme',
    credentials: {
      type: 'basic',
      username: 'bot@acme.test',
      password: process.env.JIRA_API_TOKEN ?? 'demo-token',
    },
  });
  return { plane, connectionId: 'acme' };
}

async function viaNango(apiUrl: string): Promise<{ plane: IntegrationPlane; connectionId: string }> {
  const plane = await createIntegrationPlane({
    provider: 'nango',
    flags: { nango: true },
    nango: {
      secretKey: process.env.NANGO_SECRET_KEY ?? '',
      ...(process.env.NANGO_HOST ? { host: process.env.NANGO_HOST } : {}),
    },
    allowedOrigins: { [process.env.INTEGRATION ?? 'jira']: [apiUrl] },
  });
  return { plane, connectionId: process.env.CONNECTION_ID ?? 'acme' };
}

const integration = process.env.INTEGRATION ?? 'jira';
const api = await startApi();
const apiUrl = process.env.API_URL ?? api.url;
const { plane, connectionId } =
  process.env.AUTHPLANE_INTEGRATIONS === 'nango' ? await viaNango(apiUrl) : await firstParty(apiUrl);
try {
  const ref = { integration, connectionId, orgId: 'org_acme' };
  const token = await plane.getToken(ref);
  console.log(
    `${plane.provider}: got a ${token.tokenType} token for ${integration}/${connectionId}, expires ${token.expiresAt?.toISOString() ?? 'never'}`,
  );
  const res = await plane.fetch(ref, `${apiUrl}/rest/api/3/myself`);
  console.log(`API answered ${res.status}:`, await res.json());
} finally {
  await plane.close();
  api.close();
}
