import { AuthRejection } from '../../src/core/failure';
import { freezePrincipal, type Principal } from '../../src/core/principal';

/**
 * Maps verified Clerk session claims to a frozen `Principal`:
 *
 * - `sub` -> `subject`/`providerSubject`, `sid` -> `sessionId`, `exp` -> `expiresAt`, kind `user`;
 * - session claims v2 (`v: 2`): `o.id` -> `orgId`; `o.rol` -> roles `['org:<rol>']` (Clerk's role keys);
 *   `o.per` -> scopes: with `fea` and `o.fpm`, the `org:<feature>:<permission>` names Clerk's `has()`
 *   checks (each `fpm` entry is a decimal bit mask over `per` for the matching `o:` feature of `fea`);
 *   without them, the plain comma-separated `per` names;
 * - session claims v1: `org_id`, `org_role`, `org_permissions`.
 *
 * A claim of the wrong type is `claims_invalid`.
 *
 * @example
 * ```ts
 * const principal = clerkClaimsToPrincipal(claims, 'clerk');
 * principal.roles; // ['org:admin']
 * ```
 */
export function clerkClaimsToPrincipal(
  claims: Readonly<Record<string, unknown>>,
  provider: string,
): Principal {
  const sub = claims.sub;
  if (typeof sub !== 'string' || sub.length === 0) throw invalid('The token has no subject');
  const sid = optionalString(claims.sid, 'sid');
  let orgId: string | null = null;
  let roles: string[] = [];
  let scopes: string[] = [];
  if (claims.v === 2) {
    const o = claims.o;
    if (o !== undefined && o !== null) {
      if (typeof o !== 'object' || Array.isArray(o)) throw invalid('The organization claim is not an object');
      const org = o as Record<string, unknown>;
      orgId = optionalString(org.id, 'o.id');
      const rol = optionalString(org.rol, 'o.rol');
      if (rol) roles = [rol.startsWith('org:') ? rol : `org:${rol}`];
      scopes = v2Permissions(optionalString(org.per, 'o.per'), optionalString(org.fpm, 'o.fpm'), claims.fea);
    }
  } else {
    orgId = optionalString(claims.org_id, 'org_id');
    const role = optionalString(claims.org_role, 'org_role');
    if (role) roles = [role];
    const permissions = claims.org_permissions;
    if (permissions !== undefined && permissions !== null) {
      if (!Array.isArray(permissions) || !permissions.every((p) => typeof p === 'string'))
        throw invalid('The org_permissions claim is not an array of strings');
      scopes = permissions as string[];
    }
  }
  const exp = claims.exp;
  return freezePrincipal({
    subject: sub,
    providerSubject: sub,
    provider,
    kind: 'user',
    orgId,
    roles,
    scopes,
    sessionId: sid,
    expiresAt: typeof exp === 'number' && Number.isFinite(exp) ? new Date(exp * 1000) : null,
    authMethod: 'jwt',
    claims,
  });
}

function v2Permissions(per: string | null, fpm: string | null, fea: unknown): string[] {
  if (!per) return [];
  const permissions = per
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p.length > 0);
  if (!fpm || typeof fea !== 'string') return permissions;
  // `fea` lists scoped features (`o:reports,u:billing,ou:sso`); the org ones (`o`, `ou`, `uo`) line up
  // with `fpm`'s entries, as in @clerk/shared's splitByScope.
  const features: string[] = [];
  for (const part of fea.split(',')) {
    const item = part.trim();
    const colon = item.indexOf(':');
    if (colon < 0) throw invalid('The fea claim is malformed');
    if (ORG_FEATURE_SCOPES.has(item.slice(0, colon))) features.push(item.slice(colon + 1));
  }
  const masks = fpm.split(',').map((m) => m.trim());
  const names: string[] = [];
  features.forEach((feature, index) => {
    const mask = masks[index];
    if (mask === undefined) return;
    if (!/^\d+$/.test(mask)) throw invalid('The o.fpm claim is not a list of numbers');
    let bits = BigInt(mask);
    for (let bit = 0; bit < permissions.length && bits > 0n; bit++, bits >>= 1n) {
      if (bits & 1n) names.push(`org:${feature}:${permissions[bit]}`);
    }
  });
  return names;
}

const ORG_FEATURE_SCOPES: ReadonlySet<string> = new Set(['o', 'ou', 'uo']);

function optionalString(value: unknown, name: string): string | null {
  if (value === undefined || value === null) return null;
  if (typeof value !== 'string') throw invalid(`The ${name} claim is not a string`);
  return value.length > 0 ? value : null;
}

function invalid(message: string): AuthRejection {
  return new AuthRejection('claims_invalid', message);
}
