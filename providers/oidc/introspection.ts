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

  constructor(options: IntrospectorOptions) {
    this.#options = options;
    this.#clock = options.clock ?? Date.now;
  }

  /**
   * The introspection answer for an active, acceptable access token. `active: false` is
   * `token_revoked`; an answer for another issuer or audience, an expired one, or one that is not a
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
    let pending = this.#inflight.get(key);
    if (pending === undefined) {
      pending = this.#ask(key, token).finally(() => this.#inflight.delete(key));
      this.#inflight.set(key, pending);
    }
    return signal ? raceSignal(pending, signal) : pending;
  }

  /** Forgets every cached answer. */
  clear(): void {
    this.#cache.clear();
  }

  async #ask(key: string, token: string): Promise<Readonly<Record<string, unknown>>> {
    const configuration = await this.#options.configuration();
    const answer = await oidc.tokenIntrospection(configuration, token, { token_type_hint: 'access_token' });
    const claims = this.#check(answer as unknown as Record<string, unknown>);
    const ttlMs = this.#options.cacheMaxSec * 1000;
    if (ttlMs > 0) {
      const now = this.#clock();
      const exp = typeof claims.exp === 'number' ? claims.exp * 1000 : Number.POSITIVE_INFINITY;
      const until = Math.min(now + ttlMs, exp);
      if (until > now) {
        const max = this.#options.maxEntries ?? INTROSPECTION_CACHE_ENTRIES;
        if (this.#cache.size >= max) this.#evict(now, max);
        this.#cache.set(key, { claims, until });
      }
    }
    return claims;
  }

  #check(answer: Record<string, unknown>): Readonly<Record<string, unknown>> {
    if (answer.active !== true) throw new AuthRejection('token_revoked');
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

  /** Drops expired answers, then the oldest ones, to make room. */
  #evict(now: number, max: number): void {
    for (const [key, entry] of this.#cache) if (entry.until <= now) this.#cache.delete(key);
    for (const key of this.#cache.keys()) {
      if (this.#cache.size < max) break;
      this.#cache.delete(key);
    }
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
