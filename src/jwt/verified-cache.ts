import type { KeyResolver, VerificationKey } from './types';

/**
 * Options of {@link createVerifiedTokenCache}.
 *
 * @example
 * ```ts
 * const options: VerifiedTokenCacheOptions = { maxEntries: 10_000, maxAgeSec: 300, clock: Date.now };
 * ```
 */
export interface VerifiedTokenCacheOptions {
  /** Upper bound on entries; the oldest is dropped first. 0 disables the cache. */
  readonly maxEntries: number;
  /** Longest an entry is trusted without a new signature check, whatever the token's own `exp`. */
  readonly maxAgeSec: number;
  /** Epoch milliseconds. */
  readonly clock: () => number;
}

/**
 * What a verified token was verified with, so a hit can be re-checked cheaply.
 *
 * @example
 * ```ts
 * cache.set(token, principal, { kid: verified.kid, alg: verified.alg, exp: verified.claims.exp }, jwks);
 * ```
 */
export interface VerifiedTokenFacts {
  readonly kid: string | undefined;
  readonly alg: string;
  /** The token's `exp` in epoch seconds. */
  readonly exp: number;
}

/**
 * Remembers tokens that passed every check, keyed by the exact token string, so a client that reuses
 * its access token for minutes pays for one signature check, not one per request.
 *
 * A hit is trusted only while the token is unexpired (no clock tolerance on the way out), younger than
 * `maxAgeSec`, and the key that verified it is still the one the key set resolves for its `kid`: a key
 * removed from the JWKS or replaced under the same `kid` turns every entry it signed into a miss.
 * Revocation is not this cache's concern: the plane checks its revocation store on every request.
 *
 * @example
 * ```ts
 * const cache = createVerifiedTokenCache<Principal>({ maxEntries: 10_000, maxAgeSec: 300, clock: Date.now });
 * const hit = cache.get(token, jwks);
 * ```
 */
export interface VerifiedTokenCache<T> {
  get(token: string, keys: KeyResolver): T | undefined;
  set(token: string, value: T, facts: VerifiedTokenFacts, keys: KeyResolver): void;
  clear(): void;
  /** Entries, hits and misses (a miss counts only for a token that was cached and no longer holds). */
  readonly stats: { readonly size: number; readonly hits: number; readonly misses: number };
}

interface Entry<T> {
  readonly value: T;
  readonly until: number;
  readonly kid: string | undefined;
  readonly alg: string;
  readonly key: VerificationKey;
}

/**
 * Creates a bounded verified-token cache (see {@link VerifiedTokenCache}).
 *
 * @example
 * ```ts
 * const cache = createVerifiedTokenCache<Principal>({ maxEntries: 10_000, maxAgeSec: 300, clock: Date.now });
 * ```
 */
export function createVerifiedTokenCache<T>(options: VerifiedTokenCacheOptions): VerifiedTokenCache<T> {
  const entries = new Map<string, Entry<T>>();
  const { maxEntries, clock } = options;
  const maxAgeMs = options.maxAgeSec * 1000;
  let hits = 0;
  let misses = 0;
  return {
    get(token, keys) {
      const entry = entries.get(token);
      if (entry === undefined) return undefined;
      if (clock() >= entry.until || currentKey(keys, entry.kid, entry.alg) !== entry.key) {
        entries.delete(token);
        misses++;
        return undefined;
      }
      hits++;
      return entry.value;
    },
    set(token, value, facts, keys) {
      if (maxEntries <= 0) return;
      const key = currentKey(keys, facts.kid, facts.alg);
      if (key === undefined) return;
      const until = Math.min(facts.exp * 1000, clock() + maxAgeMs);
      if (entries.size >= maxEntries && !entries.has(token)) {
        const oldest = entries.keys().next();
        if (!oldest.done) entries.delete(oldest.value);
      }
      entries.set(token, { value, until, kid: facts.kid, alg: facts.alg, key });
    },
    clear() {
      entries.clear();
    },
    get stats() {
      return { size: entries.size, hits, misses };
    },
  };
}

/** The key the set resolves right now without fetching, or undefined when it would have to fetch. */
function currentKey(keys: KeyResolver, kid: string | undefined, alg: string): VerificationKey | undefined {
  const key = keys.resolve(kid, alg);
  if (key instanceof Promise) {
    // A miss may start a fetch; the full verification path that follows shares it (single-flight).
    key.catch(() => {});
    return undefined;
  }
  return key;
}
