// Which origins may receive a connection's token. A token is a bearer credential: sent to any other
// host it is handed over. Origins are compared exactly (scheme, host and port), after URL parsing, so
// `https://api.github.com@evil.test/` or `http://api.github.com` never pass for `https://api.github.com`.
import { BUILTIN_INTEGRATIONS } from './catalog';
import { IntegrationError } from './errors';

/**
 * The allowed origins of every integration of one plane.
 *
 * @example
 * ```ts
 * const policy = createOriginPolicy({ github: ['https://api.github.com'] });
 * policy.allows('github', new URL('https://api.github.com/user')); // true
 * ```
 */
export interface OriginPolicy {
  allows(integration: string, url: URL): boolean;
  /**
   * The parsed URL when the integration allows it.
   *
   * @throws IntegrationError `url_not_allowed` (the message names the origin, never a token).
   */
  check(integration: string, url: string | URL, traceId?: string): URL;
}

/**
 * The origin of a configured URL (`https://slack.com/api` -> `https://slack.com`), or null when it is
 * not an http(s) URL.
 *
 * @example
 * ```ts
 * originOf('https://api.github.com/'); // 'https://api.github.com'
 * ```
 */
export function originOf(value: string): string | null {
  if (!URL.canParse(value)) return null;
  const url = new URL(value);
  return url.protocol === 'https:' || url.protocol === 'http:' ? url.origin : null;
}

/**
 * Builds the policy from per-integration lists of URLs (each reduced to its origin).
 *
 * @example
 * ```ts
 * const policy = createOriginPolicy({ jira: ['https://api.atlassian.com', 'https://acme.atlassian.net'] });
 * ```
 */
export function createOriginPolicy(allowed: Readonly<Record<string, readonly string[]>>): OriginPolicy {
  const byIntegration = new Map<string, ReadonlySet<string>>();
  for (const [integration, urls] of Object.entries(allowed)) {
    const origins = new Set<string>();
    for (const u of urls) {
      const origin = originOf(u);
      if (origin) origins.add(origin);
    }
    byIntegration.set(integration, origins);
  }
  const allows = (integration: string, url: URL) => byIntegration.get(integration)?.has(url.origin) === true;
  return Object.freeze({
    allows,
    check(integration: string, value: string | URL, traceId?: string): URL {
      const text = String(value);
      const url = URL.canParse(text) ? new URL(text) : null;
      if (url && allows(integration, url)) return url;
      const shown = url ? url.origin : 'a relative or malformed URL';
      throw new IntegrationError(
        'url_not_allowed',
        `The integration "${integration.slice(0, 64)}" does not allow ${shown.slice(0, 200)}; the token was not sent (add the origin to allowedOrigins.${integration.slice(0, 64)})`,
        traceId ? { traceId } : {},
      );
    },
  });
}

/**
 * Merges the allow-list of the configuration with each integration's own API base URL.
 *
 * @example
 * ```ts
 * mergeOrigins({ github: ['https://uploads.github.com'] }, { github: 'https://api.github.com' });
 * ```
 */
export function mergeOrigins(
  configured: Readonly<Record<string, readonly string[]>> | undefined,
  apiBaseUrls: Readonly<Record<string, string | null>>,
): Record<string, string[]> {
  const merged: Record<string, string[]> = {};
  for (const [integration, base] of Object.entries(apiBaseUrls)) {
    if (base) merged[integration] = [base];
  }
  for (const [integration, urls] of Object.entries(configured ?? {})) {
    merged[integration] = [...(merged[integration] ?? []), ...urls];
  }
  return merged;
}

/**
 * The API base URL of each built-in integration, also under every alias that maps to it (Nango's
 * `providerConfigKeys: { chat: 'slack' }` makes `chat` Slack's).
 *
 * @example
 * ```ts
 * builtinApiBases({ chat: 'slack' }); // { github: 'https://api.github.com', …, chat: 'https://slack.com/api' }
 * ```
 */
export function builtinApiBases(
  aliases: Readonly<Record<string, string>> = {},
): Record<string, string | null> {
  const bases: Record<string, string | null> = {};
  for (const [key, def] of Object.entries(BUILTIN_INTEGRATIONS)) bases[key] = def.apiBaseUrl;
  for (const [alias, key] of Object.entries(aliases)) {
    if (Object.hasOwn(BUILTIN_INTEGRATIONS, key)) {
      bases[alias] = BUILTIN_INTEGRATIONS[key as keyof typeof BUILTIN_INTEGRATIONS].apiBaseUrl;
    }
  }
  return bases;
}
