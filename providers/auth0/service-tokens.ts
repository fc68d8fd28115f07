import type { TokenProvider } from 'auth0';
import { ConfigError } from '../../src/core/errors';
import { withRetries } from '../shared/retry';
import { isRetryableAuth0Error, retryAfterMs, toAuth0Rejection } from './errors';
import { createSdkFetch } from './http';
import { auth0 } from './sdk';

/**
 * Options of {@link createAuth0ServiceTokens}.
 *
 * @example
 * ```ts
 * const options: Auth0ServiceTokenOptions = { domain: 'acme.eu.auth0.com', clientId, clientSecret, audience: 'https://api.acme.test' };
 * ```
 */
export interface Auth0ServiceTokenOptions {
  /** The tenant domain (bare host name). */
  readonly domain: string;
  readonly clientId: string;
  readonly clientSecret: string;
  /** The API identifier the tokens are for. */
  readonly audience: string;
  /** Seam for every request (proxies, tests). */
  readonly fetch?: typeof fetch;
  /** Timeout of each token request. Default 5000. */
  readonly timeoutMs?: number;
  /** Retries on 429/5xx/network. Default 1. */
  readonly maxRetries?: number;
}

/**
 * Client-credentials access tokens for one API.
 *
 * @example
 * ```ts
 * const token = await tokens.getAccessToken();
 * await fetch(url, { headers: { authorization: `Bearer ${token}` } });
 * ```
 */
export interface Auth0ServiceTokens {
  /** A valid token: from cache until 10 s before expiry, else one token request however many callers wait. */
  getAccessToken(): Promise<string>;
}

/**
 * Machine-to-machine tokens for a service account through the auth0 SDK's `TokenProvider`
 * (`POST https://<domain>/oauth/token`, `grant_type=client_credentials`). The SDK caches the token until
 * 10 s before its expiry and shares one request in flight; this wrapper routes it through `fetch` with
 * our timeout, retries outages a bounded number of times, and maps failures to an `AuthRejection`
 * (`provider_unavailable`; messages never contain the secret or the token).
 *
 * @throws ConfigError for a missing field.
 * @example
 * ```ts
 * import { createAuth0ServiceTokens } from 'authplane/auth0';
 * const tokens = createAuth0ServiceTokens({ domain: 'acme.eu.auth0.com', clientId, clientSecret, audience: 'https://api.acme.test' });
 * const accessToken = await tokens.getAccessToken();
 * ```
 */
export function createAuth0ServiceTokens(options: Auth0ServiceTokenOptions): Auth0ServiceTokens {
  for (const field of ['domain', 'clientId', 'clientSecret', 'audience'] as const) {
    if (typeof options[field] !== 'string' || options[field].length === 0)
      throw new ConfigError(field, 'is required');
  }
  const timeoutMs = options.timeoutMs ?? 5000;
  const maxRetries = options.maxRetries ?? 1;
  let provider: TokenProvider;
  try {
    provider = new auth0.TokenProvider({
      domain: options.domain,
      clientId: options.clientId,
      clientSecret: options.clientSecret,
      audience: options.audience,
      fetch: createSdkFetch({ fetch: options.fetch, timeoutMs }),
      telemetry: false,
    });
  } catch (cause) {
    throw new ConfigError('domain', 'must be a bare host name such as tenant.eu.auth0.com', { cause });
  }
  return Object.freeze({
    async getAccessToken(): Promise<string> {
      const deadline = Date.now() + timeoutMs;
      try {
        return await withRetries(() => provider.getAccessToken(), {
          maxRetries,
          deadline,
          retryable: isRetryableAuth0Error,
          retryAfterMs,
        });
      } catch (err) {
        throw toAuth0Rejection(err);
      }
    },
  });
}
