import { randomFillSync } from 'node:crypto';

// Version 00 has exactly four fields; a later version may append more, which a 00 parser must accept.
const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/;

/**
 * A new W3C trace id: 32 lowercase hex characters, never all zeros.
 *
 * @example
 * ```ts
 * newTraceId(); // '4bf92f3577b34da6a3ce929d0e0e4736'
 * ```
 */
export function newTraceId(): string {
  // One CSPRNG call and one hex conversion per 256 ids: a synchronous randomBytes(16) costs ~2 µs, a
  // tenth of an RS256 verification, and every decision needs a trace id. An id is a slice of the pool's
  // hex string (trace ids are not secrets; a live id keeps its 8 KiB pool string alive).
  if (traceIdOffset >= traceIdPoolHex.length) {
    randomFillSync(TRACE_ID_POOL);
    traceIdPoolHex = TRACE_ID_POOL.toString('hex');
    traceIdOffset = 0;
  }
  const id = traceIdPoolHex.slice(traceIdOffset, traceIdOffset + 32);
  traceIdOffset += 32;
  return id === ALL_ZERO_TRACE_ID ? newTraceId() : id;
}

const TRACE_ID_POOL = Buffer.allocUnsafe(16 * 256);
let traceIdPoolHex = '';
let traceIdOffset = 0;
const ALL_ZERO_TRACE_ID = '0'.repeat(32);

/**
 * The trace id of a W3C `traceparent` header (https://www.w3.org/TR/trace-context/#traceparent-header),
 * or null when the header is absent or invalid (version ff, all-zero ids, wrong length or case).
 *
 * @example
 * ```ts
 * parseTraceparent('00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01'); // '4bf92f35…'
 * ```
 */
export function parseTraceparent(header: string | null | undefined): string | null {
  if (!header) return null;
  const match = TRACEPARENT.exec(header.trim());
  if (!match) return null;
  const [, version, traceId, parentId, , extra] = match;
  if (
    (version === '00' && extra !== undefined) ||
    version === 'ff' ||
    !traceId ||
    /^0+$/.test(traceId) ||
    !parentId ||
    /^0+$/.test(parentId)
  )
    return null;
  return traceId;
}

/**
 * Continues the caller's trace when a valid `traceparent` is given, else starts a new one.
 *
 * @example
 * ```ts
 * const traceId = traceIdFrom(request.headers.get('traceparent'));
 * ```
 */
export function traceIdFrom(traceparent: string | null | undefined): string {
  return parseTraceparent(traceparent) ?? newTraceId();
}
