/**
 * What a session holds: the tokens and who they belong to. Only the token manager and a storage read
 * it; callers get a token through `getAccessToken()`.
 *
 * @example
 * ```ts
 * await storage.write({ version: 1, issuer, clientId, accessToken, tokenType: 'bearer', expiresAt, obtainedAt, user: { subject: 'alice' } });
 * ```
 */
export interface StoredSession {
  readonly version: 1;
  /** The issuer and client the tokens were obtained from; a session for another pair is not used. */
  readonly issuer: string;
  readonly clientId: string;
  readonly accessToken: string;
  readonly tokenType: string;
  /** Access-token expiry, epoch seconds (from `expires_in`, by the manager's clock). */
  readonly expiresAt: number;
  /** When these tokens were obtained, epoch seconds. */
  readonly obtainedAt: number;
  readonly refreshToken?: string;
  readonly scope?: string;
  /** Shown by `status`; decoded from the ID token (validated) or the access token (not verified here). */
  readonly user: SessionUser;
}

/**
 * Who a session belongs to, for display. Never used for authorization: the API verifies the token.
 *
 * @example
 * ```ts
 * const { subject, email, orgId } = (await tokens.status()).user ?? {};
 * ```
 */
export interface SessionUser {
  readonly subject: string;
  readonly email?: string;
  readonly name?: string;
  readonly orgId?: string;
}

/**
 * Where sessions live. `createEncryptedFileStorage` (one encrypted file, locked across processes) and
 * `createMemoryStorage` (tests, embedding) implement it; so can a custom one.
 *
 * @example
 * ```ts
 * const storage: SessionStorage = createEncryptedFileStorage({ path: '/home/me/.config/mycli/session' });
 * const tokens = createTokenManager({ issuer, clientId, storage });
 * ```
 */
export interface SessionStorage {
  /** Shown by `status` (a file path, or `memory`). */
  readonly location: string;
  /** The stored session, or null when there is none. Throws `ClientError('session_corrupt')`. */
  read(): Promise<StoredSession | null>;
  /** Replaces the stored session atomically: a reader sees the old or the new one, never a mix. */
  write(session: StoredSession): Promise<void>;
  /** Deletes the stored session; no error when there is none. */
  clear(): Promise<void>;
  /**
   * Runs `fn` while holding an exclusive lock on this session, across processes where the storage
   * is shared between them. The token manager refreshes, logs in and logs out only inside it.
   */
  withLock<T>(fn: () => Promise<T>): Promise<T>;
}
