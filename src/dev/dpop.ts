import { randomUUID } from 'node:crypto';
import { importJWK, type JWK, SignJWT } from 'jose';
import { ConfigError } from '../core/errors';

/**
 * A DPoP proof (RFC 9449 §4.2) for a token request: what a DPoP client sends to the dev issuer's token
 * endpoint so that the access token it gets is bound to `key` (`cnf.jkt`).
 *
 * @throws ConfigError for a key that is not a private EC P-256 or OKP Ed25519 JWK.
 * @example
 * ```ts
 * const proof = await tokenEndpointProof(privateJwk, `${dev.issuer}/token`);
 * ```
 */
export async function tokenEndpointProof(key: JWK, tokenEndpoint: string): Promise<string> {
  const alg =
    key.kty === 'EC' && key.crv === 'P-256'
      ? 'ES256'
      : key.kty === 'OKP' && key.crv === 'Ed25519'
        ? 'EdDSA'
        : null;
  if (!alg || typeof key.d !== 'string') {
    throw new ConfigError('key', 'must be a private EC P-256 or OKP Ed25519 JWK');
  }
  const { d: _d, ...publicJwk } = key;
  return new SignJWT({ htm: 'POST', htu: tokenEndpoint, jti: randomUUID() })
    .setProtectedHeader({ alg, typ: 'dpop+jwt', jwk: publicJwk })
    .setIssuedAt()
    .sign(await importJWK(key, alg));
}
