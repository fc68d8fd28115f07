// A loopback TCP proxy that can stall: `pause()` stops forwarding bytes in both directions but keeps
// every socket open (no FIN, no RST), as a hung server or a network partition looks to a client.
// `resume()` delivers what was held back and forwards again.
import { createConnection, createServer, type Server, type Socket } from 'node:net';

export interface StallProxy {
  /** `127.0.0.1:<port>` of the proxy. */
  readonly host: string;
  readonly port: number;
  /** Rewrites `redis://…` or `postgres://…` to go through the proxy. */
  url(upstream: string): string;
  pause(): void;
  resume(): void;
  close(): Promise<void>;
}

interface Pipe {
  readonly from: Socket;
  readonly to: Socket;
  held: Buffer[];
  ended: boolean;
}

export async function startStallProxy(upstreamHost: string, upstreamPort: number): Promise<StallProxy> {
  let paused = false;
  const pipes = new Set<Pipe>();
  const sockets = new Set<Socket>();

  const forward = (pipe: Pipe): void => {
    if (paused) return;
    for (const chunk of pipe.held) pipe.to.write(chunk);
    pipe.held = [];
    if (pipe.ended) pipe.to.end();
  };

  const link = (from: Socket, to: Socket): void => {
    const pipe: Pipe = { from, to, held: [], ended: false };
    pipes.add(pipe);
    from.on('data', (chunk: Buffer) => {
      pipe.held.push(chunk);
      forward(pipe);
    });
    from.on('end', () => {
      pipe.ended = true;
      forward(pipe);
    });
  };

  const server: Server = createServer({ allowHalfOpen: true }, (client) => {
    const upstream = createConnection({ host: upstreamHost, port: upstreamPort, allowHalfOpen: true });
    for (const s of [client, upstream]) {
      sockets.add(s);
      s.on('error', () => {});
      s.on('close', () => {
        sockets.delete(s);
        for (const pipe of pipes) if (pipe.from === s) pipes.delete(pipe);
        // A reset (not a graceful end) on one side is passed on when not paused.
        if (!paused) (s === client ? upstream : client).destroy();
      });
    }
    link(client, upstream);
    link(upstream, client);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('no port');
  const port = address.port;

  return {
    host: '127.0.0.1',
    port,
    url(upstream: string): string {
      const u = new URL(upstream);
      u.hostname = '127.0.0.1';
      u.port = String(port);
      return u.toString();
    },
    pause(): void {
      paused = true;
    },
    resume(): void {
      paused = false;
      for (const pipe of pipes) forward(pipe);
    },
    async close(): Promise<void> {
      paused = false;
      for (const s of sockets) s.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
