// The plane over one adapter: its operations, plus `fetch`, where every way a token leaves the process
// meets one origin check. The token goes only to the integration's allowed origins; redirects are
// followed here (not by the runtime) so that a hop to any other origin goes without it, and only a
// 401 from an allowed origin (which did receive the token) forces a refresh.
import { newTraceId } from '../core/trace';
import { IntegrationError } from './errors';
import type { OriginPolicy } from './origins';
import type {
  ConnectionFilter,
  ConnectionRef,
  GetTokenOptions,
  IntegrationAdapter,
  IntegrationPlane,
  IntegrationToken,
} from './types';

const MAX_REDIRECTS = 5;
const REDIRECTS = new Set([301, 302, 303, 307, 308]);

const canReplay = (body: RequestInit['body']): boolean =>
  body === undefined || body === null || !(body instanceof ReadableStream);

/** A relative endpoint for an adapter proxy (Nango resolves it against the provider's own base URL). */
const isProxyPath = (value: string) =>
  value.startsWith('/') && !value.startsWith('//') && !value.includes('\\');

interface Sent {
  readonly response: Response;
  /** Whether the response came from an origin that received the token. */
  readonly withToken: boolean;
}

/**
 * The plane over one adapter: its operations plus `fetch` with the allowed-origin rule and the
 * one-retry-on-401 rule.
 *
 * @internal
 * @example
 * ```ts
 * const plane = planeOver(adapter, { fetch: globalThis.fetch, fetchTimeoutMs: 30_000, origins });
 * ```
 */
export function planeOver(
  adapter: IntegrationAdapter,
  settings: { readonly fetch: typeof fetch; readonly fetchTimeoutMs: number; readonly origins: OriginPolicy },
): IntegrationPlane {
  const { origins, fetchTimeoutMs } = settings;
  const fetchImpl = settings.fetch;
  const withSignal = (init: RequestInit | undefined): RequestInit => {
    const timeout = AbortSignal.timeout(fetchTimeoutMs);
    return { ...init, signal: init?.signal ? AbortSignal.any([init.signal, timeout]) : timeout };
  };

  /** One request, following redirects itself; the token rides only to allowed origins. */
  const send = async (
    ref: ConnectionRef,
    first: URL,
    init: RequestInit | undefined,
    token: IntegrationToken,
  ): Promise<Sent> => {
    const follow = init?.redirect === undefined || init.redirect === 'follow';
    let url = first;
    let method = (init?.method ?? 'GET').toUpperCase();
    let body = init?.body;
    for (let hop = 0; ; hop++) {
      const withToken = origins.allows(ref.integration, url);
      const headers = new Headers(init?.headers);
      headers.delete('authorization');
      if (withToken) headers.set('authorization', `${token.tokenType} ${token.accessToken}`);
      const response = await fetchImpl(
        url,
        withSignal({
          ...init,
          method,
          headers,
          body: body ?? null,
          ...(follow ? { redirect: 'manual' as const } : {}),
        }),
      );
      const location = response.headers.get('location');
      if (!follow || !REDIRECTS.has(response.status) || location === null) return { response, withToken };
      const next = URL.canParse(location, url) ? new URL(location, url) : null;
      if (!next || (next.protocol !== 'https:' && next.protocol !== 'http:')) return { response, withToken };
      if (hop >= MAX_REDIRECTS) {
        await response.body?.cancel();
        throw new IntegrationError('provider_unavailable', `Too many redirects from ${first.origin}`);
      }
      if (
        response.status === 303 ||
        ((response.status === 301 || response.status === 302) && method === 'POST')
      ) {
        if (method !== 'HEAD') method = 'GET';
        body = undefined;
      } else if (!canReplay(body)) {
        return { response, withToken };
      }
      await response.body?.cancel();
      url = next;
    }
  };

  return {
    provider: adapter.provider,
    getToken: (ref: ConnectionRef, options?: GetTokenOptions) => adapter.getToken(ref, options),
    getConnection: (ref: ConnectionRef) => adapter.getConnection(ref),
    listConnections: (filter?: ConnectionFilter) => adapter.listConnections(filter),
    deleteConnection: (ref: ConnectionRef) => adapter.deleteConnection(ref),
    async fetch(ref: ConnectionRef, url: string | URL, init?: RequestInit): Promise<Response> {
      const traceId = newTraceId();
      const integration = typeof ref?.integration === 'string' ? ref.integration : '';
      if (adapter.proxy) {
        // The proxy injects the token itself: the same origin rule holds before it is asked to.
        const text = String(url);
        if (!isProxyPath(text)) origins.check(integration, text, traceId);
        const proxy = adapter.proxy.bind(adapter);
        const first = await proxy(ref, text, withSignal(init));
        if (first.status !== 401 || !canReplay(init?.body)) return first;
        await first.body?.cancel();
        await adapter.getToken(ref, { forceRefresh: true });
        return proxy(ref, text, withSignal(init));
      }
      // Checked before the token is even looked up: a refused URL causes no request at all.
      const target = origins.check(integration, url, traceId);
      const first = await send(ref, target, init, await adapter.getToken(ref));
      if (first.response.status !== 401 || !first.withToken || !canReplay(init?.body)) return first.response;
      await first.response.body?.cancel();
      // The API refused a token we believed valid (revoked early, rotated elsewhere): refresh once, retry once.
      const retried = await send(ref, target, init, await adapter.getToken(ref, { forceRefresh: true }));
      return retried.response;
    },
    close: () => adapter.close(),
  };
}
