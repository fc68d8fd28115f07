import { AuthRejection } from '../../src/core/failure';

/**
 * What the router needs to know of one verifier of a legacy side.
 *
 * @internal
 * @example
 * ```ts
 * const simplejwt: RoutedVerifier = { issuer: null, marker: 'token_type' };
 * ```
 */
export interface RoutedVerifier {
  /** The `iss` its tokens carry, when configured. */
  readonly issuer: string | null;
  /** The token-type claim its tokens carry (`token_type`, `token_use`), or null (no type check). */
  readonly marker: string | null;
}

/**
 * Picks the ONE verifier of a legacy side that a token belongs to, from its UNVERIFIED payload:
 * the verifier whose `issuer` equals the token's `iss`; else the first verifier without an issuer
 * whose token-type claim the token carries; else a verifier without issuer and marker. The chosen
 * verifier then verifies everything: a forged `iss` or claim only reaches a verifier that refuses it.
 * With a single verifier the payload is not read here at all.
 *
 * @internal
 * @example
 * ```ts
 * const route = createVerifierRouter([{ issuer: null, marker: 'token_type' }, { issuer: null, marker: 'token_use' }], 8192);
 * route(allauthToken); // the second
 * ```
 */
export function createVerifierRouter<T extends RoutedVerifier>(
  verifiers: readonly T[],
  maxTokenBytes: number,
): (token: string) => T {
  const only = verifiers[0];
  if (verifiers.length === 1 && only) return () => only;
  const byIssuer = new Map<string, T>();
  for (const verifier of verifiers) {
    if (verifier.issuer !== null && !byIssuer.has(verifier.issuer)) byIssuer.set(verifier.issuer, verifier);
  }
  const byMarker = verifiers.filter((v) => v.issuer === null && v.marker !== null);
  const fallback = verifiers.find((v) => v.issuer === null && v.marker === null);
  return (token: string): T => {
    if (token.length > maxTokenBytes) {
      throw new AuthRejection('credentials_malformed', `The credential exceeds ${maxTokenBytes} bytes`);
    }
    const payload = peekPayload(token);
    const iss = payload.iss;
    if (iss !== undefined) {
      if (typeof iss !== 'string')
        throw new AuthRejection('claims_invalid', 'The token issuer is not a string');
      const found = byIssuer.get(iss);
      if (found) return found;
    }
    for (const verifier of byMarker) if (payload[verifier.marker as string] !== undefined) return verifier;
    if (fallback) return fallback;
    if (iss !== undefined) throw new AuthRejection('issuer_mismatch');
    throw new AuthRejection('token_type_mismatch', 'The token is of no configured legacy token type');
  };
}

function peekPayload(token: string): Record<string, unknown> {
  const first = token.indexOf('.');
  const second = first < 0 ? -1 : token.indexOf('.', first + 1);
  if (second < 0 || token.indexOf('.', second + 1) >= 0) throw new AuthRejection('credentials_malformed');
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(token.slice(first + 1, second), 'base64url').toString('utf8'));
  } catch {
    throw new AuthRejection('credentials_malformed');
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new AuthRejection('credentials_malformed');
  }
  return parsed as Record<string, unknown>;
}
