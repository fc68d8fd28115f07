// A DPoP client for tests: key pairs and proofs (RFC 9449 §4.2), each field overridable so a test can
// break exactly one check.
import { createHash, randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair, importJWK, type JWK, SignJWT } from 'jose';

/** A client's DPoP key: the private JWK (for the dev issuer) and the public one (for proofs). */
export interface DpopKey {
  readonly privateJwk: JWK;
  readonly publicJwk: JWK;
  readonly alg: 'ES256' | 'EdDSA';
}

export async function dpopKey(alg: 'ES256' | 'EdDSA' = 'ES256'): Promise<DpopKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  return { privateJwk: await exportJWK(privateKey), publicJwk: await exportJWK(publicKey), alg };
}

export const ath = (token: string): string => createHash('sha256').update(token).digest('base64url');

export interface ProofOptions {
  readonly htm: string;
  readonly htu: string;
  readonly accessToken?: string;
  readonly iat?: number;
  readonly jti?: string;
  readonly nonce?: string;
  /** Replaces `ath` (null leaves it out). */
  readonly ath?: string | null;
  readonly typ?: string;
  /** The jwk put in the header (default: the signing key's public JWK). */
  readonly headerJwk?: JWK;
  /** Extra header members. */
  readonly header?: Record<string, unknown>;
}

/** A DPoP proof signed with `key`. */
export async function proof(key: DpopKey, options: ProofOptions): Promise<string> {
  const claims: Record<string, unknown> = {
    htm: options.htm,
    htu: options.htu,
    jti: options.jti ?? randomUUID(),
    iat: options.iat ?? Math.floor(Date.now() / 1000),
  };
  if (options.nonce !== undefined) claims.nonce = options.nonce;
  if (options.ath !== null) {
    const value = options.ath ?? (options.accessToken ? ath(options.accessToken) : undefined);
    if (value !== undefined) claims.ath = value;
  }
  return new SignJWT(claims)
    .setProtectedHeader({
      alg: key.alg,
      typ: options.typ ?? 'dpop+jwt',
      jwk: options.headerJwk ?? key.publicJwk,
      ...options.header,
    })
    .sign(await importJWK(key.privateJwk, key.alg));
}

/** Raw header entries of a DPoP-scheme request. */
export const dpopHeaders = (token: string, dpopProof: string): string[] => [
  'Authorization',
  `DPoP ${token}`,
  'DPoP',
  dpopProof,
];
