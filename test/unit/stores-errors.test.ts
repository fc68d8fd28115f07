import { describe, expect, it } from 'vitest';
import { StoreError, toStoreError } from '../../src/stores/errors';

// The drivers' own error shapes for "cannot hold more" (pg's DatabaseError carries the SQLSTATE in
// `code`, better-sqlite3's SqliteError its result code, ioredis's ReplyError the server's words).
describe('toStoreError', () => {
  it.each([
    ['PostgreSQL disk_full', Object.assign(new Error('could not extend file'), { code: '53100' })],
    ['PostgreSQL out_of_memory', Object.assign(new Error('out of memory'), { code: '53200' })],
    ['SQLite full', Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' })],
    ['Redis OOM', new Error("OOM command not allowed when used memory > 'maxmemory'.")],
    [
      'Redis MULTI aborted by an OOM',
      Object.assign(new Error('EXECABORT Transaction discarded because of previous errors.'), {
        previousErrors: [new Error("OOM command not allowed when used memory > 'maxmemory'.")],
      }),
    ],
    [
      'Redis MULTI aborted by an OOM, as Redis 7 and ioredis 5 report it (the reason in the message)',
      Object.assign(
        new Error(
          "EXECABORT Transaction discarded because of: OOM command not allowed when used memory > 'maxmemory'.",
        ),
        { previousErrors: [] },
      ),
    ],
  ])('maps %s to store_full, keeping the driver error as cause', (_, err) => {
    const mapped = toStoreError(err, 'revocation insert');
    expect(mapped).toBeInstanceOf(StoreError);
    expect((mapped as StoreError).code).toBe('store_full');
    expect(mapped.cause).toBe(err);
  });

  it('maps anything else to store_unavailable', () => {
    const mapped = toStoreError(
      Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }),
      'x',
    );
    expect((mapped as StoreError).code).toBe('store_unavailable');
  });
});
