import { createHash } from 'node:crypto';
import * as oidc from 'openid-client';
import { AuthRejection } from '../../src/core/failure';

/** Upper bound on cached introspection answers. */
export const INTROSPECTION_CACHE_ENTRIES = 10_000;

/**
 * Options of an introspector.
 *
 * @example
 * ```ts
 * const options: IntrospectorOptions = { configuration: () => server.get(), issuer, audiences: new Set(['api']), cacheMaxSec: 60, clockToleranceSec: 5 };
 * ```
 */
export interface IntrospectorOptions {
  /** The openid-client configuration with the introspection endpoint and client authentication. */
  readonly configuration: () => Promise<oidc.Configuration>;
  readonly issuer: string;
  readonly audiences: ReadonlySet<string>;
  /** Upper bound on how long an active answer is reused (never past the token's `exp`); 0 disables. */
  readonly cacheMaxSec: number;
  /** How long an `active: false` answer is reused; 0 disables. Default 10. */
  readonly negativeCacheSec?: number;
  /**
   * Introspection requests allowed per second (a token bucket of `burst`), so a flood of random opaque
   * tokens costs the issuer a bounded number of calls. Above it: `provider_unavailable` (Retry-After 1),
   * never an accept. Cached answers do not count. Default 20/s, burst 40.
   */
  readonly maxRequestsPerSec?: number;
  readonly burst?: number;
  readonly clockToleranceSec: number;
  readonly maxEntries?: number;
  readonly clock?: () => number;
}

/**
 * RFC 7662 introspection of opaque access tokens, with a bounded cache of active answers and one
 * request in flight per token.
 *
 * @example
 * ```ts
 * const introspector = new Introspector(options);
 * const claims = await introspector.introspect(token);
 * ```
 */
export class Introspector {
  readonly #options: IntrospectorOptions;
  readonly #clock: () => number;
  readonly #cache = new Map<string, { claims: Readonly<Record<string, unknown>>; until: number }>();
  readonly #inflight = new Map<string, Promise<Readonly<Record<string, unknown>>>>();
  /** Digests of tokens the issuer called inactive, until when that answer is reused. */
  readonly #inactive = new Map<string, number>();
  /** What identifies a token the issuer once called active (jti, sid), for `token_revoked` later. */
  readonly #seen = new Map<string, { jti: string | null; sessionId: string | null; until: number }>();
  readonly #ratePerMs: number;
  readonly #burst: number;
  #tokens: number;
  #refilledAt: number;

  constructor(options: IntrospectorOptions) {
    this.#options = options;
    this.#clock = options.clock ?? Date.now;
    this.#ratePerMs = (options.maxRequestsPerSec ?? 20) / 1000;
    this.#burst = options.burst ?? 40;
    this.#tokens = this.#burst;
    this.#refilledAt = this.#clock();
  }

  /** Introspection requests sent to the issuer so far (diagnostics, tests). */
  requests = 0;

  /**
   * The introspection answer for an active, acceptable access token. `active: false` is
   * `token_inactive` (the issuer does not say why: unknown, expired or revoked there), carrying the
   * `jti`/`sid` of the token if it was once seen active, so the plane can say `token_revoked` when it
   * revoked that token itself. Inactive answers are reused for `negativeCacheSec`, and the requests
   * that reach the issuer are rate-limited (`provider_unavailable` above the limit). An answer for another issuer or audience, an expired one, or one that is not a
   * Bearer access token (a refresh token has no `token_type`) is refused with the matching reason.
   * Errors reaching the endpoint propagate as they are (the adapter maps them).
   */
  async introspect(token: string, signal?: AbortSignal): Promise<Readonly<Record<string, unknown>>> {
    // The cache is keyed by a digest: raw tokens are not kept as map keys.
    const key = createHash('sha256').update(token).digest('base64url');
    const now = this.#clock();
    const hit = this.#cache.get(key);
    if (hit !== undefined) {
      if (now < hit.until) return hit.claims;
      this.#cache.delete(key);
    }
    const inactiveUntil = this.#inactive.get(key);
    if (inactiveUntil !== undefined) {
      if (now < inactiveUntil) throw this.#inactiveRejection(key);
      this.#inactive.delete(key);
    }
    let pending = this.#inflight.get(key);
    if (pending === undefined) {
      if (!this.#take(now)) {
        throw new AuthRejection('provider_unavailable', 'Too many introspection requests', {
          retryAfterSec: 1,
        });
      }
      pending = this.#ask(key, token).finally(() => this.#inflight.delete(key));
      this.#inflight.set(key, pending);
    }
    return signal ? raceSignal(pending, signal) : pending;
  }

  /** Forgets every cached answer. */
  clear(): void {
    this.#cache.clear();
    this.#inactive.clear();
  }

  /** One request from the token bucket, refilled at `maxRequestsPerSec`. */
  #take(now: number): boolean {
    this.#tokens = Math.min(this.#burst, this.#tokens + (now - this.#refilledAt) * this.#ratePerMs);
    this.#refilledAt = now;
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }

  #inactiveRejection(key: string): AuthRejection {
    const seen = this.#seen.get(key);
    return new AuthRejection('token_inactive', undefined, {
      ...(seen ? { revocation: { jti: seen.jti, sessionId: seen.sessionId } } : {}),
    });
  }

  async #ask(key: string, token: string): Promise<Readonly<Record<string, unknown>>> {
    const configuration = await this.#options.configuration();
    this.requests++;
    const answer = (await oidc.tokenIntrospection(configuration, token, {
      token_type_hint: 'access_token',
    })) as unknown as Record<string, unknown>;
    const max = this.#options.maxEntries ?? INTROSPECTION_CACHE_ENTRIES;
    if (answer.active !== true) {
      const negativeMs = (this.#options.negativeCacheSec ?? 10) * 1000;
      if (negativeMs > 0) {
        const now = this.#clock();
        if (this.#inactive.size >= max) evict(this.#inactive, (until) => until, now, max);
        this.#inactive.set(key, now + negativeMs);
      }
      throw this.#inactiveRejection(key);
    }
    const claims = this.#check(answer);
    this.#remember(key, claims, max);
    const ttlMs = this.#options.cacheMaxSec * 1000;
    if (ttlMs > 0) {
      const now = this.#clock();
      const exp = typeof claims.exp === 'number' ? claims.exp * 1000 : Number.POSITIVE_INFINITY;
      const until = Math.min(now + ttlMs, exp);
      if (until > now) {
        if (this.#cache.size >= max) evict(this.#cache, (entry) => entry.until, now, max);
        this.#cache.set(key, { claims, until });
      }
    }
    return claims;
  }

  /** Keeps the jti/sid of an active token until its expiry (bounded), to name a later revocation. */
  #remember(key: string, claims: Readonly<Record<string, unknown>>, max: number): void {
    const jti = typeof claims.jti === 'string' ? claims.jti : null;
    const sessionId = typeof claims.sid === 'string' ? claims.sid : null;
    if (jti === null && sessionId === null) return;
    const now = this.#clock();
    const until = typeof claims.exp === 'number' ? claims.exp * 1000 : now + 3_600_000;
    if (this.#seen.size >= max) evict(this.#seen, (entry) => entry.until, now, max);
    this.#seen.set(key, { jti, sessionId, until });
  }

  #check(answer: Record<string, unknown>): Readonly<Record<string, unknown>> {
    const tokenType = typeof answer.token_type === 'string' ? answer.token_type : answer.typ;
    if (typeof tokenType !== 'string' || tokenType.toLowerCase() !== 'bearer') {
      throw new AuthRejection('token_type_mismatch', 'The token is not a Bearer access token');
    }
    if (answer.iss !== undefined && answer.iss !== this.#options.issuer)
      throw new AuthRejection('issuer_mismatch');
    const aud = answer.aud;
    if (aud !== undefined) {
      const list = Array.isArray(aud) ? aud : [aud];
      if (!list.some((value) => typeof value === 'string' && this.#options.audiences.has(value))) {
        throw new AuthRejection('audience_mismatch');
      }
    }
    const nowSec = this.#clock() / 1000;
    const tolerance = this.#options.clockToleranceSec;
    if (answer.exp !== undefined) {
      if (typeof answer.exp !== 'number')
        throw new AuthRejection('claims_invalid', 'The token expiry is not a number');
      if (answer.exp <= nowSec - tolerance) throw new AuthRejection('token_expired');
    }
    if (typeof answer.nbf === 'number' && answer.nbf > nowSec + tolerance) {
      throw new AuthRejection('token_not_yet_valid');
    }
    return answer;
  }
}

/** Drops expired entries, then the oldest ones, to make room in a bounded map. */
function evict<V>(map: Map<string, V>, untilOf: (value: V) => number, now: number, max: number): void {
  for (const [key, value] of map) if (untilOf(value) <= now) map.delete(key);
  for (const key of map.keys()) {
    if (map.size < max) break;
    map.delete(key);
  }
}

function raceSignal<T>(pending: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(aborted(signal));
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(aborted(signal));
    signal.addEventListener('abort', onAbort, { once: true });
    pending.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(err);
      },
    );
  });
}

function aborted(signal: AbortSignal): AuthRejection {
  return new AuthRejection('provider_unavailable', 'The verification was aborted', { cause: signal.reason });
}
