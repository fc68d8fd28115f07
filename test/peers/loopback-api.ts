// A third-party API on loopback (what a connector calls with its token): 200 for an accepted
// Authorization header, 401 for a revoked one. Counts requests and records what it saw.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface LoopbackApi {
  readonly url: string;
  /** Authorization headers received, in order. */
  readonly seen: string[];
  /** Tokens (without the scheme) the API now refuses with 401. */
  revoke(token: string): void;
  /** While true, every request is refused with 401. */
  refuseAll: boolean;
  stop(): Promise<void>;
}

export async function startLoopbackApi(): Promise<LoopbackApi> {
  const revoked = new Set<string>();
  const seen: string[] = [];
  const api: LoopbackApi = {
    url: '',
    seen,
    refuseAll: false,
    revoke: (token) => {
      revoked.add(token);
    },
    stop: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  const server = createServer((req, res) => {
    const auth = req.headers.authorization ?? '';
    seen.push(auth);
    const token = auth.replace(/^\S+\s+/, '');
    if (!auth || revoked.has(token) || api.refuseAll) {
      res.writeHead(401, {
        'content-type': 'application/json',
        'www-authenticate': 'Bearer error="invalid_token"',
      });
      res.end(JSON.stringify({ message: 'Bad credentials' }));
      return;
    }
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ ok: true, path: req.url, scheme: auth.split(' ')[0] }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  Object.assign(api, { url: `http://127.0.0.1:${port}` });
  return api;
}
