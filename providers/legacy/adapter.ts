import type { MeterProvider } from '@opentelemetry/api';
import { resolveLegacyPreset } from '../../src/config/legacy-keys';
import {
  type LegacyConfig,
  type LegacyConfigInput,
  type LegacyVerifierConfig,
  legacyConfigSchema,
} from '../../src/config/schema';
import { ConfigError } from '../../src/core/errors';
import { AuthRejection } from '../../src/core/failure';
import type { Principal } from '../../src/core/principal';
import type { AdapterContext, IdentityAdapter } from '../../src/identity/types';
import type { VerifiedJwt } from '../../src/jwt/verify';
import { createActiveCheck } from './active';
import { buildKeyVerifiers, type KeyVerifier, verifyWithAny } from './keys';
import { type LegacyClaimMapping, legacyClaimsToPrincipal } from './principal';
import { createVerifierRouter, type RoutedVerifier } from './routing';
import { recordWeakSecretUse, warnWeakSecret } from './telemetry';

/** The adapter name, `principal.provider` and the failure's `provider`. */
export const LEGACY_PROVIDER_NAME = 'legacy';

/**
 * Options of {@link createLegacyAdapter} that are not configuration.
 *
 * @example
 * ```ts
 * createLegacyAdapter(config, { meterProvider });
 * ```
 */
export interface LegacyAdapterOptions {
  /** Meter provider for the weak-secret metric (default: the global one). */
  readonly meterProvider?: MeterProvider;
}

/**
 * Creates the legacy adapter: verifies the home-grown, SimpleJWT-style (or django-allauth headless)
 * access token that every migration starts from, with the same strict core as the OIDC adapter
 * (`src/jwt`):
 *
 * - keys, configured: HMAC secrets (`secret`, `secrets`; strings, bytes, or `secretEncoding`-encoded
 *   strings; at least 32 bytes unless `allowWeakSecret`) and/or public keys (`publicKey`, `secrets: [{
 *   publicKey }]`); a token verifies if ANY configured key verifies it (rotation without logging
 *   everyone out). Each key is pinned to its type: a secret only ever verifies HS*, a public key never
 *   does, so HS/RS confusion is `algorithm_not_allowed`; keys are never taken from the token header;
 * - `exp` is required; `iss` and `aud` are enforced when `issuer` / `audience` are configured;
 * - the token-type claim (`token_type`, or allauth's `token_use`) must be one of `tokenType` (`access`
 *   by default; a list such as `['access', 'sliding']`; `null` switches it off): a refresh token
 *   presented as access is `token_type_mismatch`;
 * - `jti` must be a string (`requireJti`, default true), so the plane can refuse revoked jtis;
 * - `preset: 'simplejwt' | 'allauth-headless'` sets the claims, token types and leeway 0;
 * - `verifiers: [...]` holds several verifiers on one side, routed by the token's `iss` or its
 *   token-type claim (never "try each");
 * - `isActive(principal)`: a deactivated user is `subject_inactive`; the answer is cached per subject
 *   for `isActiveCacheSec`, a hook that throws or misses `isActiveTimeoutMs` is `provider_unavailable`.
 *
 * Accepts raw or already validated configuration (it is validated again here either way).
 *
 * @throws ConfigError naming the field: a short secret, no key, a private key given as `publicKey`, an
 *   unusable public key, algorithms that do not fit the keys.
 * @example
 * ```ts
 * const adapter = createLegacyAdapter({ provider: 'legacy', preset: 'simplejwt', secret: process.env.DJANGO_SECRET_KEY! });
 * const principal = await adapter.verify(token, { traceId }); // principal.provider === 'legacy'
 * ```
 */
export function createLegacyAdapter(
  input: LegacyConfigInput | LegacyConfig,
  options: LegacyAdapterOptions = {},
): IdentityAdapter {
  const parsed = legacyConfigSchema.safeParse(input);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ConfigError(issue ? issue.path.join('.') : '', issue?.message ?? 'is invalid', {
      cause: parsed.error,
    });
  }
  const config = parsed.data;
  const entries: Array<{ config: LegacyVerifierConfig; path: string }> = config.verifiers
    ? config.verifiers.map((verifier, index) => ({
        config: verifier as LegacyVerifierConfig,
        path: `verifiers.${index}.`,
      }))
    : [{ config: config as LegacyVerifierConfig, path: '' }];

  const units: Array<RoutedVerifier & { unit: Unit }> = entries.map(({ config: verifier, path }) => {
    const resolved = resolveLegacyPreset(verifier);
    const keys = buildKeyVerifiers(verifier, {
      path,
      tolerance: resolved.clockToleranceSec,
      maxTokenBytes: config.maxTokenBytes,
      ...(config.clock ? { clock: config.clock } : {}),
    });
    for (const key of keys) if (key.weak) warnWeakSecret(path, key.bytes, options.meterProvider);
    return {
      issuer: verifier.issuer ?? null,
      marker: resolved.tokenTypes === null ? null : resolved.claims.tokenType,
      unit: {
        keys,
        mapping: resolved.claims as LegacyClaimMapping,
        tokenTypes: resolved.tokenTypes === null ? null : new Set(resolved.tokenTypes),
        // A verifier's own setting, else the side's, else true.
        requireJti: verifier.requireJti ?? config.requireJti ?? true,
      },
    };
  });
  const route = createVerifierRouter(units, config.maxTokenBytes);
  const activeCheck = config.isActive
    ? createActiveCheck({
        isActive: config.isActive,
        cacheSec: config.isActiveCacheSec,
        timeoutMs: config.isActiveTimeoutMs,
        ...(config.clock ? { clock: config.clock } : {}),
      })
    : null;

  const toPrincipal = (unit: Unit, verified: VerifiedJwt, key: KeyVerifier): Principal => {
    const claims = verified.claims;
    if (unit.tokenTypes !== null) {
      const type = claims[unit.mapping.tokenType];
      if (typeof type !== 'string' || !unit.tokenTypes.has(type))
        throw new AuthRejection('token_type_mismatch');
    }
    if (unit.requireJti && (typeof claims.jti !== 'string' || claims.jti.length === 0)) {
      throw new AuthRejection('claims_invalid', 'The token has no jti');
    }
    const principal = legacyClaimsToPrincipal(claims, {
      provider: LEGACY_PROVIDER_NAME,
      mapping: unit.mapping,
    });
    if (key.weak) recordWeakSecretUse(options.meterProvider);
    return principal;
  };

  return Object.freeze({
    name: LEGACY_PROVIDER_NAME,
    verify(token: string, _context: AdapterContext): Promise<Principal> {
      // Every key is local: the check is synchronous, no network, nothing to abort.
      let principal: Principal;
      try {
        const { unit } = route(token) as RoutedVerifier & { unit: Unit };
        const { verified, key } = verifyWithAny(unit.keys, token);
        principal = toPrincipal(unit, verified, key);
      } catch (err) {
        // Anything but an AuthRejection is a fault: the plane fails closed (provider_unavailable).
        return Promise.reject(err);
      }
      if (!activeCheck) return Promise.resolve(principal);
      return activeCheck(principal).then(() => principal);
    },
  });
}

interface Unit {
  readonly keys: readonly KeyVerifier[];
  readonly mapping: LegacyClaimMapping;
  readonly tokenTypes: ReadonlySet<string> | null;
  readonly requireJti: boolean;
}
