// Keeps an instance's copy of the control state fresh: a read at start, a re-read when the invalidation
// channel announces a newer version (or reconnects), and a version poll every `pollSec` as the fallback.
// A failed read keeps the last known state (counted, reported as stale): never a silent change of mode.
import type { InvalidationChannel } from '../../stores/contracts';
import type { ModeControlSource } from '../modes';
import type { ControlState, MigrationControlStore } from './types';

/**
 * The health of an instance's control state, for `plane.migration.control()` and readiness probes.
 *
 * @example
 * ```ts
 * const { version, stale, errors } = plane.migration.control() ?? {};
 * ```
 */
export interface ControlStatus {
  /** The version of the state in use (0: none set; -1: never read). */
  readonly version: number;
  /** True while the last read or poll failed: the modes in use are the last known ones. */
  readonly stale: boolean;
  /** ISO time of the last successful read, or null. */
  readonly loadedAt: string | null;
  /** Failed reads and polls since start. */
  readonly errors: number;
  /** Whether change notifications arrive (a channel is configured and healthy). */
  readonly notified: boolean;
}

/**
 * Options of {@link createControlWatcher}.
 *
 * @example
 * ```ts
 * createControlWatcher({ store, channel, pollSec: 5 }, { onError: (kind) => counter.add(1, { kind }) });
 * ```
 */
export interface ControlWatcherOptions {
  readonly store: MigrationControlStore;
  /** Where change notifications arrive (the stores' LISTEN/NOTIFY or pub/sub channel). */
  readonly channel?: InvalidationChannel;
  /** Seconds between version polls. Default 1 without a channel, 10 with one (1 while it is down). */
  readonly pollSec?: number;
  /** How long a read or poll may take. Default 2 000 ms. */
  readonly timeoutMs?: number;
}

/**
 * A running watcher: the mode source of the resolver, plus status and shutdown.
 *
 * @example
 * ```ts
 * const watcher = createControlWatcher({ store }, {});
 * createModeResolver({ control: watcher });
 * ```
 */
export interface ControlWatcher extends ModeControlSource {
  status(): ControlStatus;
  /** Re-reads now (single-flight). Resolves true when the read succeeded. */
  refresh(): Promise<boolean>;
  close(): void;
}

const withTimeout = <T>(promise: Promise<T>, ms: number): Promise<T> => {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('migration control store timed out')), ms);
      timer.unref?.();
    }),
  ]).finally(() => clearTimeout(timer));
};

/**
 * Starts watching a control store (the first read starts at once).
 *
 * @example
 * ```ts
 * const watcher = createControlWatcher({ store: pg.migrationControl, channel }, { onError: () => errors++ });
 * await watcher.ready();
 * ```
 */
export function createControlWatcher(
  options: ControlWatcherOptions,
  hooks: {
    onError?: (kind: 'read' | 'poll') => void;
    onChange?: (state: ControlState) => void;
    clock?: () => number;
  },
): ControlWatcher {
  const { store, channel } = options;
  const clock = hooks.clock ?? Date.now;
  const timeoutMs = options.timeoutMs ?? 2_000;
  const pollMs = (options.pollSec ?? (channel ? 10 : 1)) * 1000;
  let state: ControlState | null = null;
  let stale = false;
  let loadedAt: number | null = null;
  let errors = 0;
  let inflight: Promise<boolean> | null = null;
  let again = false;
  let closed = false;
  let lastPoll = clock();

  const failed = (kind: 'read' | 'poll') => {
    errors++;
    stale = true;
    try {
      hooks.onError?.(kind);
    } catch {
      // A counter never changes a mode.
    }
  };

  const read = async (): Promise<boolean> => {
    try {
      const next = await withTimeout(store.read(), timeoutMs);
      // Never step back: a slow read that lost a race with a newer one is dropped.
      if (!closed && (state === null || next.version >= state.version)) {
        const changed = state === null || next.version !== state.version;
        state = next;
        if (changed) hooks.onChange?.(next);
      }
      stale = false;
      loadedAt = clock();
      return true;
    } catch {
      failed('read');
      return false;
    }
  };

  const refresh = (): Promise<boolean> => {
    if (inflight) {
      again = true; // a change announced mid-read: read once more after this one
      return inflight;
    }
    inflight = read().finally(() => {
      inflight = null;
      if (again && !closed) {
        again = false;
        void refresh();
      }
    });
    return inflight;
  };

  const first = refresh();
  const firstSettled: Promise<void> = withTimeout(first, timeoutMs + 100).then(
    () => {},
    () => {},
  );

  const poll = async () => {
    lastPoll = clock();
    try {
      const version = await withTimeout(store.version(), timeoutMs);
      if (state === null || version !== state.version) await refresh();
      else {
        stale = false;
        loadedAt = clock();
      }
    } catch {
      failed('poll');
    }
  };

  const ticker = setInterval(
    () => {
      if (closed) return;
      const due =
        clock() - lastPoll >= pollMs || (channel !== undefined && !channel.healthy) || state === null;
      if (due) void poll();
    },
    Math.min(1000, pollMs),
  );
  ticker.unref?.();

  const unsubscribe = channel?.subscribe((event) => {
    if (event.type === 'reset') void refresh();
    else if (event.type === 'migration_control' && (state === null || event.version > state.version))
      void refresh();
  });

  return {
    current: () => state,
    ready: () => firstSettled,
    refresh,
    status: () => ({
      version: state?.version ?? -1,
      stale: stale || state === null,
      loadedAt: loadedAt === null ? null : new Date(loadedAt).toISOString(),
      errors,
      notified: channel?.healthy ?? false,
    }),
    close() {
      closed = true;
      clearInterval(ticker);
      unsubscribe?.();
    },
  };
}
