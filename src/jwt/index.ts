// The strict JWT verification core, shared by every JWT-based adapter (oidc, legacy, auth0).
// No vendor SDK and no framework: node:crypto and the core model only.
export { type ClaimsPolicy, checkClaims, createClaimsPolicy } from './claims';
export {
  countDots,
  decodeJsonSegment,
  decodeSegment,
  type ParsedJws,
  parseCompactJws,
  splitCompactJws,
} from './compact';
export {
  assertNotIdToken,
  checkHeader,
  createHeaderPolicy,
  type HeaderPolicy,
  normalizeMediaType,
} from './header';
export {
  createJwksCache,
  type JwksCache,
  type JwksCacheOptions,
  type JwksCacheStats,
  type JwksFetchEvent,
  type JwksFetchTrigger,
} from './jwks-cache';
export { DEFAULT_MAX_JWKS_BYTES, type FetchJwksOptions, fetchJwks, JwksFetchError } from './jwks-fetch';
export { buildKeyIndex, KeyIndex } from './key-index';
export { type ImportResult, importJwk, MIN_RSA_BITS } from './keys';
export { createLocalKeySet } from './local-keys';
export { createSecretKey, type HmacAlgorithm, MIN_HMAC_SECRET_BYTES } from './secret-key';
export { verifySignature } from './signature';
export type { JwtClaims, JwtHeader, KeyResolver, VerificationKey, VerifyArgs } from './types';
export {
  createVerifiedTokenCache,
  type VerifiedTokenCache,
  type VerifiedTokenCacheOptions,
  type VerifiedTokenFacts,
} from './verified-cache';
export {
  createJwtVerifier,
  type JwtVerifier,
  type JwtVerifierOptions,
  type JwtVerifyContext,
  type VerifiedJwt,
} from './verify';
