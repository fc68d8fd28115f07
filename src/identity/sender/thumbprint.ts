import { createHash } from 'node:crypto';

// RFC 7638 §3.2: the required members of each key type, in lexicographic order.
const REQUIRED: Readonly<Record<string, readonly string[]>> = {
  EC: ['crv', 'kty', 'x', 'y'],
  OKP: ['crv', 'kty', 'x'],
  RSA: ['e', 'kty', 'n'],
};

/**
 * The RFC 7638 JWK SHA-256 thumbprint (base64url) of a public JWK: the hash of its required members
 * only, serialized in lexicographic order without whitespace. This is what `cnf.jkt` carries.
 *
 * @throws TypeError for a key type without required members defined here or a non-string member.
 * @example
 * ```ts
 * jwkThumbprint({ kty: 'EC', crv: 'P-256', x: '…', y: '…' }); // '0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I'
 * ```
 */
export function jwkThumbprint(jwk: Readonly<Record<string, unknown>>): string {
  const members = typeof jwk.kty === 'string' ? REQUIRED[jwk.kty] : undefined;
  if (!members) throw new TypeError('jwkThumbprint: unsupported key type');
  const canonical: Record<string, string> = {};
  for (const name of members) {
    const value = jwk[name];
    if (typeof value !== 'string') throw new TypeError(`jwkThumbprint: member ${name} is not a string`);
    canonical[name] = value;
  }
  return createHash('sha256').update(JSON.stringify(canonical)).digest('base64url');
}

/**
 * SHA-256 of a string, base64url: the DPoP `ath` of an access token (RFC 9449 §4.2).
 *
 * @example
 * ```ts
 * const ath = sha256Base64url(accessToken);
 * ```
 */
export function sha256Base64url(value: string | Uint8Array): string {
  return createHash('sha256').update(value).digest('base64url');
}
