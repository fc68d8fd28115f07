// The built-in integrations: their OAuth endpoints, default scopes and refresh behaviour. Every field
// can be overridden per deployment (`catalog.github.tokenEndpoint`, …), which is how tests point them
// at a loopback authorization server, and any other key defines a custom integration.

/**
 * How the token endpoint answers: standard RFC 6749 JSON, or Slack's `{ ok, error }` envelope
 * (HTTP 200 even for errors, comma-separated scopes, `token_type: 'bot'`).
 *
 * @example
 * ```ts
 * const style: TokenResponseStyle = 'slack';
 * ```
 */
export type TokenResponseStyle = 'oauth2' | 'slack';

/**
 * One integration's OAuth behaviour.
 *
 * @example
 * ```ts
 * const jira: IntegrationDefinition = BUILTIN_INTEGRATIONS.jira;
 * jira.rotatesRefreshToken; // true
 * ```
 */
export interface IntegrationDefinition {
  readonly displayName: string;
  readonly authorizationEndpoint: string;
  readonly tokenEndpoint: string;
  readonly defaultScopes: readonly string[];
  /** How scopes are joined in the authorization request (`,` for Slack). */
  readonly scopeSeparator: string;
  /** Extra authorization request parameters (Atlassian: `audience`, `prompt=consent`). */
  readonly authorizationParams: Readonly<Record<string, string>>;
  readonly tokenEndpointAuthMethod: 'client_secret_post' | 'client_secret_basic';
  readonly tokenResponse: TokenResponseStyle;
  /** Whether every refresh returns a new refresh token (the old one then stops working). */
  readonly rotatesRefreshToken: boolean;
  /** Token-endpoint error codes that mean the grant is gone (reconnect), besides `invalid_grant`. */
  readonly reauthErrors: readonly string[];
  /** Where the integration's API lives, for callers building URLs. */
  readonly apiBaseUrl: string | null;
}

/**
 * GitHub (GitHub App user-to-server tokens: they expire after 8 hours and refresh with a rotating
 * refresh token; scopes come from the App's permissions), Slack (OAuth v2, optional token rotation)
 * and Atlassian/Jira (3LO, rotating refresh tokens, `offline_access` for a refresh token).
 *
 * @example
 * ```ts
 * BUILTIN_INTEGRATIONS.slack.tokenEndpoint; // 'https://slack.com/api/oauth.v2.access'
 * ```
 */
export const BUILTIN_INTEGRATIONS: Readonly<Record<'github' | 'slack' | 'jira', IntegrationDefinition>> =
  Object.freeze({
    github: Object.freeze({
      displayName: 'GitHub',
      authorizationEndpoint: 'https://github.com/login/oauth/authorize',
      tokenEndpoint: 'https://github.com/login/oauth/access_token',
      defaultScopes: Object.freeze([]),
      scopeSeparator: ' ',
      authorizationParams: Object.freeze({}),
      tokenEndpointAuthMethod: 'client_secret_post',
      tokenResponse: 'oauth2',
      rotatesRefreshToken: true,
      // GitHub answers HTTP 200 with `error: bad_refresh_token` for an expired or used refresh token.
      reauthErrors: Object.freeze(['bad_refresh_token']),
      apiBaseUrl: 'https://api.github.com',
    }),
    slack: Object.freeze({
      displayName: 'Slack',
      authorizationEndpoint: 'https://slack.com/oauth/v2/authorize',
      tokenEndpoint: 'https://slack.com/api/oauth.v2.access',
      defaultScopes: Object.freeze(['channels:read', 'chat:write']),
      scopeSeparator: ',',
      authorizationParams: Object.freeze({}),
      tokenEndpointAuthMethod: 'client_secret_post',
      tokenResponse: 'slack',
      // With token rotation enabled Slack returns a refresh token and `expires_in`; without, tokens never expire.
      rotatesRefreshToken: true,
      reauthErrors: Object.freeze(['invalid_refresh_token', 'token_revoked', 'token_expired']),
      apiBaseUrl: 'https://slack.com/api',
    }),
    jira: Object.freeze({
      displayName: 'Atlassian (Jira)',
      authorizationEndpoint: 'https://auth.atlassian.com/authorize',
      tokenEndpoint: 'https://auth.atlassian.com/oauth/token',
      defaultScopes: Object.freeze(['read:jira-work', 'read:jira-user', 'offline_access']),
      scopeSeparator: ' ',
      authorizationParams: Object.freeze({ audience: 'api.atlassian.com', prompt: 'consent' }),
      tokenEndpointAuthMethod: 'client_secret_post',
      tokenResponse: 'oauth2',
      rotatesRefreshToken: true,
      // Atlassian answers 403 `unauthorized_client` for an expired or rotated-away refresh token.
      reauthErrors: Object.freeze(['unauthorized_client']),
      apiBaseUrl: 'https://api.atlassian.com',
    }),
  });

/**
 * What a deployment configures per integration: the OAuth client and any override of the definition.
 * `extends` names the built-in it starts from (default: the key itself when it is a built-in, else a
 * custom integration, which must give both endpoints).
 *
 * @example
 * ```ts
 * const catalog: Record<string, IntegrationSettings> = {
 *   github: { clientId: 'Iv1.abc', clientSecret: process.env.GITHUB_CLIENT_SECRET },
 *   linear: { authorizationEndpoint: 'https://linear.app/oauth/authorize', tokenEndpoint: 'https://api.linear.app/oauth/token',
 *             clientId: 'lin_1', clientSecret: process.env.LINEAR_SECRET, defaultScopes: ['read'] },
 * };
 * ```
 */
export interface IntegrationSettings extends Partial<IntegrationDefinition> {
  readonly extends?: 'github' | 'slack' | 'jira';
  /** OAuth client id; needed for the connect flow and refreshes, not for API-key/Basic connections. */
  readonly clientId?: string;
  readonly clientSecret?: string;
}

/**
 * A resolved catalog entry: the definition plus the client credentials.
 *
 * @example
 * ```ts
 * const entry: ResolvedIntegration = resolveIntegration('github', { clientId: 'Iv1.abc', clientSecret: 's' });
 * ```
 */
export interface ResolvedIntegration extends IntegrationDefinition {
  readonly key: string;
  readonly clientId: string | null;
  readonly clientSecret: string | null;
}

/**
 * Merges one configured entry over its built-in definition.
 *
 * @throws Error when a custom integration lacks an endpoint (the config schema reports it first).
 * @example
 * ```ts
 * resolveIntegration('github', { clientId: 'Iv1.abc', tokenEndpoint: 'http://127.0.0.1:4000/token' });
 * ```
 */
export function resolveIntegration(key: string, settings: IntegrationSettings): ResolvedIntegration {
  const baseName = settings.extends ?? (Object.hasOwn(BUILTIN_INTEGRATIONS, key) ? key : null);
  const base = baseName ? BUILTIN_INTEGRATIONS[baseName as keyof typeof BUILTIN_INTEGRATIONS] : null;
  const pick = <K extends keyof IntegrationDefinition>(name: K, fallback: IntegrationDefinition[K]) =>
    (settings[name] ?? base?.[name] ?? fallback) as IntegrationDefinition[K];
  return Object.freeze({
    key,
    displayName: pick('displayName', key),
    authorizationEndpoint: pick('authorizationEndpoint', ''),
    tokenEndpoint: pick('tokenEndpoint', ''),
    defaultScopes: Object.freeze([...pick('defaultScopes', [])]),
    scopeSeparator: pick('scopeSeparator', ' '),
    authorizationParams: Object.freeze({ ...pick('authorizationParams', {}) }),
    tokenEndpointAuthMethod: pick('tokenEndpointAuthMethod', 'client_secret_basic'),
    tokenResponse: pick('tokenResponse', 'oauth2'),
    rotatesRefreshToken: pick('rotatesRefreshToken', false),
    reauthErrors: Object.freeze([...pick('reauthErrors', [])]),
    apiBaseUrl: pick('apiBaseUrl', null),
    clientId: settings.clientId ?? null,
    clientSecret: settings.clientSecret ?? null,
  });
}
