import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { ClientError } from './errors';

/** One callback that reached the redirect path, and how to answer the browser. */
export interface LoopbackCallback {
  readonly url: URL;
  respond(status: number, html: string): Promise<void>;
}

/** A listener for one OAuth redirect on 127.0.0.1. */
export interface LoopbackListener {
  /** The redirect URI with the actual port, e.g. `http://127.0.0.1:53682/callback`. */
  readonly redirectUri: string;
  /** Resolves with the first request on the redirect path; rejects on timeout or abort. */
  next(timeoutMs: number, signal?: AbortSignal): Promise<LoopbackCallback>;
  /** Closes the listener and every connection. Idempotent. */
  close(): Promise<void>;
}

/**
 * Options of {@link startLoopbackListener}.
 *
 * @example
 * ```ts
 * const options: LoopbackOptions = { refuse: (url) => (url.searchParams.get('state') === state ? undefined : page) };
 * ```
 */
export interface LoopbackOptions {
  /**
   * Judges a request on the redirect path before it counts: a returned HTML page is sent (400) and
   * the request is ignored, so the listener keeps waiting for the right one until its timeout. Any
   * local process can reach the listener; only the callback of this login may end it.
   */
  readonly refuse?: (url: URL) => string | undefined;
}

/** RFC 8252 §7.3 loopback: only the IPv4 literal, never `localhost` (which may resolve elsewhere) or 0.0.0.0. */
export const LOOPBACK_HOST = '127.0.0.1';

/**
 * Starts the redirect listener on 127.0.0.1 only, on the redirect URI's port (0, the default, picks an
 * ephemeral one). It accepts exactly one request on the exact redirect path that `refuse` lets through
 * (others get an error page and are ignored); other paths get 404, a
 * request whose Host header is not the listener's own (DNS rebinding) gets 400. Nothing is logged.
 *
 * @example
 * ```ts
 * const listener = await startLoopbackListener(new URL('http://127.0.0.1/callback'));
 * const { url, respond } = await listener.next(60_000);
 * ```
 */
export async function startLoopbackListener(
  redirect: URL,
  options: LoopbackOptions = {},
): Promise<LoopbackListener> {
  const path = redirect.pathname;
  const sockets = new Set<Socket>();
  let pending: ((cb: LoopbackCallback) => void) | undefined;
  let cancelPending: (() => void) | undefined;
  let received: LoopbackCallback | undefined;
  let expectedHost = '';

  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    res.setHeader('cache-control', 'no-store');
    res.setHeader('referrer-policy', 'no-referrer');
    if (req.headers.host !== expectedHost) {
      res.writeHead(400, { 'content-type': 'text/plain' }).end('Bad request');
      return;
    }
    const url = new URL(req.url ?? '/', `http://${expectedHost}`);
    if (req.method !== 'GET' || url.pathname !== path || received) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('Not found');
      return;
    }
    const refusal = options.refuse?.(url);
    if (refusal !== undefined) {
      res.writeHead(400, { 'content-type': 'text/html; charset=utf-8', connection: 'close' }).end(refusal);
      return;
    }
    received = {
      url,
      respond: (status, html) =>
        new Promise<void>((resolve) => {
          res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', connection: 'close' });
          res.end(html, () => resolve());
        }),
    };
    pending?.(received);
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
  });
  const port = redirect.port === '' ? 0 : Number(redirect.port);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, LOOPBACK_HOST, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const actualPort = (server.address() as AddressInfo).port;
  expectedHost = `${LOOPBACK_HOST}:${actualPort}`;
  const redirectUri = new URL(redirect.href);
  redirectUri.port = String(actualPort);

  let closed = false;
  return {
    redirectUri: redirectUri.href,
    next(timeoutMs, signal) {
      return new Promise<LoopbackCallback>((resolve, reject) => {
        if (received) return resolve(received);
        const timer = setTimeout(() => {
          cleanup();
          reject(
            new ClientError(
              'login_timeout',
              `no browser login completed within ${Math.round(timeoutMs / 1000)} s`,
            ),
          );
        }, timeoutMs);
        const onAbort = () => {
          cleanup();
          reject(new ClientError('login_failed', 'the login was cancelled'));
        };
        const cleanup = () => {
          clearTimeout(timer);
          signal?.removeEventListener('abort', onAbort);
          pending = undefined;
          cancelPending = undefined;
        };
        cancelPending = () => {
          cleanup();
          reject(new ClientError('login_failed', 'the login listener was closed'));
        };
        if (signal?.aborted) return onAbort();
        signal?.addEventListener('abort', onAbort, { once: true });
        pending = (cb) => {
          cleanup();
          resolve(cb);
        };
      });
    },
    async close() {
      if (closed) return;
      closed = true;
      cancelPending?.();
      const done = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      for (const socket of sockets) socket.destroy();
      await done;
    },
  };
}
