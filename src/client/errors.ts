import { AuthplaneError } from '../core/errors';

/**
 * Why a token-manager operation failed. A closed set: scripts and tests key on these strings.
 *
 * - `not_logged_in`: no session (never logged in, logged out, expired without a refresh token).
 * - `session_invalidated`: the issuer refused the refresh token (revoked, expired, reuse detected);
 *   the local session was deleted and `onSessionEnded` fired.
 * - `login_failed`: the login ended without tokens (denied, state or issuer mismatch, bad response).
 * - `login_timeout`: nobody completed the login in time (browser timeout, device code expired).
 * - `session_corrupt`: the session file cannot be read or decrypted; `authplane login --force` fixes it.
 * - `provider_unavailable`: the issuer could not be reached or answered with a server error.
 * - `session_locked`: another process held the session lock for too long.
 * - `session_insecure`: the session directory, key file, session file or lock is a symbolic link, is
 *   not owned by the current user, or is writable by group or others (as ssh refuses for ~/.ssh).
 *
 * @example
 * ```ts
 * const code: ClientErrorCode = 'session_invalidated';
 * ```
 */
export type ClientErrorCode =
  | 'not_logged_in'
  | 'session_invalidated'
  | 'login_failed'
  | 'login_timeout'
  | 'session_corrupt'
  | 'provider_unavailable'
  | 'session_locked'
  | 'session_insecure';

/**
 * Every `ClientErrorCode`, in documentation order.
 *
 * @example
 * ```ts
 * CLIENT_ERROR_CODES.includes('login_failed'); // true
 * ```
 */
export const CLIENT_ERROR_CODES: readonly ClientErrorCode[] = Object.freeze([
  'not_logged_in',
  'session_invalidated',
  'login_failed',
  'login_timeout',
  'session_corrupt',
  'provider_unavailable',
  'session_locked',
  'session_insecure',
]);

/**
 * An error of the CLI token manager or its session storage. Messages never contain a token, a
 * refresh token or a key; the lower-level error is kept as `cause`.
 *
 * @example
 * ```ts
 * try { await tokens.getAccessToken(); }
 * catch (e) { if (e instanceof ClientError && e.code === 'session_invalidated') console.error('log in again'); }
 * ```
 */
export class ClientError extends AuthplaneError {
  declare readonly code: ClientErrorCode;
  constructor(code: ClientErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}

/**
 * Whether a value is a `ClientError`, optionally with one given code.
 *
 * @example
 * ```ts
 * if (isClientError(err, 'not_logged_in')) process.exitCode = 3;
 * ```
 */
export function isClientError(value: unknown, code?: ClientErrorCode): value is ClientError {
  return value instanceof ClientError && (code === undefined || value.code === code);
}
