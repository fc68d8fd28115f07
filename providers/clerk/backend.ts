import { type ClerkClient, createClerkClient } from '@clerk/backend';
import { AuthRejection } from '../../src/core/failure';
import { raceTimeout, withRetries } from '../shared/retry';
import { isRetryableClerkError, toClerkRejection } from './errors';

/**
 * A Clerk Backend API client for `apiUrl` with the SDK's telemetry off.
 *
 * `@clerk/backend` 3 has no `fetch` option: every request goes through its `runtime.fetch`, which is
 * `fetch.bind(globalThis)` captured when the SDK is imported. Its requests can therefore be routed only
 * through `apiUrl` (a proxy or a loopback fake), and they cannot be aborted: {@link callClerk} stops
 * waiting at the timeout while the request itself runs to its end.
 *
 * @example
 * ```ts
 * const clerk = clerkBackend({ secretKey, apiUrl: 'https://api.clerk.com' });
 * ```
 */
export function clerkBackend(options: {
  secretKey?: string;
  machineSecretKey?: string;
  apiUrl: string;
}): ClerkClient {
  return createClerkClient({
    secretKey: options.secretKey,
    ...(options.machineSecretKey ? { machineSecretKey: options.machineSecretKey } : {}),
    apiUrl: options.apiUrl,
    telemetry: { disabled: true },
  });
}

/**
 * Runs one Backend API call with bounded retries (429, 5xx, network) inside an overall timeout, and
 * maps every failure through `toClerkRejection`. `onStatus` decides statuses that are answers rather
 * than outages (404: unknown key, token or user).
 *
 * @example
 * ```ts
 * const key = await callClerk(() => clerk.apiKeys.verify(secret), { timeoutMs: 5000, maxRetries: 1 });
 * ```
 */
export async function callClerk<T>(
  run: () => Promise<T>,
  options: {
    timeoutMs: number;
    maxRetries: number;
    signal?: AbortSignal;
    onStatus?: (status: number | undefined, err: unknown) => T | undefined;
  },
): Promise<T> {
  const deadline = Date.now() + options.timeoutMs;
  const attempt = withRetries(run, {
    maxRetries: options.maxRetries,
    deadline,
    retryable: isRetryableClerkError,
  });
  try {
    return await raceTimeout(
      attempt,
      options.timeoutMs,
      () => new AuthRejection('provider_unavailable', 'Clerk did not answer in time'),
      options.signal,
    );
  } catch (err) {
    if (options.onStatus) {
      const status = (err as { status?: unknown } | null)?.status;
      const answer = options.onStatus(typeof status === 'number' ? status : undefined, err);
      if (answer !== undefined) return answer;
    }
    throw toClerkRejection(err);
  }
}
