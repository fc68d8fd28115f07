// Liveness of an invalidation channel's connection. A socket that stops answering without closing (a
// hung Redis, a partitioned PostgreSQL connection) emits no error and no close: only a round trip that
// does not come back reveals it. The channel pings on its own listening connection; while a ping has
// been unanswered for `staleAfterMs` the channel is not alive, so caches fall back to their short TTL.
import { ConfigError } from '../core/errors';

/**
 * How a channel checks that its listening connection still answers.
 *
 * @example
 * ```ts
 * const channel = await createRedisInvalidationChannel({ url, liveness: { staleAfterMs: 1_000 } });
 * ```
 */
export interface LivenessOptions {
  /** Milliseconds between two pings on the listening connection. Default 250. */
  readonly heartbeatMs?: number;
  /** Unanswered for this long, the channel reports itself unhealthy. Default 1 000. */
  readonly staleAfterMs?: number;
  /** Unanswered for this long, the connection is dropped and opened again. Default 5 000. */
  readonly reconnectAfterMs?: number;
  /** Test seam: epoch milliseconds. */
  readonly clock?: () => number;
}

/**
 * A running heartbeat: `alive` is false while a ping is overdue.
 *
 * @example
 * ```ts
 * const beat = startHeartbeat({ ping: () => client.ping(), onRecovered: reset, onDead: reconnect });
 * const healthy = subscribed && beat.alive;
 * ```
 */
export interface Heartbeat {
  readonly alive: boolean;
  /** Forgets an outstanding ping (call after a reconnection: the old socket's silence is over). */
  restart(): void;
  stop(): void;
}

/**
 * Checks and freezes liveness options, with their defaults.
 *
 * @throws ConfigError naming the option.
 * @example
 * ```ts
 * const { heartbeatMs, staleAfterMs } = livenessSettings({ staleAfterMs: 2_000 });
 * ```
 */
export function livenessSettings(options: LivenessOptions = {}): Required<LivenessOptions> {
  const heartbeatMs = options.heartbeatMs ?? 250;
  const staleAfterMs = options.staleAfterMs ?? 1_000;
  const reconnectAfterMs = options.reconnectAfterMs ?? 5_000;
  for (const [name, value] of Object.entries({ heartbeatMs, staleAfterMs, reconnectAfterMs })) {
    if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0) {
      throw new ConfigError(`liveness.${name}`, 'must be a positive number of milliseconds');
    }
  }
  if (staleAfterMs <= heartbeatMs) {
    throw new ConfigError('liveness.staleAfterMs', 'must be longer than heartbeatMs');
  }
  if (reconnectAfterMs < staleAfterMs) {
    throw new ConfigError('liveness.reconnectAfterMs', 'must not be shorter than staleAfterMs');
  }
  const clock = options.clock ?? Date.now;
  if (typeof clock !== 'function') throw new ConfigError('liveness.clock', 'must be a function');
  return Object.freeze({ heartbeatMs, staleAfterMs, reconnectAfterMs, clock });
}

/**
 * Pings every `heartbeatMs` (one ping in flight at most). `onRecovered` runs when an answer ends a
 * silence long enough to have made the channel unhealthy (anything may have been missed: the channel
 * emits `reset`); `onDead` runs once a silence reaches `reconnectAfterMs` (the channel drops the socket).
 *
 * @example
 * ```ts
 * const beat = startHeartbeat({ ping: () => client.query('SELECT 1'), onRecovered, onDead }, settings);
 * ```
 */
export function startHeartbeat(
  hooks: { ping(): Promise<unknown>; onRecovered(): void; onDead(): void },
  settings: Required<LivenessOptions>,
): Heartbeat {
  const { heartbeatMs, staleAfterMs, reconnectAfterMs, clock } = settings;
  // When the oldest unanswered ping was sent; null while everything sent has been answered.
  let silentSince: number | null = null;
  let inflight = false;
  // Bumped by restart(): an answer from before it says nothing about the new connection.
  let generation = 0;

  const tick = (): void => {
    const now = clock();
    if (silentSince !== null && now - silentSince >= reconnectAfterMs) {
      silentSince = null;
      inflight = false;
      generation++;
      hooks.onDead();
      return;
    }
    if (inflight) return;
    inflight = true;
    if (silentSince === null) silentSince = now;
    const mine = generation;
    hooks.ping().then(
      () => {
        if (mine !== generation) return;
        inflight = false;
        const lapsed = silentSince !== null && clock() - silentSince >= staleAfterMs;
        silentSince = null;
        if (lapsed) hooks.onRecovered();
      },
      () => {
        // A failed or timed-out ping: the silence goes on; the next tick pings again.
        if (mine === generation) inflight = false;
      },
    );
  };

  const timer = setInterval(tick, heartbeatMs);
  timer.unref();
  return {
    get alive() {
      return silentSince === null || clock() - silentSince < staleAfterMs;
    },
    restart(): void {
      generation++;
      silentSince = null;
      inflight = false;
    },
    stop(): void {
      clearInterval(timer);
    },
  };
}
