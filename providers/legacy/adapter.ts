import { createPublicKey, type JsonWebKey } from 'node:crypto';
import { type LegacyConfig, type LegacyConfigInput, legacyConfigSchema } from '../../src/config/schema';
import { ConfigError } from '../../src/core/errors';
import { AuthRejection } from '../../src/core/failure';
import type { Principal } from '../../src/core/principal';
import type { AdapterContext, IdentityAdapter } from '../../src/identity/types';
import { createLocalKeySet } from '../../src/jwt/local-keys';
import { createSecretKey } from '../../src/jwt/secret-key';
import type { KeyResolver, VerificationKey } from '../../src/jwt/types';
import { createJwtVerifier, type JwtVerifier, type VerifiedJwt } from '../../src/jwt/verify';
import { legacyClaimsToPrincipal } from './principal';

/** The adapter name, `principal.provider` and the failure's `provider`. */
export const LEGACY_PROVIDER_NAME = 'legacy';

/**
 * Creates the legacy adapter: verifies the home-grown, SimpleJWT-style access token that every
 * migration starts from, with the same strict core as the OIDC adapter (`src/jwt`):
 *
 * - one key, configured: an HS256 `secret` (at least 32 bytes) or an RS256 `publicKey` (PEM or JWK);
 *   algorithms are pinned (`['HS256']` or `['RS256']` by default) and a secret verifier accepts ONLY
 *   HMAC, a public-key verifier never does, so HS/RS confusion is `algorithm_not_allowed`; keys are never
 *   taken from the token header (`jwk`/`jku`/`x5c` are `header_rejected`); parsing is strict;
 * - `exp` is required; `iss` and `aud` are enforced when `issuer` / `audience` are configured;
 * - the header `typ` is not required (SimpleJWT writes `JWT`), but the `token_type` claim must equal
 *   `tokenType` (`access`; `null` switches it off): a refresh token presented as access is
 *   `token_type_mismatch`;
 * - `jti` must be a string (`requireJti`, default true): the plane refuses revoked jtis
 *   (`plane.revoke({ jti })`) through its revocation store, as for every provider.
 *
 * Accepts raw or already validated configuration (it is validated again here either way).
 *
 * @throws ConfigError naming the field: a short secret, neither or both keys, an unusable public key,
 *   algorithms that do not fit the key.
 * @example
 * ```ts
 * const adapter = createLegacyAdapter({ provider: 'legacy', secret: process.env.DJANGO_SIGNING_KEY! });
 * const principal = await adapter.verify(token, { traceId }); // principal.provider === 'legacy'
 * ```
 */
export function createLegacyAdapter(input: LegacyConfigInput | LegacyConfig): IdentityAdapter {
  const parsed = legacyConfigSchema.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ConfigError(issue ? issue.path.join('.') : '', issue?.message ?? 'is invalid', {
      cause: parsed.error,
    });
  }
  const config = parsed.data;
  const symmetric = config.secret !== undefined;
  const algorithms = config.algorithms ?? (symmetric ? ['HS256'] : ['RS256']);
  const keys = symmetric
    ? createSecretKey(config.secret as string, { algorithms })
    : publicKeyResolver(config.publicKey as string | Record<string, unknown>, algorithms);

  let verifier: JwtVerifier;
  try {
    verifier = createJwtVerifier({
      issuer: config.issuer ?? null,
      audience: config.audience ?? null,
      algorithms,
      keys,
      symmetric,
      // Legacy tokens say `typ: JWT` or nothing; the token type lives in a claim, checked below.
      tokenType: null,
      requireSubject: false,
      clockToleranceSec: config.clockToleranceSec,
      maxTokenBytes: config.maxTokenBytes,
      clock: config.clock,
    });
  } catch (err) {
    throw new ConfigError('algorithms', 'no usable algorithm for the configured key', { cause: err });
  }

  const mapping = config.claims;
  const toPrincipal = (verified: VerifiedJwt): Principal => {
    const claims = verified.claims;
    if (config.tokenType !== null && claims[mapping.tokenType] !== config.tokenType) {
      throw new AuthRejection('token_type_mismatch');
    }
    if (config.requireJti && (typeof claims.jti !== 'string' || claims.jti.length === 0)) {
      throw new AuthRejection('claims_invalid', 'The token has no jti');
    }
    return legacyClaimsToPrincipal(claims, { provider: LEGACY_PROVIDER_NAME, mapping });
  };

  return Object.freeze({
    name: LEGACY_PROVIDER_NAME,
    verify(token: string, _context: AdapterContext): Promise<Principal> {
      // Every key is local: the check is synchronous, no network, nothing to abort.
      try {
        return Promise.resolve(toPrincipal(verifier.check(token) as VerifiedJwt));
      } catch (err) {
        // Anything but an AuthRejection is a fault: the plane fails closed (provider_unavailable).
        return Promise.reject(err);
      }
    },
  });
}

/** A single configured public key; the header `kid` names no other key, so it is matched only when the JWK has one. */
function publicKeyResolver(
  publicKey: string | Record<string, unknown>,
  algorithms: readonly string[],
): KeyResolver {
  let jwk: Record<string, unknown>;
  try {
    jwk =
      typeof publicKey === 'string'
        ? (createPublicKey(publicKey).export({ format: 'jwk' }) as Record<string, unknown>)
        : { ...publicKey };
  } catch (cause) {
    throw new ConfigError('publicKey', 'is not a readable PEM public key', { cause });
  }
  const set = createLocalKeySet({ keys: [jwk as JsonWebKey] }, { algorithms });
  if (set.size === 0) {
    throw new ConfigError(
      'publicKey',
      'is not a usable public key for the configured algorithms (RSA keys need 2048 bits or more)',
    );
  }
  if (typeof jwk.kid === 'string') return set;
  return Object.freeze({
    resolve: (_kid: string | undefined, alg: string): VerificationKey =>
      set.resolve(undefined, alg) as VerificationKey, // a local set answers synchronously
  });
}
