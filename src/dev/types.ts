/**
 * JWS algorithms the dev issuer signs access tokens with; one key of each is generated at start.
 *
 * @example
 * ```ts
 * for (const alg of DEV_SIGNING_ALGORITHMS) await issuer.mintServiceToken({ alg });
 * ```
 */
export const DEV_SIGNING_ALGORITHMS = ['RS256', 'ES256', 'EdDSA'] as const;

/**
 * A JWS algorithm the dev issuer can sign with.
 *
 * @example
 * ```ts
 * const alg: DevSigningAlgorithm = 'ES256';
 * await issuer.mintServiceToken({ alg });
 * ```
 */
export type DevSigningAlgorithm = (typeof DEV_SIGNING_ALGORITHMS)[number];

/**
 * A seeded user the headless login can sign in as. `id` becomes the token's `sub`.
 *
 * @example
 * ```ts
 * const dave: DevUser = { id: 'dave', email: 'dave@initech.test', name: 'Dave', orgId: 'org_initech', roles: ['member'] };
 * await startDevIssuer({ users: [dave] });
 * ```
 */
export interface DevUser {
  readonly id: string;
  readonly email: string;
  readonly name: string;
  /** Emitted as the `org_id` claim; `null` leaves the claim out. */
  readonly orgId: string | null;
  /** Emitted as the `roles` claim. */
  readonly roles: readonly string[];
}

/**
 * Where the dev issuer's diagnostics go. Every method is optional; the default is silent. Messages
 * never contain a token or a secret.
 *
 * @example
 * ```ts
 * await startDevIssuer({ logger: { warn: (m) => console.error(m), error: (m) => console.error(m) } });
 * ```
 */
export interface DevLogger {
  debug?(message: string): void;
  info?(message: string): void;
  warn?(message: string): void;
  error?(message: string): void;
}

/**
 * Options of `startDevIssuer`. Every field has a default suited to tests.
 *
 * @example
 * ```ts
 * const issuer = await startDevIssuer({ port: 4455, audience: 'https://api.example.test' });
 * ```
 */
export interface DevIssuerOptions {
  /** TCP port; `0` (default) picks a free ephemeral port. */
  readonly port?: number;
  /** Loopback address to bind; only `127.0.0.1` (default), `::1` or `localhost` are accepted. */
  readonly host?: string;
  /** The API's resource indicator and the `aud` of every access token. Default `https://api.authplane.local`. */
  readonly audience?: string;
  /** Access-token lifetime in seconds. Default 600. */
  readonly accessTokenTtlSec?: number;
  /** Users the headless login can pick; default alice, bob (org_acme) and carol (org_globex). */
  readonly users?: readonly DevUser[];
  /** `interval` added to device authorization responses (oidc-provider sends none). Default 1. */
  readonly deviceIntervalSec?: number;
  /** Diagnostics sink; silent by default. */
  readonly logger?: DevLogger;
  /**
   * Extra confidential web clients (auth code + PKCE + rotating refresh tokens), e.g. to let the dev
   * issuer play a connector's OAuth authorization server. None by default.
   */
  readonly webClients?: readonly DevWebClient[];
  /**
   * Further resource indicators (RFC 8707) the issuer mints access tokens for, each token's `aud`
   * being the one requested: e.g. a second API, to show a token of another audience refused.
   */
  readonly extraAudiences?: readonly string[];
  /**
   * A directory (created owner-only) where signing keys, the service client's secret, grants,
   * sessions and tokens are saved, so a restart on the same port keeps honouring what was issued
   * before. `authplane dev` uses `.authplane/dev`. Default: none, everything lives in memory.
   */
  readonly stateDir?: string;
  /** With `stateDir`: discard the saved state and start clean (new keys, new secret, no grants). */
  readonly reset?: boolean;
}

/**
 * A confidential web client registered through `DevIssuerOptions.webClients`: authorization code
 * (PKCE accepted), refresh tokens with `offline_access` (rotated on every use; `prompt=consent` is
 * needed for oidc-provider to grant `offline_access`), the OIDC and API scopes.
 *
 * @example
 * ```ts
 * await startDevIssuer({ webClients: [{ clientId: 'connector', clientSecret: 's3cret-for-tests',
 *   redirectUris: ['http://127.0.0.1:8080/callback'] }] });
 * ```
 */
export interface DevWebClient {
  readonly clientId: string;
  readonly clientSecret: string;
  /** Exact redirect URIs (loopback http is accepted for dev). */
  readonly redirectUris: readonly string[];
  /** How the client authenticates at the token endpoint. Default `client_secret_basic`. */
  readonly tokenEndpointAuthMethod?: 'client_secret_basic' | 'client_secret_post';
}

/**
 * The confidential client for `client_credentials`. It authenticates with `client_secret_basic`
 * (HTTP Basic), also at the introspection and revocation endpoints.
 *
 * @example
 * ```ts
 * const { clientId, clientSecret } = issuer.clients.service;
 * ```
 */
export interface DevServiceClient {
  readonly clientId: string;
  readonly clientSecret: string;
  readonly tokenEndpointAuthMethod: 'client_secret_basic';
  /** Emitted as `org_id` in its tokens. */
  readonly orgId: string;
  /** Emitted as `roles` in its tokens. */
  readonly roles: readonly string[];
  /** Scopes it may request. */
  readonly scopes: readonly string[];
  /**
   * Sibling clients with the same secret, org, roles and scopes whose tokens are signed with another
   * algorithm (`RS256` is `clientId` itself) or are opaque (introspectable). Their `sub`/`client_id`
   * is the sibling's id.
   */
  readonly variants: Readonly<Record<DevSigningAlgorithm | 'opaque', string>>;
  /**
   * A sibling registered with `dpop_bound_access_tokens: true` (RFC 9449 §5.2): the token endpoint
   * refuses it without a DPoP proof, and its tokens are ES256 JWTs bound to the proof key (`cnf.jkt`).
   */
  readonly dpopClientId: string;
}

/**
 * The public native client for the CLI: PKCE required, loopback redirect on any port, device flow,
 * refresh tokens (with `offline_access`) rotated on every use.
 *
 * @example
 * ```ts
 * const redirectUri = issuer.clients.cli.redirectUri.replace('127.0.0.1', '127.0.0.1:53682');
 * ```
 */
export interface DevCliClient {
  readonly clientId: string;
  readonly tokenEndpointAuthMethod: 'none';
  /** Registered loopback redirect; any port is accepted at runtime. */
  readonly redirectUri: string;
  readonly scopes: readonly string[];
}

/**
 * The clients the dev issuer registers.
 *
 * @example
 * ```ts
 * const { service, cli } = issuer.clients;
 * ```
 */
export interface DevClients {
  readonly service: DevServiceClient;
  readonly cli: DevCliClient;
}

/**
 * Request counters, reset only by a new issuer.
 *
 * @example
 * ```ts
 * const before = issuer.stats.jwksRequests;
 * ```
 */
export interface DevIssuerStats {
  /** GET requests to the JWKS URI. */
  readonly jwksRequests: number;
  /** POST requests to the token endpoint. */
  readonly tokenRequests: number;
}

/**
 * A running development issuer (oidc-provider on a loopback port). NOT FOR PRODUCTION.
 *
 * @example
 * ```ts
 * const issuer = await startDevIssuer();
 * const token = await issuer.mintServiceToken({ scope: 'read', alg: 'ES256' });
 * await issuer.stop();
 * ```
 */
export interface DevIssuer {
  /** `http://127.0.0.1:PORT`, the exact `iss` of every token. */
  readonly issuer: string;
  readonly port: number;
  readonly audience: string;
  readonly jwksUri: string;
  readonly tokenEndpoint: string;
  readonly introspectionEndpoint: string;
  readonly revocationEndpoint: string;
  readonly clients: DevClients;
  readonly users: readonly DevUser[];
  readonly stats: DevIssuerStats;
  /** Whether the listener is up (see `setOnline`). */
  readonly online: boolean;
  /** The private JWKs currently signing (one per algorithm), copies: sign test variants with them. */
  signingKeys(): JWK[];
  /** Every public JWK the JWKS URI publishes (current and not yet retired). */
  publishedKeys(): JWK[];
  /** A real `client_credentials` access token (RFC 9068 JWT) from the token endpoint. */
  mintServiceToken(options?: { scope?: string; alg?: DevSigningAlgorithm }): Promise<string>;
  /** A real opaque access token (the `opaque` service variant), which introspection can answer. */
  mintOpaqueToken(options?: { scope?: string }): Promise<string>;
  /**
   * A real DPoP-bound access token (RFC 9449) for the `dpopClientId` sibling: the token request carries
   * a DPoP proof signed with `key` (a private JWK: EC P-256 for ES256, OKP Ed25519 for EdDSA), so the
   * JWT's `cnf.jkt` is that key's thumbprint.
   */
  mintDpopToken(options: { key: JWK; scope?: string }): Promise<string>;
  /** New keys sign from now on; the previous ones stay published unless `retireOld` is true. */
  rotateKeys(options?: { retireOld?: boolean }): Promise<void>;
  /** Stops publishing every key that no longer signs. */
  retireOldKeys(): Promise<void>;
  /** `false`: close the listener and drop open sockets (connection refused); `true`: listen again on the same port. */
  setOnline(online: boolean): Promise<void>;
  /** What a backend needs, as environment variables (`AUTHPLANE_PROVIDER=oidc`, ...). */
  env(): Record<string, string>;
  /** Closes the server and every socket; nothing keeps the process alive afterwards. Idempotent. */
  stop(): Promise<void>;
}

/**
 * A JSON Web Key (RFC 7517) as the dev issuer hands it out. Declared here rather than taken from jose,
 * which is ESM-only: CommonJS consumers of these declarations could not name jose's type.
 *
 * @example
 * ```ts
 * const [rs256] = issuer.signingKeys().filter((k: JWK) => k.alg === 'RS256');
 * ```
 */
export interface JWK {
  kty?: string;
  kid?: string;
  alg?: string;
  use?: string;
  crv?: string;
  [parameter: string]: unknown;
}
