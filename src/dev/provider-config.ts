import type { JWK } from 'jose';
import type {
  AccessToken,
  AsymmetricSigningAlgorithm,
  ClientCredentials,
  ClientMetadata,
  Configuration,
  KoaContextWithOIDC,
  errors as OidcErrors,
} from 'oidc-provider';
import type { DevStorage } from './adapter';
import { devPage } from './login-page';
import type { DevClients, DevSigningAlgorithm, DevUser, DevWebClient } from './types';

/**
 * Scopes of the API (the configured audience).
 *
 * @example
 * ```ts
 * await issuer.mintServiceToken({ scope: API_SCOPES.join(' ') });
 * ```
 */
export const API_SCOPES = ['read', 'write', 'sync:write', 'admin'] as const;
/**
 * OpenID Connect scopes the CLI client may also ask for.
 *
 * @example
 * ```ts
 * const scope = [...OIDC_SCOPES, 'read'].join(' ');
 * ```
 */
export const OIDC_SCOPES = ['openid', 'offline_access', 'profile', 'email'] as const;

/**
 * Route paths, fixed here so the issuer can count requests without asking the Provider.
 *
 * @example
 * ```ts
 * const jwksUri = `${issuer}${ROUTES.jwks}`;
 * ```
 */
export const ROUTES = {
  jwks: '/jwks',
  token: '/token',
  introspection: '/token/introspection',
  revocation: '/token/revocation',
  device_authorization: '/device/auth',
  code_verification: '/device',
} as const;

const DAY_SEC = 24 * 60 * 60;

/** Client metadata names this issuer adds (registered through `extraClientMetadata`). */
const META_ORG = 'org_id';
const META_ROLES = 'roles';
const META_ALG = 'authplane_access_token_alg';
const META_FORMAT = 'authplane_access_token_format';

/**
 * What one Provider instance of a dev issuer is built from.
 *
 * @example
 * ```ts
 * new Provider(issuer, providerConfiguration(setup));
 * ```
 */
export interface ProviderSetup {
  readonly audience: string;
  readonly accessTokenTtlSec: number;
  readonly users: readonly DevUser[];
  readonly clients: DevClients;
  /** Current keys first (they sign), then published-only keys. */
  readonly jwks: readonly JWK[];
  /** kid of the current key per algorithm: tokens name it explicitly, so a published old key never signs. */
  readonly currentKids: ReadonlyMap<DevSigningAlgorithm, string>;
  readonly storage: DevStorage;
  readonly cookieKeys: readonly string[];
  readonly errors: typeof OidcErrors;
  /** Extra confidential auth-code clients (`DevIssuerOptions.webClients`). */
  readonly webClients?: readonly DevWebClient[];
  /** Further resource indicators tokens may be issued for (`DevIssuerOptions.extraAudiences`). */
  readonly extraAudiences?: readonly string[];
}

/**
 * Finds a seeded user by id or email (a `login_hint` may carry either).
 *
 * @example
 * ```ts
 * findUser(DEFAULT_DEV_USERS, 'bob@acme.test')?.id; // 'bob'
 * ```
 */
export function findUser(users: readonly DevUser[], hint: string | undefined): DevUser | undefined {
  if (!hint) return undefined;
  return users.find((u) => u.id === hint || u.email === hint);
}

function userClaims(user: DevUser): Record<string, unknown> {
  return user.orgId === null ? { roles: [...user.roles] } : { org_id: user.orgId, roles: [...user.roles] };
}

/** The static client registrations: the service client, its per-alg/opaque siblings and the CLI client. */
function clientRegistrations(clients: DevClients, web: readonly DevWebClient[] = []): ClientMetadata[] {
  const { service, cli } = clients;
  const serviceBase = {
    client_secret: service.clientSecret,
    grant_types: ['client_credentials'],
    response_types: [],
    redirect_uris: [],
    token_endpoint_auth_method: service.tokenEndpointAuthMethod,
    scope: service.scopes.join(' '),
    [META_ORG]: service.orgId,
    [META_ROLES]: [...service.roles],
  };
  return [
    { ...serviceBase, client_id: service.variants.RS256, [META_ALG]: 'RS256' },
    { ...serviceBase, client_id: service.variants.ES256, [META_ALG]: 'ES256' },
    { ...serviceBase, client_id: service.variants.EdDSA, [META_ALG]: 'EdDSA' },
    { ...serviceBase, client_id: service.variants.opaque, [META_FORMAT]: 'opaque' },
    // DPoP-bound tokens only (RFC 9449 §5.2): a token request without a proof is refused.
    { ...serviceBase, client_id: service.dpopClientId, [META_ALG]: 'ES256', dpop_bound_access_tokens: true },
    {
      client_id: cli.clientId,
      application_type: 'native',
      token_endpoint_auth_method: 'none',
      redirect_uris: [cli.redirectUri],
      response_types: ['code'],
      grant_types: ['authorization_code', 'refresh_token', 'urn:ietf:params:oauth:grant-type:device_code'],
      scope: cli.scopes.join(' '),
    },
    ...web.map(
      (w): ClientMetadata => ({
        client_id: w.clientId,
        client_secret: w.clientSecret,
        application_type: 'web',
        token_endpoint_auth_method: w.tokenEndpointAuthMethod ?? 'client_secret_basic',
        redirect_uris: [...w.redirectUris],
        response_types: ['code'],
        grant_types: ['authorization_code', 'refresh_token'],
        scope: cli.scopes.join(' '),
      }),
    ),
  ];
}

function page(title: string, body: string): string {
  return devPage(title, body);
}

/**
 * The oidc-provider configuration of one Provider instance. Every instance of one dev issuer (a new one
 * per key rotation) gets the same storage, cookie keys, clients and users, so sessions and grants survive.
 *
 * @example
 * ```ts
 * const provider = new Provider(issuer, providerConfiguration({ audience, users, clients, jwks, … }));
 * ```
 */
export function providerConfiguration(setup: ProviderSetup): Configuration {
  const { audience, accessTokenTtlSec, users, clients, currentKids, errors } = setup;
  const resources = new Set([audience, ...(setup.extraAudiences ?? [])]);
  const serviceFamily = new Set([...Object.values(clients.service.variants), clients.service.dpopClientId]);

  return {
    adapter: setup.storage.factory,
    clients: clientRegistrations(clients, setup.webClients),
    // oidc-provider's JWK types are narrower than jose's; these are private JWKs it accepts as they are.
    jwks: { keys: setup.jwks.map((k) => ({ ...k })) } as NonNullable<Configuration['jwks']>,
    cookies: { keys: [...setup.cookieKeys] },
    routes: { ...ROUTES },
    scopes: [...OIDC_SCOPES, ...API_SCOPES],
    claims: { openid: ['sub'], email: ['email', 'email_verified'], profile: ['name'] },
    extraClientMetadata: { properties: [META_ORG, META_ROLES, META_ALG, META_FORMAT] },
    rotateRefreshToken: true,
    // Explicit lifetimes (oidc-provider's defaults, except access tokens) also keep it from printing notices.
    ttl: {
      AccessToken: accessTokenTtlSec,
      ClientCredentials: accessTokenTtlSec,
      AuthorizationCode: 60,
      DeviceCode: 600,
      IdToken: 3600,
      Interaction: 3600,
      RefreshToken: 14 * DAY_SEC,
      Session: 14 * DAY_SEC,
      Grant: 14 * DAY_SEC,
    },
    // Dev convenience for browser demos on other loopback ports; never a production policy.
    clientBasedCORS: () => true,
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },

    async findAccount(_ctx, sub) {
      const user = users.find((u) => u.id === sub);
      if (!user) return undefined;
      return {
        accountId: user.id,
        claims: () => ({
          sub: user.id,
          email: user.email,
          email_verified: true,
          name: user.name,
          ...userClaims(user),
        }),
      };
    },

    async extraTokenClaims(ctx: KoaContextWithOIDC, token: AccessToken | ClientCredentials) {
      if ('accountId' in token && token.accountId) {
        const user = users.find((u) => u.id === token.accountId);
        return user ? userClaims(user) : undefined;
      }
      const client = token.clientId ? await ctx.oidc.provider.Client.find(token.clientId) : undefined;
      if (!client) return undefined;
      const meta = client.metadata();
      const claims: Record<string, unknown> = {};
      if (typeof meta[META_ORG] === 'string') claims.org_id = meta[META_ORG];
      if (Array.isArray(meta[META_ROLES])) claims.roles = meta[META_ROLES];
      return claims;
    },

    features: {
      devInteractions: { enabled: false },
      // RFC 7591 dynamic client registration, open (no initial access token): what MCP clients use.
      registration: { enabled: true },
      clientCredentials: { enabled: true },
      introspection: {
        enabled: true,
        // oidc-provider's default policy: a public client may only introspect its own tokens.
        allowedPolicy: (_ctx, client, token) =>
          !(client.clientAuthMethod === 'none' && token.clientId !== client.clientId),
      },
      revocation: {
        enabled: true,
        // The default policy (own tokens only), widened to the service client's siblings so the service
        // credentials can revoke the opaque variant's tokens.
        allowedPolicy: (_ctx, client, token) => {
          if (token.clientId === client.clientId) return true;
          if (token.clientId && serviceFamily.has(token.clientId) && serviceFamily.has(client.clientId))
            return true;
          if (client.clientAuthMethod === 'none') return false;
          throw new errors.InvalidRequest('client is not authorized to revoke the presented token');
        },
      },
      deviceFlow: {
        enabled: true,
        userCodeInputSource(ctx, form, _out, err) {
          ctx.body = page(
            'Device sign-in',
            `${err ? '<p>That code did not work. Try again.</p>' : '<p>Enter the code shown on your device.</p>'}${form}<button type="submit" form="op.deviceInputForm">Continue</button>`,
          );
        },
        userCodeConfirmSource(ctx, form, _client, _deviceInfo, userCode) {
          ctx.body = page(
            'Confirm device',
            `<p>Code: <code>${userCode}</code></p>${form}<button type="submit" form="op.deviceConfirmForm">Continue</button>`,
          );
        },
        successSource(ctx) {
          ctx.body = page('Signed in', '<p>You can close this page and return to your device.</p>');
        },
      },
      resourceIndicators: {
        enabled: true,
        // Without a resource parameter, tokens still target the API: JWTs, never silently opaque.
        defaultResource: (_ctx, _client, oneOf) => {
          if (!oneOf) return audience;
          return oneOf.includes(audience) ? audience : oneOf;
        },
        useGrantedResource: () => true,
        getResourceServerInfo(_ctx, resourceIndicator, client) {
          if (!resources.has(resourceIndicator)) throw new errors.InvalidTarget();
          const meta = client.metadata();
          const base = {
            audience: resourceIndicator,
            scope: API_SCOPES.join(' '),
            accessTokenTTL: accessTokenTtlSec,
          };
          if (meta[META_FORMAT] === 'opaque') return { ...base, accessTokenFormat: 'opaque' };
          const alg = (typeof meta[META_ALG] === 'string' ? meta[META_ALG] : 'RS256') as DevSigningAlgorithm;
          const kid = currentKids.get(alg);
          return {
            ...base,
            accessTokenFormat: 'jwt',
            jwt: { sign: { alg: alg as AsymmetricSigningAlgorithm, ...(kid ? { kid } : {}) } },
          };
        },
      },
    },
  };
}
