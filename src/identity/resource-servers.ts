// What each provider's validated configuration says about the resource server it protects: the
// authorization servers it trusts (RFC 9728 `authorization_servers`) and the audiences it accepts.
import type { ResourceDescription } from './resource-metadata';

/** DPoP proof algorithms advertised when the plane option `dpop` names none. */
const DEFAULT_DPOP_ALGORITHMS = ['ES256', 'RS256', 'PS256', 'EdDSA'] as const;

type Config = Readonly<Record<string, unknown>>;

/**
 * The resource description of a validated plane configuration (any provider, or `migration`).
 *
 * @internal Used by `createIdentityPlane`.
 * @example
 * ```ts
 * describeResource({ provider: 'oidc', issuer: 'https://id.example', audience: 'https://api.example' });
 * // { authorizationServers: ['https://id.example'], audiences: ['https://api.example'] }
 * ```
 */
export function describeResource(config: Config): ResourceDescription {
  const side = config.provider === 'migration' ? describeMigration(config) : describeSide(config);
  const dpop = dpopOf(config.dpop);
  return Object.freeze(dpop ? { ...side, dpop } : side);
}

function describeSide(config: Config): ResourceDescription {
  const audiences = list(config.audience);
  switch (config.provider) {
    case 'oidc':
      return { authorizationServers: list(config.issuer), audiences };
    case 'auth0': {
      // Auth0's issuer identifier is `https://<domain>/`, trailing slash included (it is the `iss`).
      const domains = [config.domain, ...list(config.customDomains)].filter((d) => typeof d === 'string');
      return { authorizationServers: domains.map((d) => `https://${d}/`), audiences };
    }
    case 'clerk':
      return { authorizationServers: clerkIssuer(config.publishableKey), audiences: [] };
    default:
      // legacy: a home-grown issuer publishes no authorization server metadata.
      return { authorizationServers: [], audiences };
  }
}

// While a side may decide for some tenant, its authorization server is advertised: the legacy side in
// legacy/shadow/dual, the target in dual/target. Modes that change at runtime (a flag client or a
// control store) may put any tenant anywhere, so both are advertised then.
function describeMigration(config: Config): ResourceDescription {
  const legacy = describeSide((config.legacy ?? {}) as Config);
  const target = describeSide((config.target ?? {}) as Config);
  const tenants = (config.tenants ?? {}) as Config;
  const orgs = Object.values((tenants.orgs ?? {}) as Config);
  const rollout = (tenants.rollout ?? {}) as Config;
  const modes = new Set([config.mode ?? 'legacy', ...orgs, rollout.mode].filter((m) => m !== undefined));
  const dynamic = config.modeFlag !== undefined || config.control !== undefined;
  const useLegacy = dynamic || modes.has('legacy') || modes.has('shadow') || modes.has('dual');
  const useTarget = dynamic || modes.has('dual') || modes.has('target');
  return {
    authorizationServers: [
      ...(useLegacy ? legacy.authorizationServers : []),
      ...(useTarget ? target.authorizationServers : []),
    ],
    audiences: [...new Set([...legacy.audiences, ...target.audiences])],
  };
}

// Clerk's authorization server is its Frontend API, whose host the publishable key encodes
// (`pk_test_` + base64 of `host$`).
function clerkIssuer(publishableKey: unknown): string[] {
  if (typeof publishableKey !== 'string') return [];
  const encoded = publishableKey.replace(/^pk_(live|test)_/, '');
  const host = Buffer.from(encoded, 'base64').toString('utf8').replace(/\$$/, '');
  return /^[a-z0-9.-]+\.[a-z0-9-]+(:\d+)?$/i.test(host) ? [`https://${host}`] : [];
}

function dpopOf(dpop: unknown): ResourceDescription['dpop'] {
  if (!dpop || typeof dpop !== 'object') return undefined;
  const { algorithms, required } = dpop as { algorithms?: unknown; required?: unknown };
  const algs =
    Array.isArray(algorithms) && algorithms.length > 0 ? list(algorithms) : DEFAULT_DPOP_ALGORITHMS;
  return Object.freeze({ algorithms: Object.freeze([...algs]), required: required === true });
}

function list(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}
