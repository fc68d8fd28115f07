import { AuthRejection } from '../core/failure';
import { fetchJwks, JwksFetchError } from './jwks-fetch';
import { buildKeyIndex, KeyIndex } from './key-index';
import type { KeyResolver, VerificationKey } from './types';

/**
 * Options of a remote JWKS cache. Defaults match `jwksCacheSchema` in the config.
 *
 * @example
 * ```ts
 * const options: JwksCacheOptions = { jwksUri: 'https://id.example/jwks', algorithms: ['RS256'], cooldownSec: 30 };
 * ```
 */
export interface JwksCacheOptions {
  readonly jwksUri: string;
  /** Algorithms keys may be used with; keys fitting none of them are ignored. */
  readonly algorithms: readonly string[];
  readonly fetch?: typeof fetch;
  /** Timeout of each fetch. Default 5000. */
  readonly timeoutMs?: number;
  /** Seconds a fetched set is fresh; after that a request triggers one background refresh. Default 600. */
  readonly ttlSec?: number;
  /** Minimum seconds between two fetches triggered by an unknown kid. Default 30. */
  readonly cooldownSec?: number;
  /** Seconds past `ttlSec` that cached keys keep serving while the issuer is unreachable. Default 3600. */
  readonly maxStaleSec?: number;
  /** Upper bound on keys kept. Default 64. */
  readonly maxKeys?: number;
  /** Upper bound on the JWKS body. Default 256 KiB. */
  readonly maxBodyBytes?: number;
  /** Epoch milliseconds; `Date.now` by default. */
  readonly clock?: () => number;
  /** Called after every fetch (telemetry hook). Must not throw; errors are swallowed. */
  readonly onFetch?: (event: JwksFetchEvent) => void;
}

/**
 * What started a fetch: the first load, an unknown kid, the TTL, or an explicit `refresh()`.
 *
 * @example
 * ```ts
 * const trigger: JwksFetchTrigger = 'unknown_kid';
 * ```
 */
export type JwksFetchTrigger = 'initial' | 'unknown_kid' | 'ttl' | 'manual';

/**
 * One finished JWKS fetch, for metrics. Carries no key material.
 *
 * @example
 * ```ts
 * createJwksCache({ …, onFetch: (e) => metrics.add(1, { ok: e.ok, trigger: e.trigger }) });
 * ```
 */
export interface JwksFetchEvent {
  readonly jwksUri: string;
  readonly trigger: JwksFetchTrigger;
  readonly ok: boolean;
  readonly durationMs: number;
  /** Usable keys after the fetch (unchanged on failure). */
  readonly keyCount: number;
  /** JWKs skipped as unusable in this fetch. */
  readonly ignoredCount: number;
  /** Failure kind (`timeout`, `network`, `http_status`, …) when `ok` is false. */
  readonly error?: JwksFetchError['kind'];
}

/**
 * Counters of a JWKS cache.
 *
 * @example
 * ```ts
 * cache.stats.fetches; // 1
 * ```
 */
export interface JwksCacheStats {
  readonly fetches: number;
  readonly failures: number;
  readonly keyCount: number;
  /** Epoch ms of the last successful fetch, or null. */
  readonly lastSuccessAt: number | null;
}

/**
 * A remote key set: a `KeyResolver` with refresh, counters and shutdown.
 *
 * @example
 * ```ts
 * const cache = createJwksCache({ jwksUri, algorithms: ['RS256'] });
 * await cache.refresh(); // optional warm-up
 * ```
 */
export interface JwksCache extends KeyResolver {
  readonly jwksUri: string;
  readonly stats: JwksCacheStats;
  /** Fetches now (joining a fetch in flight). Resolves whether or not the fetch succeeded. */
  refresh(): Promise<void>;
  /** Aborts a fetch in flight and starts no new one; cached keys keep answering. */
  close(): void;
}

/**
 * Creates a JWKS cache for one JWKS URI, designed after aws-jwt-verify's (per-kid map, penalty for
 * unknown kids) and jose's (cooldown, single fetch in flight):
 *
 * - a known kid is a synchronous `Map` lookup (no promise on the hot path);
 * - one fetch in flight however many requests wait for it;
 * - an unknown kid triggers one refetch, unless an unknown-kid refetch already happened in the last
 *   `cooldownSec`: forged kids cost at most one fetch per cooldown, while a legitimate rotation
 *   (a new kid after a quiet period) is picked up at once;
 * - a refetch keeps the keys still published (already imported) and drops the removed ones;
 * - after `ttlSec` a request triggers a background refresh and keeps being served from the cache;
 *   if the issuer is down, cached keys serve for `maxStaleSec` more;
 * - an outage is never a 401: an unknown kid while the last fetch failed, or no usable keys while
 *   the JWKS is unreachable, is `provider_unavailable`; only an unknown kid after a successful
 *   fetch is `key_unknown`;
 * - with no usable keys at all, fetches are still rate-limited (at most one a second, or per
 *   cooldown if shorter), so a cold start during an outage does not hammer the issuer.
 *
 * @example
 * ```ts
 * const keys = createJwksCache({ jwksUri: 'https://id.example/jwks', algorithms: ['RS256', 'ES256'] });
 * const verifier = createJwtVerifier({ keys, issuer, audience, algorithms: ['RS256', 'ES256'] });
 * ```
 */
export function createJwksCache(options: JwksCacheOptions): JwksCache {
  return new RemoteJwksCache(options);
}

const EMPTY = new KeyIndex([]);

class RemoteJwksCache implements JwksCache {
  readonly jwksUri: string;
  readonly #options: JwksCacheOptions;
  readonly #clock: () => number;
  readonly #ttlMs: number;
  readonly #staleMs: number;
  readonly #cooldownMs: number;
  readonly #abort = new AbortController();
  #index: KeyIndex = EMPTY;
  #freshUntil = 0;
  #usableUntil = 0;
  #inflight: Promise<void> | null = null;
  #lastMissFetchAt = Number.NEGATIVE_INFINITY;
  #lastEmptyFetchAt = Number.NEGATIVE_INFINITY;
  #nextBackgroundAt = 0;
  #lastFetchOk = false;
  #loaded = false;
  #closed = false;
  #fetches = 0;
  #failures = 0;
  #lastSuccessAt: number | null = null;

  constructor(options: JwksCacheOptions) {
    this.jwksUri = options.jwksUri;
    this.#options = options;
    this.#clock = options.clock ?? Date.now;
    this.#ttlMs = (options.ttlSec ?? 600) * 1000;
    this.#staleMs = (options.maxStaleSec ?? 3600) * 1000;
    this.#cooldownMs = (options.cooldownSec ?? 30) * 1000;
  }

  get stats(): JwksCacheStats {
    return {
      fetches: this.#fetches,
      failures: this.#failures,
      keyCount: this.#index.keys.length,
      lastSuccessAt: this.#lastSuccessAt,
    };
  }

  resolve(
    kid: string | undefined,
    alg: string,
    signal?: AbortSignal,
  ): VerificationKey | Promise<VerificationKey> {
    const now = this.#clock();
    if (now < this.#usableUntil) {
      if (now >= this.#freshUntil) this.#backgroundRefresh(now);
      const key = this.#index.find(kid, alg);
      if (key !== undefined) return key;
    }
    return this.#miss(kid, alg, signal);
  }

  refresh(): Promise<void> {
    return this.#refresh(this.#loaded ? 'manual' : 'initial');
  }

  close(): void {
    this.#closed = true;
    this.#abort.abort();
  }

  async #miss(
    kid: string | undefined,
    alg: string,
    signal: AbortSignal | undefined,
  ): Promise<VerificationKey> {
    if (this.#inflight) {
      await join(this.#inflight, signal);
      const key = this.#findUsable(kid, alg);
      if (key !== undefined) return key;
    }
    const now = this.#clock();
    // Two separate budgets: the unknown-kid cooldown starts only with an unknown-kid refetch (so a
    // rotation right after start-up is seen at once), and with nothing usable (cold start, keys too
    // stale) fetches retry sooner, at most one a second, so the cache recovers quickly after an outage.
    const usable = now < this.#usableUntil;
    const allowed = usable
      ? now - this.#lastMissFetchAt >= this.#cooldownMs
      : now - this.#lastEmptyFetchAt >= Math.min(this.#cooldownMs, 1000);
    if (!this.#closed && allowed) {
      if (usable) this.#lastMissFetchAt = now;
      else this.#lastEmptyFetchAt = now;
      await join(this.#refresh(this.#loaded ? 'unknown_kid' : 'initial'), signal);
      const key = this.#findUsable(kid, alg);
      if (key !== undefined) return key;
    }
    if (!this.#lastFetchOk || this.#clock() >= this.#usableUntil) {
      throw new AuthRejection('provider_unavailable', 'The signing keys of the issuer are unavailable');
    }
    throw new AuthRejection('key_unknown');
  }

  #findUsable(kid: string | undefined, alg: string): VerificationKey | undefined {
    return this.#clock() < this.#usableUntil ? this.#index.find(kid, alg) : undefined;
  }

  #backgroundRefresh(now: number): void {
    if (this.#inflight || this.#closed || now < this.#nextBackgroundAt) return;
    this.#nextBackgroundAt = now + Math.max(1000, this.#cooldownMs);
    void this.#refresh('ttl');
  }

  #refresh(trigger: JwksFetchTrigger): Promise<void> {
    if (this.#inflight) return this.#inflight;
    if (this.#closed) return Promise.resolve();
    const pending = this.#load(trigger).finally(() => {
      if (this.#inflight === pending) this.#inflight = null;
    });
    this.#inflight = pending;
    return pending;
  }

  /** Never rejects: the outcome is recorded in the cache state, which every waiter then reads. */
  async #load(trigger: JwksFetchTrigger): Promise<void> {
    const started = performance.now();
    this.#fetches++;
    let ignored = 0;
    let error: JwksFetchError['kind'] | undefined;
    try {
      const keys = await fetchJwks(this.jwksUri, {
        fetch: this.#options.fetch,
        timeoutMs: this.#options.timeoutMs ?? 5000,
        maxBodyBytes: this.#options.maxBodyBytes,
        signal: this.#abort.signal,
      });
      const built = buildKeyIndex(
        keys,
        { algorithms: this.#options.algorithms, maxKeys: this.#options.maxKeys ?? 64 },
        this.#index,
      );
      ignored = built.ignored;
      const now = this.#clock();
      this.#index = built.index;
      this.#freshUntil = now + this.#ttlMs;
      this.#usableUntil = now + this.#ttlMs + this.#staleMs;
      this.#nextBackgroundAt = 0;
      this.#lastFetchOk = true;
      this.#loaded = true;
      this.#lastSuccessAt = now;
    } catch (err) {
      this.#lastFetchOk = false;
      this.#failures++;
      error = err instanceof JwksFetchError ? err.kind : 'invalid';
    }
    const onFetch = this.#options.onFetch;
    if (onFetch) {
      try {
        onFetch({
          jwksUri: this.jwksUri,
          trigger,
          ok: error === undefined,
          durationMs: performance.now() - started,
          keyCount: this.#index.keys.length,
          ignoredCount: ignored,
          ...(error === undefined ? {} : { error }),
        });
      } catch {
        // A telemetry hook must not break verification.
      }
    }
  }
}

/** Waits for a shared promise, giving up early when this caller's signal aborts (the fetch continues for the others). */
function join(shared: Promise<void>, signal: AbortSignal | undefined): Promise<void> {
  if (!signal) return shared;
  if (signal.aborted) return Promise.reject(aborted(signal));
  return new Promise<void>((resolve, reject) => {
    const onAbort = () => reject(aborted(signal));
    signal.addEventListener('abort', onAbort, { once: true });
    shared.then(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, reject);
  });
}

function aborted(signal: AbortSignal): AuthRejection {
  return new AuthRejection('provider_unavailable', 'The verification was aborted', { cause: signal.reason });
}
