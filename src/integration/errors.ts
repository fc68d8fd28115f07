import { AuthplaneError } from '../core/errors';
import { newTraceId } from '../core/trace';

/**
 * Why an IntegrationPlane call failed. A closed set: code and dashboards key on these strings.
 * - `connection_not_found`: no such connection (or it belongs to another org than the caller's).
 * - `connection_needs_reauth`: the grant is gone (refresh refused with `invalid_grant`); reconnect.
 * - `integration_unknown`: the integration is not configured.
 * - `provider_unavailable`: the token endpoint or the provider (Nango) failed, hung or answered garbage.
 * - `state_invalid`: a connect callback whose state is unknown, expired, replayed or for another redirect.
 * - `connect_failed`: the authorization server refused the grant (`error=access_denied`, bad code).
 * - `url_not_allowed`: `fetch` was asked to send the token to an origin the integration does not allow.
 * - `connection_unbound`: the provider's connection (Nango) carries no org binding, so no org owns it.
 *
 * @example
 * ```ts
 * INTEGRATION_REASONS.includes('connection_needs_reauth'); // true
 * ```
 */
export const INTEGRATION_REASONS = Object.freeze([
  'connection_not_found',
  'connection_needs_reauth',
  'integration_unknown',
  'provider_unavailable',
  'state_invalid',
  'connect_failed',
  'url_not_allowed',
  'connection_unbound',
] as const);

/**
 * One of {@link INTEGRATION_REASONS}.
 *
 * @example
 * ```ts
 * const reason: IntegrationReason = 'provider_unavailable';
 * ```
 */
export type IntegrationReason = (typeof INTEGRATION_REASONS)[number];

const DEFAULT_MESSAGES: Readonly<Record<IntegrationReason, string>> = Object.freeze({
  connection_not_found: 'The connection does not exist',
  connection_needs_reauth: 'The connection must be authorized again',
  integration_unknown: 'The integration is not configured',
  provider_unavailable: 'The integration provider is unavailable',
  state_invalid: 'The connect state is unknown, expired or already used',
  connect_failed: 'The authorization server refused the connection',
  url_not_allowed: 'The URL is not an allowed origin of the integration; the token was not sent',
  connection_unbound: 'The connection is not bound to any org',
});

/**
 * A reason-coded IntegrationPlane failure. The message is safe to log: it names the integration and
 * connection at most, never a token, refresh token, client secret or key. `traceId` ties it to logs;
 * the lower-level error (fetch failure, AxiosError) stays as `cause` for operators.
 *
 * @example
 * ```ts
 * try { await integrations.getToken(ref); }
 * catch (e) { if (e instanceof IntegrationError && e.reason === 'connection_needs_reauth') askUserToReconnect(); }
 * ```
 */
export class IntegrationError extends AuthplaneError {
  readonly reason: IntegrationReason;
  readonly traceId: string;
  /** For `provider_unavailable`: seconds to wait before retrying, when the provider said so. */
  readonly retryAfterSec: number | undefined;
  constructor(
    reason: IntegrationReason,
    message: string = DEFAULT_MESSAGES[reason],
    options: { cause?: unknown; traceId?: string; retryAfterSec?: number } = {},
  ) {
    super(reason, message, { cause: options.cause });
    this.reason = reason;
    this.traceId = options.traceId ?? newTraceId();
    this.retryAfterSec = options.retryAfterSec;
  }
}

/**
 * Stored credentials that cannot be decrypted: the key id is not in the keyring, or the ciphertext or
 * key is wrong (authentication failed). A configuration or data problem, not a user-facing reason.
 *
 * @example
 * ```ts
 * catch (e) { if (e instanceof DecryptionError) console.error(e.keyId, e.message); }
 * ```
 */
export class DecryptionError extends AuthplaneError {
  /** The key id stored beside the ciphertext, when it could be read. */
  readonly keyId: string | null;
  constructor(message: string, keyId: string | null, options?: { cause?: unknown }) {
    super('credentials_undecryptable', message, options);
    this.keyId = keyId;
  }
}
