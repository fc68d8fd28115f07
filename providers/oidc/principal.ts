import { AuthRejection } from '../../src/core/failure';
import { type AuthMethod, freezePrincipal, type Principal } from '../../src/core/principal';

/**
 * Which claims carry the org, roles, scopes and session id (`OidcConfig['claims']`).
 *
 * @example
 * ```ts
 * const mapping: ClaimMapping = { org: 'org_id', roles: 'roles', scopes: ['scope', 'scp'], sessionId: 'sid' };
 * ```
 */
export interface ClaimMapping {
  readonly org: string;
  readonly roles: string;
  readonly scopes: readonly string[];
  readonly sessionId: string;
}

/**
 * Maps verified claims (a JWT claims set or an introspection answer) to a frozen `Principal`.
 *
 * - `subject` = `providerSubject` = `sub` (an introspection answer without `sub` uses `client_id`);
 * - `kind` is `service` for a client-credentials token (`sub === client_id`, or `gty` is
 *   `client-credentials`), else `user`;
 * - `orgId`, `roles` (a string is one role), `scopes` (the union of every scope claim; space-separated
 *   string or array), `sessionId` from the mapped claims; a mapped claim of the wrong type is
 *   `claims_invalid` (silently dropping a malformed role or scope claim would hide an issuer bug);
 * - a sender-constrained token (`cnf`: DPoP or mTLS bound) keeps its `cnf` claim: the plane checks the
 *   proof of possession for every provider, and refuses it without one (`token_type_mismatch`).
 *
 * @example
 * ```ts
 * const principal = claimsToPrincipal(claims, { provider: 'oidc', authMethod: 'jwt', mapping: config.claims });
 * ```
 */
export function claimsToPrincipal(
  claims: Readonly<Record<string, unknown>>,
  options: { provider: string; authMethod: AuthMethod; mapping: ClaimMapping },
): Principal {
  const mapping = options.mapping;
  const clientId = claims.client_id;
  let sub = claims.sub;
  if (sub === undefined && options.authMethod === 'introspection') sub = clientId;
  if (typeof sub !== 'string' || sub.length === 0) throw invalid('The token has no subject');
  const service = (typeof clientId === 'string' && sub === clientId) || claims.gty === 'client-credentials';

  const org = claims[mapping.org];
  if (org !== undefined && org !== null && typeof org !== 'string')
    throw invalid('The organization claim is not a string');

  const sid = claims[mapping.sessionId];
  if (sid !== undefined && sid !== null && typeof sid !== 'string')
    throw invalid('The session claim is not a string');

  const exp = claims.exp;
  return freezePrincipal({
    subject: sub,
    providerSubject: sub,
    provider: options.provider,
    kind: service ? 'service' : 'user',
    orgId: typeof org === 'string' && org.length > 0 ? org : null,
    roles: readRoles(claims[mapping.roles]),
    scopes: readScopes(claims, mapping.scopes),
    sessionId: typeof sid === 'string' && sid.length > 0 ? sid : null,
    expiresAt: typeof exp === 'number' && Number.isFinite(exp) ? new Date(exp * 1000) : null,
    authMethod: options.authMethod,
    claims,
  });
}

function readRoles(value: unknown): string[] {
  if (value === undefined || value === null) return [];
  if (typeof value === 'string') return value.length > 0 ? [value] : [];
  if (!Array.isArray(value)) throw invalid('The roles claim is not a string or an array');
  for (const role of value) if (typeof role !== 'string') throw invalid('The roles claim holds a non-string');
  return value as string[];
}

function readScopes(claims: Readonly<Record<string, unknown>>, names: readonly string[]): string[] {
  const scopes: string[] = [];
  for (const name of names) {
    const value = claims[name];
    if (value === undefined || value === null) continue;
    if (typeof value === 'string') {
      for (const scope of value.split(' ')) if (scope.length > 0) scopes.push(scope);
    } else if (Array.isArray(value)) {
      for (const scope of value) {
        if (typeof scope !== 'string') throw invalid(`The ${name} claim holds a non-string`);
        if (scope.length > 0) scopes.push(scope);
      }
    } else {
      throw invalid(`The ${name} claim is not a string or an array`);
    }
  }
  return scopes;
}

function invalid(message: string): AuthRejection {
  return new AuthRejection('claims_invalid', message);
}
