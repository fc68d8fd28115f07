import type { z } from 'zod';
import type { legacyClaimMappingSchema } from '../../src/config/schema';
import { AuthRejection } from '../../src/core/failure';
import { freezePrincipal, type Principal } from '../../src/core/principal';

/**
 * Which claims of a legacy token carry the principal (every name resolved: preset, then SimpleJWT's names).
 *
 * @example
 * ```ts
 * const mapping: LegacyClaimMapping = { subject: 'user_id', org: 'org_id', roles: 'roles', scopes: ['scope'],
 *   sessionId: 'sid', tokenType: 'token_type' };
 * ```
 */
export type LegacyClaimMapping = z.output<typeof legacyClaimMappingSchema>;

/**
 * Maps the verified claims of a legacy token to a frozen `Principal`:
 *
 * - `subject` = `providerSubject` = the `claims.subject` claim (`user_id`), a non-empty string or a
 *   safe integer (Django primary keys are integers; it becomes its decimal string);
 * - `kind` is `service` when the `claims.kind` claim (if configured) equals `service`, else `user`;
 * - `orgId`, `roles` (a string is one role), `scopes` (union of the scope claims, space-separated
 *   string or array), `sessionId`; a mapped claim of the wrong type is `claims_invalid`;
 * - `authMethod` is `jwt`, `expiresAt` from `exp`.
 *
 * @example
 * ```ts
 * const principal = legacyClaimsToPrincipal(claims, { provider: 'legacy', mapping: config.claims });
 * ```
 */
export function legacyClaimsToPrincipal(
  claims: Readonly<Record<string, unknown>>,
  options: { provider: string; mapping: LegacyClaimMapping },
): Principal {
  const mapping = options.mapping;
  const subject = readSubject(claims[mapping.subject]);
  const org = claims[mapping.org];
  if (org !== undefined && org !== null && typeof org !== 'string' && !Number.isSafeInteger(org)) {
    throw invalid('The organization claim is not a string');
  }
  const sid = claims[mapping.sessionId];
  if (sid !== undefined && sid !== null && typeof sid !== 'string') {
    throw invalid('The session claim is not a string');
  }
  const exp = claims.exp;
  const orgId = org === undefined || org === null || org === '' ? null : String(org);
  return freezePrincipal({
    subject,
    providerSubject: subject,
    provider: options.provider,
    kind: mapping.kind !== undefined && claims[mapping.kind] === 'service' ? 'service' : 'user',
    orgId,
    roles: readList(claims[mapping.roles], mapping.roles, false),
    scopes: mapping.scopes.flatMap((name) => readList(claims[name], name, true)),
    sessionId: typeof sid === 'string' && sid.length > 0 ? sid : null,
    expiresAt: typeof exp === 'number' && Number.isFinite(exp) ? new Date(exp * 1000) : null,
    authMethod: 'jwt',
    claims,
  });
}

function readSubject(value: unknown): string {
  if (typeof value === 'string' && value.length > 0) return value;
  if (typeof value === 'number' && Number.isSafeInteger(value)) return String(value);
  throw invalid('The token has no user id');
}

function readList(value: unknown, name: string, spaceSeparated: boolean): string[] {
  if (value === undefined || value === null) return [];
  if (typeof value === 'string') {
    if (!spaceSeparated) return value.length > 0 ? [value] : [];
    return value.split(' ').filter((item) => item.length > 0);
  }
  if (!Array.isArray(value)) throw invalid(`The ${name} claim is not a string or an array`);
  for (const item of value)
    if (typeof item !== 'string') throw invalid(`The ${name} claim holds a non-string`);
  return (value as string[]).filter((item) => item.length > 0);
}

function invalid(message: string): AuthRejection {
  return new AuthRejection('claims_invalid', message);
}
