import * as oidc from 'openid-client';
import { AuthRejection } from '../../src/core/failure';
import { assertSecureUrl } from './urls';

/** Minimum milliseconds between two discovery attempts after a failure. */
export const DISCOVERY_RETRY_MS = 1000;

/**
 * How to reach the issuer: its identifier, the client used for introspection/revocation (if any),
 * and the HTTP seams.
 *
 * @example
 * ```ts
 * const options: ServerOptions = { issuer: 'https://id.example', timeoutMs: 5000, allowInsecureRequests: false };
 * ```
 */
export interface ServerOptions {
  readonly issuer: string;
  readonly client?: { readonly clientId: string; readonly clientSecret?: string };
  /** Known endpoints; when every needed one is known, no discovery request is made. */
  readonly metadata?: Partial<oidc.ServerMetadata>;
  readonly timeoutMs: number;
  readonly allowInsecureRequests: boolean;
  readonly fetch?: typeof fetch;
  /** Aborts every request made through the resulting configuration (adapter shutdown). */
  readonly signal?: AbortSignal;
}

/** Client id used for discovery when no client is configured (discovery needs one, never sends it). */
const RESOURCE_SERVER_CLIENT_ID = 'authplane-resource-server';

/**
 * Builds the openid-client `Configuration` for an issuer, by OIDC discovery (RFC 8414 / OIDC
 * Discovery 1.0; openid-client checks that the document's `issuer` is exactly ours), or directly
 * from `metadata` when `discover` is false. Client authentication is `client_secret_basic`, which
 * RFC 6749 §2.3.1 requires every server to support. Every request goes through `options.fetch`
 * with the timeout, and http is allowed only for loopback issuers with `allowInsecureRequests`.
 *
 * @example
 * ```ts
 * const config = await createServerConfiguration({ issuer, timeoutMs: 5000, allowInsecureRequests: false }, true);
 * config.serverMetadata().jwks_uri;
 * ```
 */
export async function createServerConfiguration(
  options: ServerOptions,
  discover: boolean,
): Promise<oidc.Configuration> {
  const clientId = options.client?.clientId ?? RESOURCE_SERVER_CLIENT_ID;
  const secret = options.client?.clientSecret;
  const auth = secret !== undefined ? oidc.ClientSecretBasic(secret) : oidc.None();
  const customFetch = makeFetch(options);
  // openid-client refuses http unless told; only ever tell it for a loopback dev issuer.
  const insecure = options.allowInsecureRequests && isHttp(options.issuer);
  if (insecure) assertSecureUrl('issuer', options.issuer, true);
  let configuration: oidc.Configuration;
  if (discover) {
    configuration = await oidc.discovery(new URL(options.issuer), clientId, undefined, auth, {
      [oidc.customFetch]: customFetch,
      timeout: options.timeoutMs / 1000,
      ...(insecure ? { execute: [oidc.allowInsecureRequests] } : {}),
    });
    // A configured endpoint (e.g. introspection_endpoint) takes effect even when the rest is discovered.
    if (options.metadata && Object.keys(options.metadata).length > 0) {
      configuration = configure(
        {
          ...(configuration.serverMetadata() as oidc.ServerMetadata),
          ...options.metadata,
          issuer: options.issuer,
        },
        clientId,
        auth,
        customFetch,
        options.timeoutMs,
        insecure,
      );
    }
  } else {
    configuration = configure(
      { ...options.metadata, issuer: options.issuer },
      clientId,
      auth,
      customFetch,
      options.timeoutMs,
      insecure,
    );
  }
  return configuration;
}

function configure(
  metadata: oidc.ServerMetadata,
  clientId: string,
  auth: oidc.ClientAuth,
  customFetch: oidc.CustomFetch,
  timeoutMs: number,
  insecure: boolean | undefined,
): oidc.Configuration {
  const configuration = new oidc.Configuration(metadata, clientId, undefined, auth);
  configuration[oidc.customFetch] = customFetch;
  configuration.timeout = timeoutMs / 1000;
  if (insecure) oidc.allowInsecureRequests(configuration);
  return configuration;
}

function isHttp(url: string): boolean {
  return url.startsWith('http:');
}

function makeFetch(options: ServerOptions): oidc.CustomFetch {
  const doFetch = options.fetch ?? fetch;
  const stop = options.signal;
  return (url, init) => {
    const signal = stop && init.signal ? AbortSignal.any([init.signal, stop]) : (init.signal ?? stop);
    return doFetch(url, { ...init, signal } as RequestInit);
  };
}

/**
 * A value obtained over the network once, on demand: one attempt in flight however many callers
 * wait, a failure remembered for `DISCOVERY_RETRY_MS` (callers fail fast with
 * `provider_unavailable` instead of queueing behind a dead issuer), then retried on the next call.
 *
 * @example
 * ```ts
 * const server = new Lazy(() => createServerConfiguration(options, true));
 * const config = await server.get();
 * ```
 */
export class Lazy<T> {
  #value: T | undefined;
  #pending: Promise<T> | null = null;
  #failedAt = Number.NEGATIVE_INFINITY;
  #lastError: unknown;
  readonly #load: () => Promise<T>;
  readonly #clock: () => number;

  constructor(load: () => Promise<T>, clock: () => number = Date.now) {
    this.#load = load;
    this.#clock = clock;
  }

  /** The value if it is already there (synchronous hot path). */
  get current(): T | undefined {
    return this.#value;
  }

  /** Resolves the value, loading it if needed; rejects with the load error (or a retry-later rejection). */
  get(): Promise<T> {
    if (this.#value !== undefined) return Promise.resolve(this.#value);
    if (this.#pending) return this.#pending;
    if (this.#clock() - this.#failedAt < DISCOVERY_RETRY_MS) {
      return Promise.reject(
        new AuthRejection('provider_unavailable', 'The identity provider is temporarily unavailable', {
          cause: this.#lastError,
          retryAfterSec: 1,
        }),
      );
    }
    const pending = this.#load().then(
      (value) => {
        this.#value = value;
        this.#pending = null;
        return value;
      },
      (err: unknown) => {
        this.#failedAt = this.#clock();
        this.#lastError = err;
        this.#pending = null;
        throw err;
      },
    );
    this.#pending = pending;
    return pending;
  }
}
