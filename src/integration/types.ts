/**
 * Names one connection: the org that owns it, the integration (`github`, `slack`, `jira`, a custom key)
 * and the connection id. A connection's identity is `(orgId, connectionId)`: two orgs may use the same
 * id and never reach each other's connection, so `orgId` is required (the org the request acts on,
 * e.g. `principal.orgId`). A connection of another org is `connection_not_found`, exactly like one that
 * does not exist (nothing leaks).
 *
 * @example
 * ```ts
 * const ref: ConnectionRef = { integration: 'github', connectionId: 'acme', orgId: 'org_acme' };
 * ```
 */
export interface ConnectionRef {
  readonly integration: string;
  readonly connectionId: string;
  readonly orgId: string;
}

/**
 * A usable credential for one connection. `Authorization: ${tokenType} ${accessToken}` is how `fetch`
 * sends it (`Bearer` for OAuth and API keys, `Basic` for username/password connections).
 *
 * @example
 * ```ts
 * const { accessToken, tokenType, expiresAt } = await integrations.getToken(ref);
 * ```
 */
export interface IntegrationToken {
  readonly accessToken: string;
  readonly tokenType: string;
  /** Null when the credential does not expire (API keys, Basic, non-expiring OAuth tokens). */
  readonly expiresAt: Date | null;
  readonly scopes: readonly string[];
}

/**
 * How a connection authenticates. `other`: a provider-specific kind (a Nango App connection);
 * `unknown`: not reported by the listing (Nango lists connections without their credentials).
 *
 * @example
 * ```ts
 * if (connection.authType === 'oauth2') scheduleReconnectReminder(connection);
 * ```
 */
export type ConnectionAuthType = 'oauth2' | 'api_key' | 'basic' | 'other' | 'unknown';

/**
 * A connection as callers see it: never a secret.
 *
 * @example
 * ```ts
 * const c = await integrations.getConnection(ref);
 * if (c.status === 'needs_reauth') showReconnectButton(c.integration);
 * ```
 */
export interface ConnectionInfo {
  readonly integration: string;
  readonly connectionId: string;
  readonly orgId: string | null;
  readonly status: 'active' | 'needs_reauth';
  readonly authType: ConnectionAuthType;
  readonly scopes: readonly string[];
  /** Expiry of the current access token, or null. */
  readonly expiresAt: Date | null;
  /** Non-secret data (account login, team id, Nango end user). */
  readonly metadata: Readonly<Record<string, unknown>>;
  readonly createdAt: Date | null;
  readonly updatedAt: Date | null;
  /** The adapter that holds the connection: `first-party` or `nango`. */
  readonly provider: string;
}

/**
 * Options of `getToken`.
 *
 * @example
 * ```ts
 * await integrations.getToken(ref, { forceRefresh: true }); // the API said 401: the token was revoked early
 * ```
 */
export interface GetTokenOptions {
  /** Refresh even when the cached token is not near expiry (still once for concurrent callers). */
  readonly forceRefresh?: boolean;
}

/**
 * A filter of `listConnections`; both fields optional.
 *
 * @example
 * ```ts
 * await integrations.listConnections({ orgId: 'org_acme', integration: 'github' });
 * ```
 */
export interface ConnectionFilter {
  readonly orgId?: string;
  readonly integration?: string;
}

/**
 * What every IntegrationPlane adapter implements; `createIntegrationPlane` adds the shared `fetch`.
 *
 * @example
 * ```ts
 * const adapter: IntegrationAdapter = createFirstPartyAdapter(config);
 * ```
 */
export interface IntegrationAdapter {
  readonly provider: string;
  getToken(ref: ConnectionRef, options?: GetTokenOptions): Promise<IntegrationToken>;
  getConnection(ref: ConnectionRef): Promise<ConnectionInfo>;
  listConnections(filter?: ConnectionFilter): Promise<ConnectionInfo[]>;
  /** False when there was nothing to delete in that org. */
  deleteConnection(ref: ConnectionRef): Promise<boolean>;
  /**
   * Optional: the adapter's own way to call the API (Nango's proxy, which injects the token itself).
   * Absent: the plane calls the API directly with the token from `getToken`.
   */
  proxy?(ref: ConnectionRef, url: string, init: RequestInit | undefined): Promise<Response>;
  close(): Promise<void>;
}

/**
 * Hands connector code a fresh token for a stored connection, refreshes it, and calls APIs with it.
 * Failures are `IntegrationError`s with a reason.
 *
 * @example
 * ```ts
 * const integrations = await createIntegrationPlane({ provider: 'first-party', store, encryption, integrations: { github } });
 * const res = await integrations.fetch({ integration: 'github', connectionId: 'acme', orgId: 'org_acme' }, 'https://api.github.com/user');
 * ```
 */
export interface IntegrationPlane {
  readonly provider: string;
  /** A token valid now (cached until shortly before expiry; one refresh however many callers wait). */
  getToken(ref: ConnectionRef, options?: GetTokenOptions): Promise<IntegrationToken>;
  getConnection(ref: ConnectionRef): Promise<ConnectionInfo>;
  listConnections(filter?: ConnectionFilter): Promise<ConnectionInfo[]>;
  deleteConnection(ref: ConnectionRef): Promise<boolean>;
  /**
   * `fetch` with the connection's token in `Authorization`, sent only to the integration's allowed
   * origins (its `apiBaseUrl` and the configured `allowedOrigins`): any other URL is refused with
   * `IntegrationError` `url_not_allowed` before a request is made, and a redirect to another origin is
   * followed without the token. On a 401 from an allowed origin it forces one refresh and retries once.
   * Caller-set `Authorization` is replaced. A streaming request body cannot be retried: pass a string,
   * bytes, `URLSearchParams` or `FormData`.
   */
  fetch(ref: ConnectionRef, url: string | URL, init?: RequestInit): Promise<Response>;
  close(): Promise<void>;
}
