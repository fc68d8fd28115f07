// Key rotation at rest: rewrite every blob sealed with an older key (or in the `v1` format) under the
// current key. Each rewrite is a compare-and-set at the version that was read, so a refresh that lands
// in between always wins, and the refresh's write-back never yields to a reseal (see tokens.ts).
import { newTraceId } from '../../core/trace';
import type { AdapterContext } from './context';
import { inputOf } from './context';
import { needsReseal, openFor, sealFor } from './sealing';

/**
 * Re-encrypts every connection that needs it; returns how many were rewritten.
 *
 * @internal
 * @example
 * ```ts
 * const rewritten = await resealAll(ctx);
 * ```
 */
export async function resealAll(ctx: AdapterContext): Promise<number> {
  const { store, keyring } = ctx.options;
  const traceId = newTraceId();
  const rows = await ctx.storeCall('connection list', traceId, () => store.list({}));
  let rewritten = 0;
  for (const row of rows) {
    if (row.credentials === null || !needsReseal(keyring, row.credentials)) continue;
    const plaintext = openFor(keyring, row, row.credentials);
    const result = await ctx.storeCall('connection write', traceId, () =>
      store.compareAndSet(inputOf(row, { credentials: sealFor(keyring, row, plaintext) }), row.version),
    );
    if (result.ok) rewritten++;
  }
  return rewritten;
}
