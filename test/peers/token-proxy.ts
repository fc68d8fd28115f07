// A loopback reverse proxy in front of a real token endpoint (the dev issuer's): it counts refresh
// requests and can make the endpoint fail (HTTP 500), hang (never answer) or see a dead refresh token
// (the real authorization server then answers invalid_grant).
import { createServer } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export type TokenFault = 'none' | 'fail' | 'hang' | 'revoke';

export interface TokenProxy {
  readonly url: string;
  /** POSTs with grant_type=refresh_token that reached the proxy. */
  refreshes: number;
  codeExchanges: number;
  fault: TokenFault;
  /** Called before each refresh is forwarded (tests use it to interleave another instance). */
  beforeRefresh: (() => Promise<void>) | null;
  stop(): Promise<void>;
}

export async function startTokenProxy(target: string): Promise<TokenProxy> {
  const sockets = new Set<Socket>();
  const proxy: TokenProxy = {
    url: '',
    refreshes: 0,
    codeExchanges: 0,
    fault: 'none',
    beforeRefresh: null,
    stop: async () => {
      for (const s of sockets) s.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  const server = createServer(async (req, res) => {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const form = new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
    const refresh = form.get('grant_type') === 'refresh_token';
    if (refresh) proxy.refreshes++;
    else proxy.codeExchanges++;
    if (refresh && proxy.fault === 'hang') return; // the socket stays open, nothing is sent
    if (refresh && proxy.fault === 'fail') {
      res.writeHead(500, { 'content-type': 'text/html' }).end('<h1>upstream error</h1>');
      return;
    }
    if (refresh && proxy.fault === 'revoke') form.set('refresh_token', 'revoked-refresh-token');
    if (refresh && proxy.beforeRefresh) {
      const run = proxy.beforeRefresh;
      proxy.beforeRefresh = null;
      await run();
    }
    const headers: Record<string, string> = { 'content-type': 'application/x-www-form-urlencoded' };
    if (req.headers.authorization) headers.authorization = req.headers.authorization;
    if (req.headers.accept) headers.accept = req.headers.accept;
    const upstream = await fetch(target, {
      method: 'POST',
      headers,
      body: form,
      signal: AbortSignal.timeout(5000),
    });
    res.writeHead(upstream.status, {
      'content-type': upstream.headers.get('content-type') ?? 'application/json',
    });
    res.end(Buffer.from(await upstream.arrayBuffer()));
  });
  server.on('connection', (s) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  (proxy as { url: string }).url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/token`;
  return proxy;
}
