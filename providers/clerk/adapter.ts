// Session tokens are verified by authplane's own strict verifier (src/jwt) with the plane's clock and
// JWKS cache, as the Auth0 adapter does: @clerk/backend's `verifyToken` checks times against the real
// clock only, so a configured `clock` would silently not apply. Every
// Backend API call (JWKS, API-key and M2M-token verification; memberships in ./membership) bypasses the
// SDK and goes through the configured `fetch` (createClerkApi in ./backend), because @clerk/backend 3
// has no fetch seam (its `runtime.fetch` is the global fetch, bound at import: callers could not route
// its requests, and nothing could abort them) and its waits are not bounded by our `timeoutMs` (its
// JWKS loading retries ~5 times over ~3 s; its other requests have no timeout at all). The requests
// are the ones the SDK sends: same paths, bodies and headers (a test compares them).
import { createPublicKey } from 'node:crypto';
import type { ClerkConfig } from '../../src/config/schema';
import { ConfigError } from '../../src/core/errors';
import { AuthRejection } from '../../src/core/failure';
import { freezePrincipal, type Principal } from '../../src/core/principal';
import type { AdapterContext, IdentityAdapter } from '../../src/identity/types';
import { createJwksCache, type JwksCache, type JwksFetchEvent } from '../../src/jwt/jwks-cache';
import { buildKeyIndex } from '../../src/jwt/key-index';
import type { KeyResolver } from '../../src/jwt/types';
import { createJwtVerifier } from '../../src/jwt/verify';
import { assertSecureUrl } from '../oidc/urls';
import { clerkHeaders, createClerkApi, trimTrailingSlashes } from './backend';
import { clerkClaimsToPrincipal } from './claims';
import { toClerkRejection } from './errors';

/** The adapter name, `principal.provider` and the failure's `provider`. */
export const CLERK_PROVIDER_NAME = 'clerk';

/**
 * Extra, non-config hooks of the Clerk adapter.
 *
 * @example
 * ```ts
 * await createClerkAdapter(config, { onJwksFetch: (e) => console.debug(e.trigger, e.ok) });
 * ```
 */
export interface ClerkAdapterHooks {
  /** Called after every JWKS fetch (telemetry). */
  readonly onJwksFetch?: (event: JwksFetchEvent) => void;
}

/**
 * The Clerk adapter: an `IdentityAdapter` plus read-only diagnostics.
 *
 * @example
 * ```ts
 * const adapter = await createClerkAdapter(config);
 * adapter.jwksStats()?.fetches;
 * ```
 */
export interface ClerkAdapter extends IdentityAdapter {
  /** JWKS cache counters, or null with a networkless `jwtKey`. */
  jwksStats(): JwksCache['stats'] | null;
  close(): Promise<void>;
}

/** Clerk signs session tokens with RS256 only. */
const CLERK_ALGORITHMS = ['RS256'] as const;

/**
 * Creates the Clerk adapter.
 *
 * Session tokens (JWTs) are verified by authplane's own strict verifier (`src/jwt`, as the Auth0 and
 * OIDC adapters): canonical parse, header checks (JWE, `crit`, key-bearing headers, `none`/HMAC
 * refused), RS256 signature, `exp`/`nbf`/`iat` at the configured `clock` with `clockToleranceSec`,
 * `typ` (when present) `JWT`, `azp` against `authorizedParties` (a mismatch is `audience_mismatch`),
 * and `iss` against the Frontend API the `publishableKey` names, when one is set. The key:
 * - `jwtKey` (PEM): networkless;
 * - otherwise the instance JWKS, `GET <apiUrl>/v1/jwks` with the secret key, fetched by the same JWKS
 *   cache as the OIDC adapter through `fetch` (one fetch in flight, unknown-kid cooldown, stale keys
 *   served during an outage, `provider_unavailable` for an unseen key while Clerk is down).
 * `@clerk/backend` is not needed at run time: its `verifyToken` judges times by the real clock only,
 * its JWKS loading retries past our timeout, and it has no `fetch` seam.
 *
 * Machine credentials (listed in `machineTokens`), verified by the Backend API:
 * - `ak_…` API keys (need `secretKey`, the SDK's Bearer for them): `POST <apiUrl>/api_keys/verify`
 *   `{ secret }` -> kind `api_key` (`subject` = the key's subject, `providerSubject` = the key id,
 *   `orgId` when the subject is an `org_…`); unknown `api_key_invalid`, revoked `api_key_revoked`,
 *   expired `api_key_expired`;
 * - `mt_…` M2M tokens (need `machineSecretKey` or `secretKey`, the Bearer in that order):
 *   `POST <apiUrl>/m2m_tokens/verify` `{ token }` -> kind `service`; unknown or revoked
 *   `token_revoked`, expired `token_expired`;
 * - `oat_…` OAuth tokens and M2M JWTs are not accepted (`token_type_mismatch`).
 *
 * Every HTTP call (JWKS, API key, M2M token) goes through `fetch` (default: the global fetch), never
 * through the SDK, which has no `fetch` seam: each is aborted at `timeoutMs` (or when the caller's
 * `signal` aborts), with at most `maxRetries` retries on 429/5xx/network inside that time (see
 * `createClerkApi`).
 *
 * @throws ConfigError when neither `jwtKey` nor `secretKey` is set, for a `jwtKey` that is not an RSA
 * public key, or an insecure `apiUrl`.
 * @example
 * ```ts
 * const adapter = await createClerkAdapter(clerkConfigSchema.parse({
 *   provider: 'clerk', secretKey: process.env.CLERK_SECRET_KEY, authorizedParties: ['https://app.acme.test'],
 * }));
 * const principal = await adapter.verify(sessionToken, { traceId });
 * ```
 */
export async function createClerkAdapter(
  config: ClerkConfig,
  hooks: ClerkAdapterHooks = {},
): Promise<ClerkAdapter> {
  if (!config.jwtKey && !config.secretKey) {
    throw new ConfigError('secretKey', 'is required unless jwtKey is set (AUTHPLANE_CLERK_SECRET_KEY)');
  }
  assertSecureUrl('apiUrl', config.apiUrl, config.allowInsecureRequests);
  if (config.jwtKey) assertRsaPem(config.jwtKey);
  const apiUrl = trimTrailingSlashes(config.apiUrl);
  const clock = config.clock ?? Date.now;
  const secretKey = config.secretKey;
  // The Bearer keys @clerk/backend uses: the secret key for API keys (it requires one), the machine
  // secret key, else the secret key, for M2M tokens.
  const m2mKey = config.machineSecretKey ?? secretKey;
  const accepts = new Set(
    config.machineTokens.filter((type) => (type === 'api_key' ? secretKey : m2mKey) !== undefined),
  );
  const doFetch: typeof fetch = config.fetch ?? ((input, init) => globalThis.fetch(input, init));
  const api = createClerkApi({
    apiUrl,
    fetch: doFetch,
    timeoutMs: config.timeoutMs,
    maxRetries: config.maxRetries,
  });
  const authorizedParties = config.authorizedParties ? [...config.authorizedParties] : undefined;

  let jwks: JwksCache | null = null;
  if (!config.jwtKey) {
    const bapiHeaders = clerkHeaders(secretKey as string);
    jwks = createJwksCache({
      jwksUri: `${apiUrl}/v1/jwks`,
      algorithms: CLERK_ALGORITHMS,
      // The Backend API JWKS needs the secret key and the SDK's headers; added here, never logged.
      fetch: (input, init) => {
        const headers = new Headers(init?.headers);
        for (const [name, value] of Object.entries(bapiHeaders)) headers.set(name, value);
        return doFetch(input, { ...init, headers });
      },
      timeoutMs: config.timeoutMs,
      ttlSec: config.jwks.ttlSec,
      cooldownSec: config.jwks.cooldownSec,
      maxStaleSec: config.jwks.maxStaleSec,
      maxKeys: config.jwks.maxKeys,
      clock,
      onFetch: hooks.onJwksFetch,
    });
    void jwks.refresh();
  }
  // One strict verifier (parse, header, key, signature, exp/nbf/iat) with the configured clock. Clerk
  // session tokens carry no `aud` (off explicitly); `iss` is the instance's Frontend API, known from
  // the publishable key when one is configured (else off); `azp` is checked below.
  const verifier = createJwtVerifier({
    issuer: config.publishableKey ? frontendApiIssuer(config.publishableKey) : null,
    audience: null,
    algorithms: CLERK_ALGORITHMS,
    keys: config.jwtKey ? pemKeySet(config.jwtKey) : (jwks as JwksCache),
    tokenType: null,
    clockToleranceSec: config.clockToleranceSec,
    maxTokenBytes: config.maxTokenBytes,
    clock,
  });

  const verifySession = async (token: string, signal: AbortSignal | undefined): Promise<Principal> => {
    const { header, claims } = await verifier.verify(token, signal ? { signal } : undefined);
    // What @clerk/backend checks besides: `typ`, when present, is `JWT`; `azp`, when present, is one
    // of the authorized parties.
    if (header.typ !== undefined && header.typ !== 'JWT') {
      throw new AuthRejection('token_type_mismatch', 'The token is not a Clerk session token');
    }
    const azp = claims.azp;
    if (authorizedParties && azp !== undefined) {
      if (typeof azp !== 'string')
        throw new AuthRejection('claims_invalid', 'The token azp claim is invalid');
      if (!authorizedParties.includes(azp)) {
        throw new AuthRejection('audience_mismatch', 'The token was issued for another authorized party');
      }
    }
    return clerkClaimsToPrincipal(claims as unknown as Record<string, unknown>, CLERK_PROVIDER_NAME);
  };

  const verifyApiKey = async (secret: string, signal: AbortSignal | undefined): Promise<Principal> => {
    const key = await api.call({
      method: 'POST',
      path: '/api_keys/verify',
      body: { secret },
      bearer: secretKey as string,
      signal,
      onStatus: (status) => {
        if (status === 404 || status === 400) throw new AuthRejection('api_key_invalid');
        return undefined;
      },
    });
    const record = machineRecord(key);
    if (record.revoked) throw new AuthRejection('api_key_revoked');
    if (record.expired || (record.expiration !== null && record.expiration <= clock()))
      throw new AuthRejection('api_key_expired');
    const name = (key as { name?: unknown }).name;
    const type = (key as { type?: unknown }).type;
    return freezePrincipal({
      subject: record.subject,
      providerSubject: record.id,
      provider: CLERK_PROVIDER_NAME,
      kind: 'api_key',
      orgId: record.subject.startsWith('org_') ? record.subject : null,
      roles: [],
      scopes: record.scopes,
      sessionId: null,
      expiresAt: record.expiration === null ? null : new Date(record.expiration),
      authMethod: 'api_key',
      claims: {
        key_id: record.id,
        subject: record.subject,
        type: typeof type === 'string' ? type : null,
        name: typeof name === 'string' ? name : null,
        scopes: record.scopes,
        claims: record.claims,
      },
    });
  };

  const verifyM2m = async (token: string, signal: AbortSignal | undefined): Promise<Principal> => {
    const m2m = await api.call({
      method: 'POST',
      path: '/m2m_tokens/verify',
      body: { token },
      bearer: m2mKey as string,
      signal,
      onStatus: (status) => {
        if (status === 404 || status === 400)
          throw new AuthRejection('token_revoked', 'The M2M token is not active');
        return undefined;
      },
    });
    const record = machineRecord(m2m);
    if (record.revoked) throw new AuthRejection('token_revoked');
    if (record.expired || (record.expiration !== null && record.expiration <= clock()))
      throw new AuthRejection('token_expired');
    return freezePrincipal({
      subject: record.subject,
      providerSubject: record.subject,
      provider: CLERK_PROVIDER_NAME,
      kind: 'service',
      orgId: null,
      roles: [],
      scopes: record.scopes,
      sessionId: null,
      expiresAt: record.expiration === null ? null : new Date(record.expiration),
      authMethod: 'introspection',
      claims: { token_id: record.id, subject: record.subject, scopes: record.scopes, claims: record.claims },
    });
  };

  const adapter: ClerkAdapter = {
    name: CLERK_PROVIDER_NAME,

    async verify(token: string, context: AdapterContext): Promise<Principal> {
      const signal = context.signal;
      try {
        if (token.startsWith('ak_')) {
          if (!accepts.has('api_key'))
            throw new AuthRejection('token_type_mismatch', 'API keys are not accepted');
          return await verifyApiKey(token, signal);
        }
        if (token.startsWith('mt_')) {
          if (!accepts.has('m2m_token'))
            throw new AuthRejection('token_type_mismatch', 'M2M tokens are not accepted');
          return await verifyM2m(token, signal);
        }
        if (token.startsWith('oat_'))
          throw new AuthRejection('token_type_mismatch', 'OAuth tokens are not accepted');
        return await verifySession(token, signal);
      } catch (err) {
        throw toClerkRejection(err);
      }
    },

    jwksStats() {
      return jwks?.stats ?? null;
    },

    async close(): Promise<void> {
      jwks?.close();
    },
  };
  return Object.freeze(adapter);
}

interface MachineRecord {
  readonly id: string;
  readonly subject: string;
  readonly scopes: readonly string[];
  readonly claims: Record<string, unknown> | null;
  readonly revoked: boolean;
  readonly expired: boolean;
  /** Epoch ms, or null (no expiry). */
  readonly expiration: number | null;
}

/**
 * Checks the shape of an API key (`object: 'api_key'`) / M2M token (`object: 'machine_to_machine_token'`)
 * JSON answer, whose fields the SDK's `APIKey`/`M2MToken` carry under the same names (`expiration` in
 * epoch ms): a malformed body is an outage, never an accept.
 */
function machineRecord(value: unknown): MachineRecord {
  const v = (value ?? {}) as Record<string, unknown>;
  const scopes = v.scopes ?? [];
  const claims = v.claims ?? null;
  const expiration = v.expiration ?? null;
  if (
    typeof v.id !== 'string' ||
    typeof v.subject !== 'string' ||
    v.subject.length === 0 ||
    !Array.isArray(scopes) ||
    !scopes.every((s) => typeof s === 'string') ||
    (claims !== null && typeof claims !== 'object') ||
    typeof v.revoked !== 'boolean' ||
    (v.expired !== undefined && typeof v.expired !== 'boolean') ||
    (expiration !== null && typeof expiration !== 'number')
  ) {
    throw new AuthRejection('provider_unavailable', 'Clerk returned an unusable response');
  }
  return {
    id: v.id,
    subject: v.subject,
    scopes: scopes as string[],
    claims: claims as Record<string, unknown> | null,
    revoked: v.revoked,
    expired: v.expired === true,
    expiration: expiration as number | null,
  };
}

/**
 * The session-token issuer a publishable key names: `pk_test_` + base64(`<frontend api host>$`) ->
 * `https://<host>`. The field takes effect this way (an exact `iss` check); an undecodable key is a
 * ConfigError rather than an option silently ignored.
 */
function frontendApiIssuer(publishableKey: string): string {
  const encoded = publishableKey.replace(/^pk_(live|test)_/, '');
  const decoded = Buffer.from(encoded, 'base64').toString('utf8');
  const host = decoded.endsWith('$') ? decoded.slice(0, -1) : '';
  if (!/^[a-z0-9.-]+(:\d+)?$/i.test(host) || !host.includes('.')) {
    throw new ConfigError(
      'publishableKey',
      'does not encode a Clerk Frontend API host (pk_test_… as issued by Clerk)',
    );
  }
  return `https://${host}`;
}

/** The networkless key: Clerk's PEM public key, used whatever `kid` a token names (as the SDK does). */
function pemKeySet(pem: string): KeyResolver {
  const jwk = { ...createPublicKey(pem).export({ format: 'jwk' }), alg: 'RS256', use: 'sig' };
  const { index } = buildKeyIndex([jwk], { algorithms: CLERK_ALGORITHMS, maxKeys: 1 });
  const key = index.keys[0];
  if (key === undefined) throw new ConfigError('jwtKey', 'must be the PEM of an RSA public key');
  return { resolve: () => key };
}

function assertRsaPem(pem: string): void {
  try {
    const key = createPublicKey(pem);
    if (key.asymmetricKeyType !== 'rsa' || (key.asymmetricKeyDetails?.modulusLength ?? 0) < 2048)
      throw new Error('not RSA-2048+');
  } catch (cause) {
    throw new ConfigError('jwtKey', 'must be the PEM of an RSA public key of at least 2048 bits', { cause });
  }
}
