import type { SessionUser, StoredSession } from './types';

const isString = (v: unknown): v is string => typeof v === 'string';
const optionalString = (v: unknown): boolean => v === undefined || typeof v === 'string';
const isTime = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && v >= 0;

function isUser(value: unknown): value is SessionUser {
  if (typeof value !== 'object' || value === null) return false;
  const u = value as Record<string, unknown>;
  return isString(u.subject) && optionalString(u.email) && optionalString(u.name) && optionalString(u.orgId);
}

/**
 * Checks a decoded value is a `StoredSession` (hand-written rather than a schema library: this runs
 * on the `authplane token` hot path, where every millisecond of start-up counts).
 *
 * @example
 * ```ts
 * if (!isStoredSession(JSON.parse(text))) throw new ClientError('session_corrupt', '…');
 * ```
 */
export function isStoredSession(value: unknown): value is StoredSession {
  if (typeof value !== 'object' || value === null) return false;
  const s = value as Record<string, unknown>;
  return (
    s.version === 1 &&
    isString(s.issuer) &&
    isString(s.clientId) &&
    isString(s.accessToken) &&
    s.accessToken.length > 0 &&
    isString(s.tokenType) &&
    isTime(s.expiresAt) &&
    isTime(s.obtainedAt) &&
    optionalString(s.refreshToken) &&
    optionalString(s.scope) &&
    isUser(s.user)
  );
}

/** Drops unknown fields so nothing unexpected is persisted. */
export function normalizeSession(s: StoredSession): StoredSession {
  const user: SessionUser = {
    subject: s.user.subject,
    ...(s.user.email !== undefined ? { email: s.user.email } : {}),
    ...(s.user.name !== undefined ? { name: s.user.name } : {}),
    ...(s.user.orgId !== undefined ? { orgId: s.user.orgId } : {}),
  };
  return {
    version: 1,
    issuer: s.issuer,
    clientId: s.clientId,
    accessToken: s.accessToken,
    tokenType: s.tokenType,
    expiresAt: s.expiresAt,
    obtainedAt: s.obtainedAt,
    ...(s.refreshToken !== undefined ? { refreshToken: s.refreshToken } : {}),
    ...(s.scope !== undefined ? { scope: s.scope } : {}),
    user,
  };
}
