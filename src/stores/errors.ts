import { AuthplaneError } from '../core/errors';
import { AuthRejection } from '../core/failure';

/**
 * Why a store operation failed: `store_unavailable` (connection refused, timeout, driver error),
 * `store_conflict` (duplicate id, a link to a different target, a concurrent import) or `store_full`
 * (a bounded memory store reached its limit, a full disk, Redis at `maxmemory`): nothing was written. The message never contains stored values.
 *
 * @example
 * ```ts
 * try { await store.insert(record); } catch (e) { if (e instanceof StoreError && e.code === 'store_conflict') … }
 * ```
 */
export class StoreError extends AuthplaneError {
  declare readonly code: StoreErrorCode;
  constructor(code: StoreErrorCode, message: string, options?: { cause?: unknown }) {
    super(code, message, options);
  }
}

/**
 * The codes of {@link StoreError}.
 *
 * @example
 * ```ts
 * const code: StoreErrorCode = 'store_unavailable';
 * ```
 */
export type StoreErrorCode = 'store_unavailable' | 'store_conflict' | 'store_full';

/**
 * Wraps a driver error as `store_unavailable` (a `StoreError` or an `AuthRejection` passes through).
 * The driver error stays as `cause` for operators; the message only names the operation.
 *
 * @example
 * ```ts
 * try { return await pool.query(sql); } catch (err) { throw toStoreError(err, 'api key lookup'); }
 * ```
 */
export function toStoreError(err: unknown, operation: string): Error {
  if (err instanceof StoreError || err instanceof AuthRejection) return err;
  if (isFull(err)) {
    return new StoreError('store_full', `The store is full: nothing was written during ${operation}`, {
      cause: err,
    });
  }
  return new StoreError('store_unavailable', `The store failed during ${operation}`, { cause: err });
}

// The drivers' own words for "cannot hold more": SQLite's SQLITE_FULL, PostgreSQL's disk_full (53100)
// and out_of_memory (53200), Redis's OOM reply under `maxmemory` with `noeviction`.
function isFull(err: unknown): boolean {
  const e = err as { code?: unknown; message?: unknown; previousErrors?: unknown } | null;
  if (e?.code === 'SQLITE_FULL' || e?.code === '53100' || e?.code === '53200') return true;
  if (typeof e?.message === 'string' && e.message.startsWith('OOM ')) return true;
  // A Redis MULTI whose queued commands were refused fails as EXECABORT: ioredis either names the OOM in
  // the message ("EXECABORT Transaction discarded because of: OOM …") or keeps it in `previousErrors`.
  if (
    typeof e?.message === 'string' &&
    e.message.startsWith('EXECABORT ') &&
    e.message.includes('because of: OOM ')
  ) {
    return true;
  }
  return Array.isArray(e?.previousErrors) && e.previousErrors.some(isFull);
}

/**
 * For verification paths: any store failure becomes `provider_unavailable` (503, fail closed), so an
 * outage is never an accept and never a 401 that tells the client to drop its credential.
 *
 * @example
 * ```ts
 * try { record = await store.findById(id); } catch (err) { throw unavailable(err, 'API key store'); }
 * ```
 */
export function unavailable(err: unknown, what: string): AuthRejection {
  if (err instanceof AuthRejection) return err;
  return new AuthRejection('provider_unavailable', `The ${what} is unavailable`, { cause: err });
}
