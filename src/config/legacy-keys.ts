// Pure helpers of the legacy configuration: secret decoding, key classification and presets. No zod
// and no import from schema.ts, so the schema, the adapter and the migration loader can all use them.
import { trimTrailing } from '../core/trim';

/**
 * How a string `secret` is turned into HMAC key bytes: `utf8` (the default: the string as Django's
 * `SECRET_KEY`), or `base64` / `base64url` / `hex` for a binary key such as
 * `SIGNING_KEY = base64.b64decode(env)`.
 *
 * @example
 * ```ts
 * const encoding: SecretEncoding = 'base64';
 * ```
 */
export type SecretEncoding = 'utf8' | 'base64' | 'base64url' | 'hex';

/**
 * The encodings `secretEncoding` accepts.
 *
 * @example
 * ```ts
 * SECRET_ENCODINGS.includes('hex'); // true
 * ```
 */
export const SECRET_ENCODINGS = ['utf8', 'base64', 'base64url', 'hex'] as const;

/** Shortest HMAC secret accepted without `allowWeakSecret`: 256 bits (RFC 7518 §3.2). */
export const MIN_LEGACY_SECRET_BYTES = 32;

const ENCODED = {
  base64: /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/,
  base64url: /^[A-Za-z0-9_-]*$/,
  hex: /^(?:[0-9a-fA-F]{2})*$/,
} as const;

/**
 * The bytes of one configured secret, or null when a string is not valid in its encoding (Node's own
 * decoders skip bad characters silently, which would turn a typo into a different key).
 *
 * @example
 * ```ts
 * decodeSecret('//6Age3L4hCAFMFAv0bEpB+l4nhpO8rx+gV92/3XOX8=', 'base64')?.length; // 32
 * ```
 */
export function decodeSecret(value: string | Uint8Array, encoding: SecretEncoding = 'utf8'): Buffer | null {
  if (typeof value !== 'string') return Buffer.from(value);
  if (encoding === 'utf8') return Buffer.from(value, 'utf8');
  const trimmed = encoding === 'base64url' ? trimTrailing(value, '=') : value;
  if (!ENCODED[encoding].test(trimmed)) return null;
  return Buffer.from(trimmed, encoding);
}

/**
 * Whether a configured public key is in fact PRIVATE key material: a PEM `PRIVATE KEY` block, or a JWK
 * with a private member (`d`, `p`, `q`, `dp`, `dq`, `qi`) or a symmetric `k`. Node would happily derive
 * the public half from a private PEM, so the mistake would work and leave the signing key on every
 * verifying host.
 *
 * @example
 * ```ts
 * isPrivateKeyMaterial('-----BEGIN PRIVATE KEY-----\n…'); // true
 * ```
 */
export function isPrivateKeyMaterial(value: unknown): boolean {
  if (typeof value === 'string') return /PRIVATE KEY-----/.test(value);
  if (!value || typeof value !== 'object') return false;
  const jwk = value as Record<string, unknown>;
  return ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k'].some((member) => jwk[member] !== undefined);
}

/**
 * A named set of defaults for a legacy Django stack:
 *
 * - `simplejwt`: djangorestframework-simplejwt's `JWTAuthentication` (`user_id`, `token_type: access`,
 *   leeway 0 as its `LEEWAY` default, HS256 unless a public key is given);
 * - `allauth-headless`: django-allauth's headless JWT strategy (`sub`, `token_use: access`, `sid`,
 *   RS256 with `HEADLESS_JWT_PRIVATE_KEY`'s public half, leeway 0).
 *
 * Explicit fields always win over the preset.
 *
 * @example
 * ```ts
 * const preset: LegacyPreset = 'simplejwt';
 * ```
 */
export type LegacyPreset = 'simplejwt' | 'allauth-headless';

/**
 * The presets `preset` accepts.
 *
 * @example
 * ```ts
 * LEGACY_PRESETS.includes('allauth-headless'); // true
 * ```
 */
export const LEGACY_PRESETS = ['simplejwt', 'allauth-headless'] as const;

/**
 * What a preset (or no preset) sets when the field is not given.
 *
 * @example
 * ```ts
 * LEGACY_PRESET_DEFAULTS['allauth-headless'].claims.subject; // 'sub'
 * ```
 */
export const LEGACY_PRESET_DEFAULTS = Object.freeze({
  none: {
    claims: { subject: 'user_id', tokenType: 'token_type' },
    tokenType: ['access'],
    clockToleranceSec: 5,
  },
  simplejwt: {
    claims: { subject: 'user_id', tokenType: 'token_type' },
    tokenType: ['access'],
    clockToleranceSec: 0,
  },
  'allauth-headless': {
    claims: { subject: 'sub', tokenType: 'token_use' },
    tokenType: ['access'],
    clockToleranceSec: 0,
  },
} as const);

/**
 * The claim-mapping defaults every legacy verifier starts from (SimpleJWT's names).
 *
 * @example
 * ```ts
 * LEGACY_CLAIM_DEFAULTS.org; // 'org_id'
 * ```
 */
export const LEGACY_CLAIM_DEFAULTS = Object.freeze({
  subject: 'user_id',
  org: 'org_id',
  roles: 'roles',
  scopes: ['scope'] as readonly string[],
  sessionId: 'sid',
  tokenType: 'token_type',
});

/**
 * The part of a legacy verifier's configuration the presets touch.
 *
 * @example
 * ```ts
 * const input: LegacyPresetInput = { preset: 'simplejwt', tokenType: ['access', 'sliding'] };
 * ```
 */
export interface LegacyPresetInput {
  readonly preset?: LegacyPreset | undefined;
  readonly tokenType?: string | readonly string[] | null | undefined;
  readonly clockToleranceSec?: number | undefined;
  readonly claims?:
    | {
        readonly subject?: string | undefined;
        readonly org?: string | undefined;
        readonly roles?: string | undefined;
        readonly scopes?: readonly string[] | undefined;
        readonly sessionId?: string | undefined;
        readonly tokenType?: string | undefined;
        readonly kind?: string | undefined;
      }
    | undefined;
}

/**
 * The effective claim mapping, accepted token types and leeway of one legacy verifier: preset
 * defaults under the explicit fields.
 *
 * @example
 * ```ts
 * resolveLegacyPreset({ preset: 'allauth-headless' }).claims.subject; // 'sub'
 * ```
 */
export interface ResolvedLegacyPreset {
  readonly claims: {
    readonly subject: string;
    readonly org: string;
    readonly roles: string;
    readonly scopes: readonly string[];
    readonly sessionId: string;
    readonly tokenType: string;
    readonly kind?: string;
  };
  /** Accepted values of the token-type claim; null when the check is switched off. */
  readonly tokenTypes: readonly string[] | null;
  readonly clockToleranceSec: number;
}

/**
 * Applies a preset's defaults under the explicit fields.
 *
 * @example
 * ```ts
 * resolveLegacyPreset({ preset: 'simplejwt', tokenType: ['access', 'sliding'] }).tokenTypes; // ['access', 'sliding']
 * ```
 */
export function resolveLegacyPreset(input: LegacyPresetInput): ResolvedLegacyPreset {
  const preset = LEGACY_PRESET_DEFAULTS[input.preset ?? 'none'];
  const explicit = input.claims ?? {};
  const pick = <K extends keyof typeof LEGACY_CLAIM_DEFAULTS>(name: K) =>
    explicit[name] ??
    (preset.claims as Partial<typeof LEGACY_CLAIM_DEFAULTS>)[name] ??
    LEGACY_CLAIM_DEFAULTS[name];
  const tokenType = input.tokenType;
  const tokenTypes =
    tokenType === null
      ? null
      : tokenType === undefined
        ? preset.tokenType
        : typeof tokenType === 'string'
          ? [tokenType]
          : [...tokenType];
  return Object.freeze({
    claims: Object.freeze({
      subject: pick('subject') as string,
      org: pick('org') as string,
      roles: pick('roles') as string,
      scopes: Object.freeze([...(pick('scopes') as readonly string[])]),
      sessionId: pick('sessionId') as string,
      tokenType: pick('tokenType') as string,
      ...(explicit.kind !== undefined ? { kind: explicit.kind } : {}),
    }),
    tokenTypes: tokenTypes === null ? null : Object.freeze(tokenTypes),
    clockToleranceSec: input.clockToleranceSec ?? preset.clockToleranceSec,
  });
}
