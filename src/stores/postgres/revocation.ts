import type { RevocationKey, RevocationLookup, RevocationStore } from '../contracts';
import { unavailable } from '../errors';
import { type Ctx, run } from './context';

export function pgRevocationStore(ctx: Ctx, retentionMs: number): RevocationStore {
  const { q, clock } = ctx;
  let lastPrune = 0;
  return Object.freeze({
    async add(target: RevocationKey, until?: Date): Promise<void> {
      const now = clock();
      const untilMs =
        until instanceof Date && Number.isFinite(until.getTime()) ? until.getTime() : now + retentionMs;
      if (untilMs <= now) return;
      const entries: Array<['j' | 's', string]> = [];
      if ('jti' in target) entries.push(['j', target.jti]);
      if ('sessionId' in target) entries.push(['s', target.sessionId]);
      for (const [kind, value] of entries) {
        // The NOTIFY carries the stored until (the later of both adds); a value too long for
        // PostgreSQL's 8000-byte payload sends `reset` instead.
        const field = kind === 'j' ? 'jti' : 'sessionId';
        await run(
          ctx,
          'revocation insert',
          `WITH i AS (
             INSERT INTO ${q}.revocations (kind, value, until) VALUES ($1, $2, $3)
             ON CONFLICT (kind, value) DO UPDATE SET until = GREATEST(${q}.revocations.until, excluded.until)
             RETURNING until)
           SELECT CASE WHEN $4::text IS NULL THEN NULL
             WHEN octet_length($2::text) > 7000 THEN pg_notify($4::text, '{"type":"reset"}')
             ELSE pg_notify($4::text, json_build_object('type', 'revocation', $5::text, $2::text,
               'until', floor(extract(epoch FROM i.until) * 1000))::text) END FROM i`,
          [kind, value, new Date(untilMs), ctx.notify, field],
        );
      }
      if (now - lastPrune > 60_000) {
        lastPrune = now;
        await run(ctx, 'revocation prune', `DELETE FROM ${q}.revocations WHERE until <= $1`, [new Date(now)]);
      }
    },
    async isRevoked(lookup: RevocationLookup): Promise<boolean> {
      const jti = typeof lookup.jti === 'string' ? lookup.jti : null;
      const sid = typeof lookup.sessionId === 'string' ? lookup.sessionId : null;
      if (jti === null && sid === null) return false;
      try {
        const rows = await run(
          ctx,
          'revocation lookup',
          `SELECT 1 FROM ${q}.revocations WHERE until > $3
             AND ((kind = 'j' AND value = $1) OR (kind = 's' AND value = $2)) LIMIT 1`,
          [jti, sid, new Date(clock())],
        );
        return rows.length > 0;
      } catch (err) {
        throw unavailable(err, 'revocation store');
      }
    },
    async close(): Promise<void> {},
  });
}
