import type { InvalidationEvent } from './contracts';

/**
 * Parses an invalidation payload from the wire, accepting only well-formed events (anything else is
 * ignored: a stray NOTIFY on the channel must not crash or mislead a cache).
 *
 * @example
 * ```ts
 * parseEvent('{"type":"api_key","id":"k1"}'); // { type: 'api_key', id: 'k1' }
 * ```
 */
export function parseEvent(text: string): InvalidationEvent | null {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  if (!value || typeof value !== 'object') return null;
  const v = value as Record<string, unknown>;
  if (v.type === 'reset') return { type: 'reset' };
  if (v.type === 'migration_control' && Number.isSafeInteger(v.version))
    return { type: 'migration_control', version: v.version as number };
  if (v.type === 'api_key' && typeof v.id === 'string') return { type: 'api_key', id: v.id };
  if (v.type === 'revocation') {
    const jti = typeof v.jti === 'string' ? v.jti : undefined;
    const sessionId = typeof v.sessionId === 'string' ? v.sessionId : undefined;
    const until = typeof v.until === 'number' && Number.isFinite(v.until) ? v.until : undefined;
    if (jti === undefined && sessionId === undefined) return null;
    return {
      type: 'revocation',
      ...(jti !== undefined ? { jti } : {}),
      ...(sessionId !== undefined ? { sessionId } : {}),
      ...(until !== undefined ? { until } : {}),
    };
  }
  return null;
}
