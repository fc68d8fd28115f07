import * as oidc from 'openid-client';
import { createServerConfiguration } from './discovery';
import { toAuthRejection } from './errors';
import { assertSecureUrl } from './urls';

/**
 * Options of `revokeToken`.
 *
 * @example
 * ```ts
 * const options: RevokeTokenOptions = { issuer, clientId, clientSecret, token: refreshToken, tokenTypeHint: 'refresh_token' };
 * ```
 */
export interface RevokeTokenOptions {
  readonly issuer: string;
  readonly clientId: string;
  /** Omit for a public client (authentication method `none`). */
  readonly clientSecret?: string;
  readonly token: string;
  readonly tokenTypeHint?: 'access_token' | 'refresh_token';
  /** Skips discovery when given. */
  readonly revocationEndpoint?: string;
  readonly fetch?: typeof fetch;
  /** Default 5000. */
  readonly timeoutMs?: number;
  /** http only for loopback issuers (development). Default false. */
  readonly allowInsecureRequests?: boolean;
  readonly signal?: AbortSignal;
}

/**
 * Revokes a token at the issuer (RFC 7009) through openid-client `tokenRevocation`, with
 * `client_secret_basic` (or `none` for a public client). Resolves when the issuer accepted the
 * request (RFC 7009 answers 200 even for an unknown token). Failures reject with an
 * `AuthRejection('provider_unavailable')` whose `cause` is the original error; no message contains
 * the token or the secret.
 *
 * @throws ConfigError for an insecure issuer or endpoint URL.
 * @example
 * ```ts
 * import { revokeToken } from 'authplane/oidc';
 * await revokeToken({ issuer, clientId, clientSecret, token, tokenTypeHint: 'access_token' });
 * ```
 */
export async function revokeToken(options: RevokeTokenOptions): Promise<void> {
  const allowInsecure = options.allowInsecureRequests ?? false;
  assertSecureUrl('issuer', options.issuer, allowInsecure);
  if (options.revocationEndpoint)
    assertSecureUrl('revocationEndpoint', options.revocationEndpoint, allowInsecure);
  try {
    const configuration = await createServerConfiguration(
      {
        issuer: options.issuer,
        client: { clientId: options.clientId, clientSecret: options.clientSecret },
        metadata: options.revocationEndpoint ? { revocation_endpoint: options.revocationEndpoint } : {},
        timeoutMs: options.timeoutMs ?? 5000,
        allowInsecureRequests: allowInsecure,
        fetch: options.fetch,
        signal: options.signal,
      },
      options.revocationEndpoint === undefined,
    );
    const endpoint = configuration.serverMetadata().revocation_endpoint;
    if (typeof endpoint === 'string') assertSecureUrl('revocation_endpoint', endpoint, allowInsecure);
    await oidc.tokenRevocation(
      configuration,
      options.token,
      options.tokenTypeHint ? { token_type_hint: options.tokenTypeHint } : undefined,
    );
  } catch (err) {
    throw toAuthRejection(err);
  }
}
