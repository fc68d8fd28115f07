import type { SessionStatus } from '../../client/manager';
import type { SessionUser } from '../../client/types';

/**
 * "Alice Admin <alice@acme.test> (org org_acme)" for human output.
 *
 * @example
 * ```ts
 * io.out(`Logged in as ${describeUser(status.user)}`);
 * ```
 */
export function describeUser(user: SessionUser): string {
  const who =
    user.name && user.email ? `${user.name} <${user.email}>` : (user.email ?? user.name ?? user.subject);
  return user.orgId ? `${who} (org ${user.orgId})` : who;
}

/**
 * The `--json` form of a status: the status itself plus `expiresAtIso`. Never contains a token.
 *
 * @example
 * ```ts
 * io.out(JSON.stringify(statusJson(await manager.status())));
 * ```
 */
export function statusJson(status: SessionStatus): Record<string, unknown> {
  return status.loggedIn
    ? { ...status, expiresAtIso: new Date(status.expiresAt * 1000).toISOString() }
    : { ...status };
}
