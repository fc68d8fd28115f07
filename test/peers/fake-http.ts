// Shared plumbing of the loopback vendor fakes (auth0-fake.ts, clerk-fake.ts): a node:http server on
// 127.0.0.1 with fault injection, keys, and a fetch that rewrites the vendor's https origin to it.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { exportJWK, generateKeyPair, type JWK, SignJWT } from 'jose';

/** A fault the fake injects on matching requests. */
export interface Fault {
  /** Request path prefix this fault applies to ('' = every path). */
  readonly path: string;
  /** Answer with this status and body (JSON) … */
  readonly status?: number;
  readonly body?: unknown;
  readonly headers?: Record<string, string>;
  /** … or with this raw text (malformed response), … */
  readonly raw?: { readonly contentType: string; readonly text: string };
  /** … or drop the connection (network error). */
  readonly drop?: boolean;
  /** Delay before answering (timeouts). */
  readonly delayMs?: number;
  /** How many requests it applies to (default: until cleared). */
  times?: number;
}

export interface SigningKey {
  readonly kid: string;
  readonly privateKey: CryptoKey;
  readonly publicJwk: JWK;
}

export async function newRsaKey(kid: string): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
  const publicJwk = { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' };
  return { kid, privateKey, publicJwk };
}

export async function signJwt(
  key: SigningKey,
  claims: Record<string, unknown>,
  header: Record<string, unknown> = {},
): Promise<string> {
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'RS256', kid: key.kid, ...header })
    .sign(key.privateKey);
}

export type Handler = (
  req: IncomingMessage,
  url: URL,
  body: string,
) =>
  | { status: number; body: unknown; headers?: Record<string, string> }
  | Promise<{ status: number; body: unknown; headers?: Record<string, string> }>;

/** A loopback HTTP server with faults, request log, up/down. */
export class FakeServer {
  readonly requests: { method: string; path: string; authorization: string | undefined }[] = [];
  readonly faults: Fault[] = [];
  #server: Server;
  #sockets = new Set<Socket>();
  #port = 0;
  #down = false;

  constructor(handler: Handler) {
    this.#server = createServer((req, res) => void this.#handle(handler, req, res));
    this.#server.on('connection', (socket) => {
      this.#sockets.add(socket);
      socket.once('close', () => this.#sockets.delete(socket));
    });
  }

  get origin(): string {
    return `http://127.0.0.1:${this.#port}`;
  }

  async listen(): Promise<void> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve));
    this.#port = (this.#server.address() as AddressInfo).port;
  }

  /** Outage: every request gets 503 (answered fast, so nothing waits on it). */
  down(): void {
    this.#down = true;
  }

  up(): void {
    this.#down = false;
  }

  fail(fault: Fault): void {
    this.faults.push(fault);
  }

  clearFaults(): void {
    this.faults.length = 0;
  }

  count(pathPrefix: string): number {
    return this.requests.filter((r) => r.path.startsWith(pathPrefix)).length;
  }

  async close(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  async #handle(handler: Handler, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', this.origin);
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    this.requests.push({
      method: req.method ?? 'GET',
      path: url.pathname,
      authorization: req.headers.authorization,
    });
    if (this.#down)
      return json(res, 503, { errors: [{ code: 'service_unavailable', message: 'down' }], statusCode: 503 });
    const fault = this.faults.find(
      (f) => url.pathname.startsWith(f.path) && (f.times === undefined || f.times > 0),
    );
    if (fault) {
      if (fault.times !== undefined) fault.times--;
      if (fault.delayMs) await new Promise((r) => setTimeout(r, fault.delayMs));
      if (fault.drop) return void req.socket.destroy();
      if (fault.raw) {
        res.writeHead(fault.status ?? 200, { 'content-type': fault.raw.contentType });
        return void res.end(fault.raw.text);
      }
      return json(res, fault.status ?? 500, fault.body ?? {}, fault.headers);
    }
    try {
      const out = await handler(req, url, body);
      json(res, out.status, out.body, out.headers);
    } catch (err) {
      json(res, 500, { message: String(err) });
    }
  }
}

function json(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  // Exactly `application/json`: @clerk/backend treats anything else as a raw string.
  res.writeHead(status, { 'content-type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

/** A fetch that sends `https://<host>` requests for the given hosts to the fake, and the rest as is. */
export function rewritingFetch(hosts: readonly string[], origin: () => string): typeof fetch {
  return (input, init) => {
    const raw = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    const url = new URL(raw);
    if (url.protocol === 'https:' && hosts.includes(url.hostname)) {
      const target = new URL(url.pathname + url.search, origin());
      return fetch(target, init);
    }
    return fetch(input, init);
  };
}
