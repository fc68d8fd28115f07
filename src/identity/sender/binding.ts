import { ConfigError } from '../../core/errors';
import { AuthRejection } from '../../core/failure';
import type { Principal } from '../../core/principal';
import type { RequestLike } from '../types';
import { createDpopNonces, type DpopNonceOptions, type DpopNonces } from './dpop-nonce';
import { DPOP_ALGORITHMS, type DpopAlgorithm, readDpopHeader, verifyDpopProof } from './dpop-proof';
import { createMemoryDpopReplayStore, type DpopReplayStore } from './dpop-replay';
import { certificateThumbprint, type GetCertificate } from './mtls';
import { type PublicUrl, requestTarget } from './request-target';
import { sha256Base64url } from './thumbprint';

/**
 * The plane's `dpop` option: DPoP-bound access tokens (RFC 9449) are accepted with their proof.
 *
 * @example
 * ```ts
 * const dpop: DpopOptions = { replayStore: await createRedisDpopReplayStore({ url }), nonce: true, maxAgeSec: 60, publicUrl: 'https://api.example.com' };
 * ```
 */
export interface DpopOptions {
  /** Where proof `jti`s are remembered (shared across instances). Default: a bounded in-memory store. */
  readonly replayStore?: DpopReplayStore;
  /**
   * Require server nonces (RFC 9449 §8): `true` with a per-process secret, or options (a `secret` every
   * instance shares, `rotateSec`). A proof without a current nonce gets `dpop_nonce_required` and a
   * `DPoP-Nonce` header. Default off.
   */
  readonly nonce?: boolean | Omit<DpopNonceOptions, 'clock'>;
  /** Oldest acceptable proof `iat`, in seconds. Default 60. */
  readonly maxAgeSec?: number;
  /** Tolerance for a proof `iat` in the future, in seconds. Default 5. */
  readonly clockToleranceSec?: number;
  /** Accepted proof algorithms (asymmetric only). Default {@link DPOP_ALGORITHMS}. */
  readonly algorithms?: DpopAlgorithm[];
  /** The public URL the proof's `htu` must match, behind proxies (see `PublicUrl`). Default: the request's own URL. */
  readonly publicUrl?: PublicUrl;
}

/**
 * How the credential reached the plane: its scheme, and the request (null for `plane.verify(token)`).
 *
 * @internal
 * @example
 * ```ts
 * const presentation: Presentation = { token, scheme: 'dpop', request };
 * ```
 */
export interface Presentation {
  readonly token: string;
  readonly scheme: 'bearer' | 'dpop' | null;
  readonly request: RequestLike | null;
}

/**
 * The plane's check of sender-constrained tokens.
 *
 * @internal
 * @example
 * ```ts
 * const pending = constraints.check(principal, presentation, signal);
 * if (pending) await pending;
 * ```
 */
export interface SenderConstraints {
  /** The DPoP algorithms advertised in challenges, or undefined when DPoP is off. */
  readonly dpopAlgs: readonly string[] | undefined;
  /** Whether the DPoP Authorization scheme is accepted. */
  readonly acceptsDpop: boolean;
  /** null when there is nothing to check (an unbound token presented as Bearer): no await on the hot path. */
  check(principal: Principal, presentation: Presentation, signal?: AbortSignal): Promise<void> | null;
  close(): Promise<void>;
}

const KNOWN_CNF = new Set(['jkt', 'x5t#S256']);
const ASYMMETRIC = new Set<string>(DPOP_ALGORITHMS);

/**
 * Builds the sender-constraint check of a plane from its `dpop` and `getCertificate` options.
 *
 * - No `cnf` claim and the Bearer scheme: nothing to check.
 * - `cnf.jkt` (DPoP-bound): only with the DPoP scheme and a valid proof ({@link verifyDpopProof}), a
 *   current nonce when nonces are on, a `jti` not seen before; as Bearer (or through `plane.verify`):
 *   `token_type_mismatch`. The DPoP scheme with an unbound token: `token_type_mismatch`.
 * - `cnf["x5t#S256"]` (mTLS-bound, RFC 8705): the certificate `getCertificate(request)` returns must
 *   have that thumbprint; no hook, no certificate or another one: `token_type_mismatch`.
 * - Any other confirmation method: `token_type_mismatch`.
 *
 * Hooks (`replayStore.use`, `getCertificate`) have a deadline of `hookTimeoutMs`; a throw, a rejection or
 * a timeout is `provider_unavailable`.
 *
 * @internal
 * @throws ConfigError for an option that cannot take effect.
 * @example
 * ```ts
 * const constraints = createSenderConstraints({ dpop: { nonce: true }, getCertificate });
 * ```
 */
export function createSenderConstraints(options: {
  dpop?: DpopOptions;
  getCertificate?: GetCertificate;
  clock?: () => number;
  hookTimeoutMs?: number;
}): SenderConstraints {
  const dpop = options.dpop;
  const clock = options.clock ?? Date.now;
  const hookTimeoutMs = options.hookTimeoutMs ?? 2000;
  const getCertificate = options.getCertificate;
  if (getCertificate !== undefined && typeof getCertificate !== 'function') {
    throw new ConfigError('getCertificate', 'must be a function');
  }

  let algorithms: readonly string[] | undefined;
  let maxAgeSec = 60;
  let toleranceSec = 5;
  let nonces: DpopNonces | null = null;
  let replay: DpopReplayStore | null = null;
  let ownsReplay = false;
  if (dpop !== undefined) {
    if (!dpop || typeof dpop !== 'object') throw new ConfigError('dpop', 'must be an object');
    algorithms = Object.freeze([...(dpop.algorithms ?? DPOP_ALGORITHMS)]);
    if (algorithms.length === 0 || algorithms.some((alg) => !ASYMMETRIC.has(alg))) {
      throw new ConfigError(
        'dpop.algorithms',
        `must list asymmetric algorithms among ${DPOP_ALGORITHMS.join(', ')}`,
      );
    }
    maxAgeSec = positive(dpop.maxAgeSec, 60, 'dpop.maxAgeSec');
    toleranceSec = positive(dpop.clockToleranceSec, 5, 'dpop.clockToleranceSec', true);
    if (dpop.nonce !== undefined && dpop.nonce !== false) {
      try {
        nonces = createDpopNonces(dpop.nonce === true ? { clock } : { clock, ...dpop.nonce });
      } catch (err) {
        throw new ConfigError('dpop.nonce', (err as Error).message);
      }
    }
    if (dpop.publicUrl !== undefined && typeof dpop.publicUrl !== 'function') {
      if (typeof dpop.publicUrl !== 'string' || !/^https?:\/\/[^/?#]+(\/[^?#]*)?$/.test(dpop.publicUrl)) {
        throw new ConfigError(
          'dpop.publicUrl',
          'must be an absolute http(s) URL without query, or a function',
        );
      }
    }
    if (dpop.replayStore !== undefined) {
      if (!dpop.replayStore || typeof dpop.replayStore.use !== 'function') {
        throw new ConfigError('dpop.replayStore', 'must be a DpopReplayStore (a use function)');
      }
      replay = dpop.replayStore;
    } else {
      replay = createMemoryDpopReplayStore({ clock });
      ownsReplay = true;
    }
  }
  // A replayed proof could pass the iat window for maxAge + tolerance seconds on either side.
  const replayTtlSec = maxAgeSec + 2 * toleranceSec;

  const checkDpop = async (
    cnf: Record<string, unknown> | undefined,
    presentation: Presentation,
    signal: AbortSignal | undefined,
  ): Promise<void> => {
    const jkt = cnf?.jkt;
    if (typeof jkt !== 'string' || jkt.length === 0) {
      throw new AuthRejection('token_type_mismatch', 'The token is not DPoP-bound; present it as Bearer');
    }
    const request = presentation.request as RequestLike;
    const proof = readDpopHeader(request);
    if (proof === null) throw new AuthRejection('dpop_proof_invalid', 'A DPoP proof is required');
    let target: ReturnType<typeof requestTarget>;
    try {
      target = requestTarget(request, dpop?.publicUrl);
    } catch (err) {
      if (err instanceof AuthRejection) throw err;
      throw new AuthRejection('dpop_proof_invalid', 'The request URL could not be read');
    }
    const verified = verifyDpopProof(proof, {
      method: target.method,
      htu: target.htu,
      accessToken: presentation.token,
      jkt,
      nowSec: clock() / 1000,
      maxAgeSec,
      clockToleranceSec: toleranceSec,
      algorithms: algorithms as readonly string[],
    });
    if (nonces && !nonces.isValid(verified.nonce)) {
      throw new AuthRejection(
        'dpop_nonce_required',
        verified.nonce === undefined
          ? 'The DPoP proof must carry the server nonce'
          : 'The DPoP proof nonce is not current',
        { dpopNonce: nonces.current() },
      );
    }
    // Keyed by the proof key and jti: another key reusing a jti is not a replay of this proof.
    const key = sha256Base64url(`${jkt}.${verified.jti}`);
    const fresh = await deadline(
      () => (replay as DpopReplayStore).use(key, replayTtlSec),
      hookTimeoutMs,
      signal,
      'DPoP replay store',
    );
    if (fresh !== true) throw new AuthRejection('dpop_replayed');
  };

  const checkMtls = async (
    thumbprint: unknown,
    presentation: Presentation,
    signal: AbortSignal | undefined,
  ): Promise<void> => {
    if (typeof thumbprint !== 'string' || thumbprint.length === 0) {
      throw new AuthRejection('claims_invalid', 'The token cnf x5t#S256 is not a string');
    }
    if (!getCertificate) {
      throw new AuthRejection('token_type_mismatch', 'Certificate-bound tokens are not accepted here');
    }
    if (!presentation.request) {
      throw new AuthRejection('token_type_mismatch', 'A certificate-bound token needs its request');
    }
    const request = presentation.request;
    const cert = await deadline(() => getCertificate(request), hookTimeoutMs, signal, 'getCertificate');
    const actual = certificateThumbprint(cert);
    if (actual === null) {
      throw new AuthRejection(
        'token_type_mismatch',
        'A certificate-bound token needs the client certificate',
      );
    }
    if (actual !== thumbprint) {
      throw new AuthRejection(
        'token_type_mismatch',
        'The client certificate is not the one the token is bound to',
      );
    }
  };

  const checkAll = async (
    cnf: Record<string, unknown> | undefined,
    presentation: Presentation,
    signal: AbortSignal | undefined,
  ): Promise<void> => {
    if (presentation.scheme === 'dpop') await checkDpop(cnf, presentation, signal);
    else if (cnf?.jkt !== undefined) {
      throw new AuthRejection(
        'token_type_mismatch',
        'A DPoP-bound token must be presented with the DPoP scheme and a proof',
      );
    }
    if (cnf && cnf['x5t#S256'] !== undefined) await checkMtls(cnf['x5t#S256'], presentation, signal);
  };

  return {
    dpopAlgs: algorithms,
    acceptsDpop: algorithms !== undefined,
    check(principal, presentation, signal) {
      const raw = principal.claims?.cnf;
      if (raw === undefined && presentation.scheme !== 'dpop') return null;
      if (raw !== undefined) {
        if (!raw || typeof raw !== 'object' || Array.isArray(raw)) {
          return Promise.reject(new AuthRejection('claims_invalid', 'The token cnf claim is not an object'));
        }
        const members = Object.keys(raw);
        if (members.length === 0 || members.some((m) => !KNOWN_CNF.has(m))) {
          return Promise.reject(
            new AuthRejection(
              'token_type_mismatch',
              'The token is bound by an unsupported confirmation method',
            ),
          );
        }
      }
      return checkAll(raw as Record<string, unknown> | undefined, presentation, signal);
    },
    async close() {
      if (ownsReplay) await replay?.close?.();
    },
  };
}

function positive(value: unknown, fallback: number, path: string, zeroOk = false): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || (!zeroOk && value === 0)) {
    throw new ConfigError(path, zeroOk ? 'must be a non-negative number' : 'must be a positive number');
  }
  return value;
}

// Runs a hook with a deadline: a throw, a rejection, an abort or the timeout is an outage (503), never an accept.
async function deadline<T>(
  run: () => T | Promise<T>,
  timeoutMs: number,
  signal: AbortSignal | undefined,
  name: string,
): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let onAbort: (() => void) | undefined;
  try {
    return await Promise.race([
      Promise.resolve().then(run),
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error('timeout')), timeoutMs);
        if (signal) {
          onAbort = () => reject(new Error('aborted'));
          if (signal.aborted) onAbort();
          else signal.addEventListener('abort', onAbort, { once: true });
        }
      }),
    ]);
  } catch (cause) {
    if (cause instanceof AuthRejection) throw cause;
    throw new AuthRejection('provider_unavailable', `The ${name} did not answer`, { cause });
  } finally {
    if (timer) clearTimeout(timer);
    if (onAbort) signal?.removeEventListener('abort', onAbort);
  }
}
