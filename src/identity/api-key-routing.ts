import type { ApiKeys } from '../apikeys/keys';
import type { AdapterContext, IdentityAdapter } from './types';

// Which service refused a credential, when it was not the plane's own adapter: the plane names it as
// the failure's `provider`, so a bad API key is reported (and counted) as the key service's decision.
const deciders = new WeakMap<object, string>();

/**
 * The service that decided a failed verification, when it was not the plane's adapter (an API key
 * service behind `routeApiKeys`); undefined otherwise.
 *
 * @internal
 * @example
 * ```ts
 * catch (err) { return fail(err, traceId, keyServiceOf(err) ?? adapter.name); }
 * ```
 */
export function keyServiceOf(err: unknown): string | undefined {
  return err !== null && typeof err === 'object' ? deciders.get(err) : undefined;
}

/**
 * Records which service decided a failed verification, when it is not the plane's own adapter (a
 * migration plane names the side that refused), and rethrows the error.
 *
 * @internal
 * @example
 * ```ts
 * legacy.verify(token, context).catch((err) => rethrowDecidedBy(err, legacy.name));
 * ```
 */
export function rethrowDecidedBy(err: unknown, provider: string): never {
  if (err !== null && typeof err === 'object' && !deciders.has(err)) deciders.set(err, provider);
  throw err;
}

/**
 * Puts an API key service in front of a provider adapter: a credential the service `matches()` (the
 * authplane key shape, or a legacy key its `isLegacyKey` recognises) is verified by the service,
 * every other credential (JWTs, opaque tokens) by the adapter, unchanged. Routing is by format, never
 * "try one then the other", so a key is never sent to the identity provider and a JWT never reaches
 * the key store. The key service is not closed with the plane: its owner closes it (and its store).
 *
 * @example
 * ```ts
 * const plane = createPlane(routeApiKeys(await createOidcAdapter(config), keys));
 * ```
 */
export function routeApiKeys(adapter: IdentityAdapter, keys: ApiKeys): IdentityAdapter {
  const provider = keys.provider;
  const markKeyFailure = (err: unknown): never => {
    if (err !== null && typeof err === 'object') deciders.set(err, provider);
    throw err;
  };
  const routed: IdentityAdapter = {
    name: adapter.name,
    verify(token: string, context: AdapterContext) {
      if (keys.matches(token)) return keys.verifyPrincipal(token).catch(markKeyFailure);
      return adapter.verify(token, context);
    },
    ...(adapter.close ? { close: () => (adapter.close as () => Promise<void>)() } : {}),
  };
  return Object.freeze(routed);
}
