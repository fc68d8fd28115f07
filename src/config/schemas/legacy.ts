// The legacy adapter's configuration (SimpleJWT, allauth headless, home-grown JWTs): keys, presets,
// several verifiers on one side.
import { z } from 'zod';
import type { Principal } from '../../core/principal';
import {
  decodeSecret,
  isPrivateKeyMaterial,
  LEGACY_PRESETS,
  MIN_LEGACY_SECRET_BYTES,
  SECRET_ENCODINGS,
  type SecretEncoding,
} from '../legacy-keys';

import { ASYMMETRIC_ALGORITHMS } from './oidc';
import { clockFn } from './primitives';

/**
 * The HMAC algorithms the legacy adapter accepts with a shared `secret` (and only then).
 *
 * @example
 * ```ts
 * HMAC_ALGORITHMS.includes('HS256'); // true
 * ```
 */
export const HMAC_ALGORITHMS = ['HS256', 'HS384', 'HS512'] as const;

/**
 * Where the legacy adapter reads the principal in a home-grown token's claims. Defaults follow
 * djangorestframework-simplejwt (`user_id`, `token_type`).
 *
 * @example
 * ```ts
 * legacyClaimMappingSchema.parse({ subject: 'sub', org: 'tenant' });
 * ```
 */
export const legacyClaimMappingSchema = z
  .object({
    /** The user id claim: `user_id` (SimpleJWT) or `sub`. A string or an integer. */
    subject: z.string().min(1).default('user_id'),
    org: z.string().min(1).default('org_id'),
    roles: z.string().min(1).default('roles'),
    /** Claims united into `principal.scopes` (space-separated string or array). */
    scopes: z.array(z.string().min(1)).min(1).default(['scope']),
    sessionId: z.string().min(1).default('sid'),
    /** The claim holding the token type (`access` / `refresh`). */
    tokenType: z.string().min(1).default('token_type'),
    /** Optional claim whose value `service` makes the principal a `service` (else `user`). */
    kind: z.string().min(1).optional(),
  })
  .strict();

export const legacyJwkSchema = z
  .record(z.string(), z.unknown())
  .refine((jwk) => typeof jwk.kty === 'string', { message: 'must be a public JWK (with kty)' });

/** A PEM (SPKI or PKCS#1) or a public JWK. */
export const legacyPublicKeySchema = z.union([z.string().min(1), legacyJwkSchema]);
/** An HMAC secret: a UTF-8 (or `secretEncoding`-encoded) string, or raw bytes (`Uint8Array`, `Buffer`). */
export const legacySecretSchema = z.union([z.string().min(1), z.instanceof(Uint8Array)]);

/** The claim mapping as written: every name optional (the preset, then SimpleJWT's names, fill the rest). */
export const legacyClaimMappingInputSchema = z
  .object({
    subject: z.string().min(1).optional(),
    org: z.string().min(1).optional(),
    roles: z.string().min(1).optional(),
    scopes: z.array(z.string().min(1)).min(1).optional(),
    sessionId: z.string().min(1).optional(),
    tokenType: z.string().min(1).optional(),
    kind: z.string().min(1).optional(),
  })
  .strict();

/** User-state hook: false means the subject is deactivated (`subject_inactive`). */
export type LegacyIsActive = (principal: Principal) => boolean | Promise<boolean>;

/** The fields of ONE legacy token verifier: its keys, its claims and its checks. */
export const legacyVerifierShape = {
  /** Defaults of a Django stack: `simplejwt` or `allauth-headless`. Explicit fields win. */
  preset: z.enum(LEGACY_PRESETS).optional(),
  /** HMAC secret: a string (UTF-8 unless `secretEncoding`) or bytes; at least 32 bytes unless `allowWeakSecret`. */
  secret: legacySecretSchema.optional(),
  /** How string secrets are decoded: `utf8` (default), `base64`, `base64url` or `hex`. */
  secretEncoding: z.enum(SECRET_ENCODINGS).optional(),
  /**
   * Further keys accepted at once, for rotation without logging everyone out: secrets (strings or bytes)
   * and `{ publicKey }` entries. A token verifies if any of them verifies it.
   */
  secrets: z
    .array(z.union([legacySecretSchema, z.object({ publicKey: legacyPublicKeySchema }).strict()]))
    .min(1)
    .max(16)
    .optional(),
  /** Accept a secret shorter than 32 bytes. Loud: a start-up warning and a metric attribute. */
  allowWeakSecret: z.boolean().optional(),
  /** Asymmetric verification key(s): a PEM (SPKI or PKCS#1) or a public JWK, or a list of them. */
  publicKey: z.union([legacyPublicKeySchema, z.array(legacyPublicKeySchema).min(1).max(16)]).optional(),
  /** Pinned algorithms. Default `['HS256']` with secrets, `['RS256']` with public keys (both when mixed). */
  algorithms: z
    .array(z.enum([...HMAC_ALGORITHMS, ...ASYMMETRIC_ALGORITHMS]))
    .min(1)
    .optional(),
  /** Exact `iss`, enforced when set (legacy tokens often carry none); also routes between `verifiers`. */
  issuer: z.string().min(1).optional(),
  /** Accepted `aud` values, enforced when set. */
  audience: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]).optional(),
  /** Accepted value(s) of the token type claim (default `access`); `null` switches the check off. */
  tokenType: z
    .union([z.string().min(1), z.array(z.string().min(1)).min(1).max(8)])
    .nullable()
    .optional(),
  /** Refuse tokens without a string `jti` (needed to revoke one token). Default true. */
  requireJti: z.boolean().optional(),
  /** Claim names; the preset (else SimpleJWT's names) fills what is not given. */
  claims: legacyClaimMappingInputSchema.optional(),
  /** Leeway on `exp`/`nbf`/`iat`: 0 with a preset (SimpleJWT's default `LEEWAY`), else 5. */
  clockToleranceSec: z.number().finite().nonnegative().max(300).optional(),
};

/** Fields of the legacy adapter, before the cross-field checks. */
export const legacyFieldsShape = {
  provider: z.literal('legacy'),
  ...legacyVerifierShape,
  /**
   * Several verifiers on one legacy side (SimpleJWT and allauth tokens of one project), each with its
   * own keys, preset and claims. A token goes to the verifier whose `issuer` it names, else to the first
   * whose token-type claim it carries. Exclusive with the top-level key fields.
   */
  verifiers: z.array(z.object(legacyVerifierShape).strict()).min(1).max(8).optional(),
  /**
   * User-state hook, called after the signature and claims are verified: `false` refuses the token as
   * `subject_inactive` (a deactivated Django user); a throw or a timeout is `provider_unavailable`.
   */
  isActive: z
    .custom<LegacyIsActive>((v) => typeof v === 'function', { message: 'must be a function' })
    .optional(),
  /** Seconds an `isActive` answer is reused per subject. Default 10; 0 asks on every request. */
  isActiveCacheSec: z.number().finite().nonnegative().max(300).default(10),
  /** Deadline of one `isActive` call, in ms. Default 1000. */
  isActiveTimeoutMs: z.number().int().positive().max(30_000).default(1000),
  maxTokenBytes: z.number().int().positive().default(8192),
  realm: z.string().optional(),
  clock: clockFn.optional(),
};

export const LEGACY_KEY_FIELDS = [
  'preset',
  'secret',
  'secretEncoding',
  'secrets',
  'publicKey',
  'algorithms',
  'issuer',
  'audience',
  'tokenType',
  'claims',
  'clockToleranceSec',
] as const;

export type LegacyVerifierFields = {
  secret?: string | Uint8Array | undefined;
  secretEncoding?: string | undefined;
  secrets?: ReadonlyArray<string | Uint8Array | { publicKey: unknown }> | undefined;
  allowWeakSecret?: boolean | undefined;
  publicKey?: unknown;
  algorithms?: readonly string[] | undefined;
};

export function checkLegacyKeys(
  config: LegacyVerifierFields & { verifiers?: readonly LegacyVerifierFields[] | undefined },
  ctx: z.RefinementCtx,
): void {
  if (config.verifiers !== undefined) {
    const record = config as Record<string, unknown>;
    const clash = LEGACY_KEY_FIELDS.find((field) => record[field] !== undefined);
    if (clash) {
      ctx.addIssue({ code: 'custom', path: [clash], message: 'goes inside each entry of verifiers' });
      return;
    }
    // allowWeakSecret at the top applies to every verifier that does not say otherwise.
    config.verifiers.forEach((verifier, index) => {
      checkLegacyVerifier(
        { ...verifier, allowWeakSecret: verifier.allowWeakSecret ?? config.allowWeakSecret },
        ctx,
        ['verifiers', index],
      );
    });
    return;
  }
  checkLegacyVerifier(config, ctx, []);
}

export function checkLegacyVerifier(
  config: LegacyVerifierFields,
  ctx: z.RefinementCtx,
  at: PropertyKey[],
): void {
  const issue = (path: PropertyKey[], message: string) =>
    ctx.addIssue({ code: 'custom', path: [...at, ...path], message });
  const encoding = (config.secretEncoding ?? 'utf8') as SecretEncoding;
  const secrets: Array<{ value: string | Uint8Array; path: PropertyKey[] }> = [];
  const publicKeys: Array<{ value: unknown; path: PropertyKey[] }> = [];
  if (config.secret !== undefined) secrets.push({ value: config.secret, path: ['secret'] });
  config.secrets?.forEach((entry, index) => {
    if (typeof entry === 'string' || entry instanceof Uint8Array) {
      secrets.push({ value: entry, path: ['secrets', index] });
    } else publicKeys.push({ value: entry.publicKey, path: ['secrets', index, 'publicKey'] });
  });
  if (Array.isArray(config.publicKey)) {
    config.publicKey.forEach((key, index) => {
      publicKeys.push({ value: key, path: ['publicKey', index] });
    });
  } else if (config.publicKey !== undefined)
    publicKeys.push({ value: config.publicKey, path: ['publicKey'] });

  if (secrets.length === 0 && publicKeys.length === 0) {
    issue(['secret'], 'is required (or publicKey for RS256)');
    return;
  }
  if (config.secretEncoding !== undefined && !secrets.some((s) => typeof s.value === 'string')) {
    issue(['secretEncoding'], 'applies to string secrets only; none is configured');
  }
  for (const { value, path } of secrets) {
    const bytes = decodeSecret(value, encoding);
    if (bytes === null) {
      issue(path, `is not valid ${encoding}`);
      continue;
    }
    if (bytes.length < MIN_LEGACY_SECRET_BYTES && config.allowWeakSecret !== true) {
      issue(
        path,
        `must be at least ${MIN_LEGACY_SECRET_BYTES} bytes (256 bits) for HMAC signing; ` +
          'set allowWeakSecret: true only to keep an existing deployment running while you rotate away from it',
      );
    }
    bytes.fill(0);
  }
  for (const { value, path } of publicKeys) {
    if (isPrivateKeyMaterial(value)) {
      issue(path, 'is PRIVATE key material: configure the public key only (never ship the signing key)');
    }
  }
  const hmac = (alg: string) => (HMAC_ALGORITHMS as readonly string[]).includes(alg);
  const algorithms = config.algorithms;
  if (algorithms === undefined) return;
  // Algorithm confusion is refused at start-up too: a secret only ever verifies HS*, a public key never does.
  if (publicKeys.length === 0 && !algorithms.every(hmac)) {
    issue(['algorithms'], 'only HS256/HS384/HS512 with a secret');
  } else if (secrets.length === 0 && algorithms.some(hmac)) {
    issue(['algorithms'], 'HS* algorithms need a secret, not a public key');
  } else if (secrets.length > 0 && !algorithms.some(hmac)) {
    issue(['algorithms'], 'must include an HS* algorithm for the configured secrets');
  } else if (publicKeys.length > 0 && algorithms.every(hmac)) {
    issue(['algorithms'], 'must include an asymmetric algorithm for the configured public keys');
  }
}

/**
 * Configuration of the legacy adapter (`provider: 'legacy'`): the home-grown SimpleJWT-style JWT.
 *
 * @example
 * ```ts
 * legacyConfigSchema.parse({ provider: 'legacy', secret: process.env.LEGACY_SECRET });
 * ```
 */
export const legacyConfigSchema = z.object(legacyFieldsShape).strict().superRefine(checkLegacyKeys);

/** The validated legacy adapter configuration (defaults applied). */
export type LegacyConfig = z.output<typeof legacyConfigSchema>;
/** What a caller writes for the legacy adapter. */
export type LegacyConfigInput = z.input<typeof legacyConfigSchema>;
/**
 * One legacy token verifier as validated (the top-level fields, or one entry of `verifiers`).
 *
 * @example
 * ```ts
 * const verifiers: LegacyVerifierConfig[] = config.verifiers ?? [config];
 * ```
 */
export type LegacyVerifierConfig = Omit<LegacyConfig, 'verifiers' | 'provider'>;
