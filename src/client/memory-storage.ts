import { ClientError } from './errors';
import { isStoredSession, normalizeSession } from './session';
import type { SessionStorage, StoredSession } from './types';

/**
 * A session storage in memory, for tests and for embedding the token manager in a long-running
 * process that must not touch the disk. Its lock is a per-instance queue (it is never shared
 * between processes).
 *
 * @example
 * ```ts
 * const tokens = createTokenManager({ issuer, clientId: 'my-cli', storage: createMemoryStorage() });
 * ```
 */
export function createMemoryStorage(initial?: StoredSession): SessionStorage {
  if (initial !== undefined && !isStoredSession(initial)) {
    throw new ClientError('session_corrupt', 'the initial session is not a valid session');
  }
  let current: StoredSession | null = initial ? structuredClone(normalizeSession(initial)) : null;
  let tail: Promise<unknown> = Promise.resolve();
  return {
    location: 'memory',
    async read() {
      return current ? structuredClone(current) : null;
    },
    async write(session) {
      if (!isStoredSession(session)) throw new TypeError('not a valid session');
      current = structuredClone(normalizeSession(session));
    },
    async clear() {
      current = null;
    },
    withLock<T>(fn: () => Promise<T>): Promise<T> {
      const run = tail.then(fn, fn);
      tail = run.catch(() => undefined);
      return run;
    },
  };
}
