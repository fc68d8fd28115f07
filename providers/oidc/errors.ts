import { ClientError, ResponseBodyError, WWWAuthenticateChallengeError } from 'openid-client';
import { ConfigError } from '../../src/core/errors';
import { AuthRejection } from '../../src/core/failure';
import { JwksFetchError } from '../../src/jwt/jwks-fetch';

/**
 * The one place where every lower-level error of the OIDC adapter becomes a reason. An
 * `AuthRejection` passes through; everything else (JWKS fetch failures, openid-client errors,
 * HTTP 5xx, timeouts, aborts, network errors, a misconfigured client) means the issuer could not
 * give an answer, so it is `provider_unavailable` (503): the client keeps its credential and retries.
 * The original error is kept as `cause`; messages are fixed strings, never the token or a secret.
 *
 * @example
 * ```ts
 * try { await tokenIntrospection(config, token); } catch (err) { throw toAuthRejection(err); }
 * ```
 */
export function toAuthRejection(err: unknown): AuthRejection {
  if (err instanceof AuthRejection) return err;
  return new AuthRejection('provider_unavailable', unavailableMessage(err), { cause: err });
}

function unavailableMessage(err: unknown): string {
  if (err instanceof JwksFetchError) {
    switch (err.kind) {
      case 'timeout':
        return 'The identity provider did not answer in time';
      case 'aborted':
        return 'The verification was aborted';
      case 'network':
        return 'The identity provider is unreachable';
      default:
        return 'The identity provider returned an unusable key set';
    }
  }
  if (err instanceof ConfigError) return 'The identity provider configuration is invalid';
  if (err instanceof ResponseBodyError || err instanceof WWWAuthenticateChallengeError) {
    const status = err.status;
    if (status === 401 || status === 403) return 'The identity provider refused the client credentials';
    if (status >= 500) return 'The identity provider answered with a server error';
    return 'The identity provider rejected the request';
  }
  const name = (err as { name?: unknown } | null)?.name;
  const code = (err as { code?: unknown } | null)?.code;
  if (code === 'OAUTH_TIMEOUT' || name === 'TimeoutError')
    return 'The identity provider did not answer in time';
  if (code === 'OAUTH_ABORT' || name === 'AbortError') return 'The verification was aborted';
  if (err instanceof ClientError) return 'The identity provider returned an unusable response';
  if (err instanceof TypeError) return 'The identity provider is unreachable';
  return 'The identity provider is temporarily unavailable';
}
