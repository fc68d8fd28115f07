import { AuthRejection } from '../../core/failure';

/**
 * Where the `jti` of every accepted DPoP proof is remembered until the proof could no longer pass the
 * `iat` window, so that a captured proof cannot be replayed (RFC 9449 §11.1). `use` records the key
 * and answers whether it was new; it must be atomic across every instance that shares the store
 * (Redis `SET NX`). Throwing or rejecting is an outage: the request gets `provider_unavailable`.
 *
 * @example
 * ```ts
 * const store: DpopReplayStore = { use: async (key, ttlSec) => (await redis.set(key, '1', 'EX', ttlSec, 'NX')) === 'OK' };
 * ```
 */
export interface DpopReplayStore {
  /** `true` when `key` was not seen in the last `ttlSec` seconds (and is now recorded), `false` for a replay. */
  use(key: string, ttlSec: number): Promise<boolean>;
  /** Releases connections; called by `plane.close()` only for stores the plane created. */
  close?(): Promise<void>;
}

/**
 * Options of {@link createMemoryDpopReplayStore}.
 *
 * @example
 * ```ts
 * createMemoryDpopReplayStore({ maxEntries: 100_000 });
 * ```
 */
export interface MemoryDpopReplayStoreOptions {
  /**
   * Upper bound on remembered proofs. When it is reached and none has expired, new proofs are refused
   * (`provider_unavailable`) rather than forgetting one that could still be replayed. Default 100 000.
   */
  readonly maxEntries?: number;
  /** Test seam: epoch milliseconds. */
  readonly clock?: () => number;
}

/**
 * A per-process {@link DpopReplayStore}: right for one instance; several instances behind a load
 * balancer need a shared one (`createRedisDpopReplayStore` from `authplane/stores/redis`), or a proof
 * replayed to another instance is accepted there.
 *
 * @example
 * ```ts
 * const plane = await createIdentityPlane({ provider: 'oidc', issuer, audience, dpop: { replayStore: createMemoryDpopReplayStore() } });
 * ```
 */
export function createMemoryDpopReplayStore(options: MemoryDpopReplayStoreOptions = {}): DpopReplayStore {
  const maxEntries = options.maxEntries ?? 100_000;
  if (!Number.isSafeInteger(maxEntries) || maxEntries <= 0) {
    throw new TypeError('createMemoryDpopReplayStore: maxEntries must be a positive integer');
  }
  const clock = options.clock ?? Date.now;
  // Insertion order is expiry order as long as every entry has the same ttl, which is the plane's case;
  // a sweep from the front stops at the first live entry.
  const seen = new Map<string, number>();
  const sweep = (now: number): void => {
    for (const [key, until] of seen) {
      if (until > now) break;
      seen.delete(key);
    }
  };
  return {
    async use(key, ttlSec) {
      const now = clock();
      sweep(now);
      const until = seen.get(key);
      if (until !== undefined && until > now) return false;
      if (seen.size >= maxEntries) {
        throw new AuthRejection('provider_unavailable', 'The DPoP replay cache is full');
      }
      seen.delete(key);
      seen.set(key, now + ttlSec * 1000);
      return true;
    },
  };
}
