import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Server-provided DPoP nonces (RFC 9449 §8): stateless, so every instance that shares `secret`
 * accepts every other's nonces. A nonce names a time window of `rotateSec` and carries an HMAC of it;
 * the current and the previous window are accepted, so a nonce lives between one and two windows.
 *
 * @example
 * ```ts
 * const nonces = createDpopNonces({ secret: process.env.DPOP_NONCE_SECRET, rotateSec: 300 });
 * nonces.isValid(nonces.current()); // true
 * ```
 */
export interface DpopNonces {
  /** The nonce of the current window. */
  current(): string;
  /** Whether a nonce is one of the current or the previous window. */
  isValid(nonce: unknown): boolean;
}

/**
 * Options of {@link createDpopNonces} and of the plane's `dpop.nonce`.
 *
 * @example
 * ```ts
 * const options: DpopNonceOptions = { secret: 'a shared secret of at least 32 characters.....', rotateSec: 300 };
 * ```
 */
export interface DpopNonceOptions {
  /** HMAC key shared by every instance (at least 32 bytes). Default: random per process. */
  readonly secret?: string | Uint8Array;
  /** Seconds per nonce window. Default 300. */
  readonly rotateSec?: number;
  /** Test seam: epoch milliseconds. */
  readonly clock?: () => number;
}

const NONCE_LENGTH = 43; // base64url of 8 + 24 bytes

/**
 * Creates the nonce source of a plane.
 *
 * @throws TypeError for a secret shorter than 32 bytes or a non-positive `rotateSec`.
 * @example
 * ```ts
 * const nonces = createDpopNonces({ rotateSec: 60 });
 * ```
 */
export function createDpopNonces(options: DpopNonceOptions = {}): DpopNonces {
  const secret =
    options.secret === undefined
      ? randomBytes(32)
      : typeof options.secret === 'string'
        ? Buffer.from(options.secret, 'utf8')
        : Buffer.from(options.secret);
  if (secret.length < 32) throw new TypeError('DPoP nonce secret must be at least 32 bytes');
  const rotateSec = options.rotateSec ?? 300;
  if (!Number.isSafeInteger(rotateSec) || rotateSec <= 0) {
    throw new TypeError('DPoP nonce rotateSec must be a positive integer');
  }
  const clock = options.clock ?? Date.now;
  const windowOf = () => Math.floor(clock() / 1000 / rotateSec);
  const mac = (window: Buffer) => createHmac('sha256', secret).update(window).digest().subarray(0, 24);
  const encode = (window: number): string => {
    const head = Buffer.alloc(8);
    head.writeBigUInt64BE(BigInt(window));
    return Buffer.concat([head, mac(head)]).toString('base64url');
  };
  return {
    current: () => encode(windowOf()),
    isValid(nonce) {
      if (typeof nonce !== 'string' || nonce.length !== NONCE_LENGTH) return false;
      const bytes = Buffer.from(nonce, 'base64url');
      if (bytes.length !== 32 || bytes.toString('base64url') !== nonce) return false;
      const head = bytes.subarray(0, 8);
      if (!timingSafeEqual(mac(head), bytes.subarray(8))) return false;
      const age = windowOf() - Number(head.readBigUInt64BE());
      return age === 0 || age === 1;
    },
  };
}
