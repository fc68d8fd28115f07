// The first-party adapter's public shapes: its settings, the connect flow's options and results.
import type { ConnectionStore } from '../../stores/contracts';
import type { ResolvedIntegration } from '../catalog';
import type { Keyring } from '../crypto';
import type { RefreshLock } from '../locks';
import type { ConnectionInfo, IntegrationAdapter } from '../types';

/**
 * Settings of the first-party adapter, already validated by `createIntegrationPlane`.
 *
 * @example
 * ```ts
 * const adapter = createFirstPartyAdapter({ store, keyring, catalog, lock: createMemoryRefreshLock(), … });
 * ```
 */
export interface FirstPartyOptions {
  readonly store: ConnectionStore;
  readonly keyring: Keyring;
  readonly catalog: ReadonlyMap<string, ResolvedIntegration>;
  readonly lock: RefreshLock;
  /** Refresh this long before expiry. */
  readonly refreshSkewMs: number;
  /** Bound of every token-endpoint request. */
  readonly timeoutMs: number;
  /** Longest wait for another instance's refresh of the same connection. */
  readonly lockWaitMs: number;
  readonly stateTtlMs: number;
  readonly cacheMaxEntries: number;
  readonly fetch: typeof globalThis.fetch;
  readonly clock: () => number;
}

/**
 * Starts a connect flow.
 *
 * @example
 * ```ts
 * const { url } = await integrations.connect.start({ integration: 'github', orgId: 'org_acme', userId: 'usr_1',
 *   redirectUri: 'https://app.example/integrations/callback' });
 * ```
 */
export interface ConnectStartOptions {
  readonly integration: string;
  readonly orgId: string;
  readonly userId: string;
  readonly redirectUri: string;
  /** Default: the org id (one connection per org and integration). */
  readonly connectionId?: string;
  /** Default: the catalog's default scopes. */
  readonly scopes?: readonly string[];
}

/**
 * The redirect to send the user to, and the state it carries (also kept server-side, single-use).
 *
 * @example
 * ```ts
 * return Response.redirect(started.url, 302);
 * ```
 */
export interface ConnectStart {
  readonly url: string;
  readonly state: string;
  readonly expiresAt: Date;
}

/**
 * Who is finishing the flow: the org and user of the session the callback arrived in. Both are
 * required and must be the ones that started the flow (the state carries them), so a callback carried
 * into another session (login CSRF, a link sent to a victim) is refused.
 *
 * @example
 * ```ts
 * await integrations.connect.finish(request.url, { orgId: session.orgId, userId: session.userId });
 * ```
 */
export interface ConnectFinishOptions {
  readonly orgId: string;
  readonly userId: string;
}

/**
 * A static credential connection (a Jira API token over Basic, an API key).
 *
 * @example
 * ```ts
 * await integrations.connect.saveCredentials({ integration: 'jira', orgId: 'org_acme', connectionId: 'acme-jira',
 *   credentials: { type: 'basic', username: 'bot@acme.test', password: process.env.JIRA_API_TOKEN! } });
 * ```
 */
export interface SaveCredentialsOptions {
  readonly integration: string;
  readonly orgId: string;
  readonly connectionId: string;
  readonly credentials:
    | { readonly type: 'api_key'; readonly apiKey: string; readonly tokenType?: string }
    | { readonly type: 'basic'; readonly username: string; readonly password: string };
  readonly metadata?: Readonly<Record<string, unknown>>;
  readonly userId?: string;
}

/**
 * The first-party connect flow: OAuth authorization code with PKCE (S256), or static credentials.
 * Every connection it writes belongs to the org given at `start` (or to `saveCredentials`): the same
 * connection id in another org is another connection.
 *
 * @example
 * ```ts
 * const { url } = await integrations.connect.start({ integration: 'slack', orgId, userId, redirectUri });
 * // … the user approves; the integration redirects to redirectUri?code=…&state=…
 * const connection = await integrations.connect.finish(callbackUrl, { orgId, userId });
 * ```
 */
export interface ConnectApi {
  start(options: ConnectStartOptions): Promise<ConnectStart>;
  /**
   * Consumes the state (single-use, across instances), checks that the caller's org and user are the
   * ones that started the flow, exchanges the code and stores the connection under that org.
   *
   * @throws TypeError when `expected` lacks `orgId` or `userId` (the check cannot be skipped).
   * @throws IntegrationError `state_invalid` (unknown, expired, replayed, other redirect, other org or
   * user), `connect_failed` (the user or server refused), `provider_unavailable`.
   */
  finish(callbackUrl: string | URL, expected: ConnectFinishOptions): Promise<ConnectionInfo>;
  saveCredentials(options: SaveCredentialsOptions): Promise<ConnectionInfo>;
}

/**
 * The first-party adapter: the IntegrationPlane operations plus the connect flow and key rotation.
 *
 * @example
 * ```ts
 * const adapter = createFirstPartyAdapter(options);
 * await adapter.resealAll(); // after adding a new current key
 * ```
 */
export interface FirstPartyAdapter extends IntegrationAdapter {
  readonly connect: ConnectApi;
  /**
   * Re-encrypts every connection sealed with a key other than the current one, or in the older `v1`
   * format (compare-and-set, so a concurrent refresh always wins). Returns how many were rewritten;
   * afterwards old keys can be removed.
   */
  resealAll(): Promise<number>;
}
