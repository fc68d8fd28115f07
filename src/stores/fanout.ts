// One publisher for every configured channel. Every revocation path (plane.revoke through a cached
// revocation store, keys.revoke / rotate through a cached API key store, `authplane keys revoke`)
// publishes through the channel it was given; when that is a fan-out, the event goes out on each
// member, so an instance listening on any one of them hears it.
import type { InvalidationChannel, InvalidationEvent } from './contracts';
import { StoreError } from './errors';

/**
 * An {@link InvalidationChannel} over several others (say PostgreSQL LISTEN/NOTIFY and Redis pub/sub).
 * `publish` sends on every member, trying each even when one fails, and rejects with a `StoreError`
 * naming how many failed. `subscribe` hears every member (an event published on two members arrives
 * twice; events are idempotent). `healthy` is true only while EVERY member is: a writer that reaches
 * only one of them (an older CLI, a store's own NOTIFY) must still be heard. `close()` closes the members.
 *
 * @example
 * ```ts
 * const channel = createFanoutChannel([
 *   await createPostgresInvalidationChannel({ pool }),
 *   await createRedisInvalidationChannel({ url: process.env.REDIS_URL }),
 * ]);
 * const revocation = createCachedRevocationStore({ store, channel });
 * ```
 */
export function createFanoutChannel(channels: readonly InvalidationChannel[]): InvalidationChannel {
  if (!Array.isArray(channels) || channels.length === 0) {
    throw new TypeError('createFanoutChannel: pass at least one channel');
  }
  const members = [...channels];
  let closed = false;
  return Object.freeze({
    get healthy() {
      return !closed && members.every((c) => c.healthy);
    },
    async publish(event: InvalidationEvent): Promise<void> {
      const results = await Promise.allSettled(members.map((c) => c.publish(event)));
      const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (failed.length > 0) {
        throw new StoreError(
          'store_unavailable',
          `The invalidation was not published on ${failed.length} of ${members.length} channels`,
          { cause: new AggregateError(failed.map((f) => f.reason)) },
        );
      }
    },
    subscribe(listener: (event: InvalidationEvent) => void): () => void {
      const offs = members.map((c) => c.subscribe(listener));
      return () => {
        for (const off of offs) off();
      };
    },
    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      const results = await Promise.allSettled(members.map((c) => c.close()));
      const rejected = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (rejected) throw rejected.reason;
    },
  });
}
