// PostgreSQL stores (pg, an optional peer) and a LISTEN/NOTIFY invalidation channel.
// Revoking an API key or adding a revocation also NOTIFYs in the same statement, so every listening
// instance hears about it when (and only when) the write commits, even if the writer is a CLI that
// configured no channel of its own.
import type { ClientConfig, Client as PgClient, Pool, PoolClient, PoolConfig } from 'pg';
import type { MigrationControlStore } from '../../migration/control/types';
import type {
  ApiKeyFilter,
  ApiKeyRecord,
  ApiKeyStore,
  ApiKeyUpdate,
  ApiKeyUsage,
  ConnectionStore,
  IdentityLink,
  IdentityLinkStore,
  InvalidationChannel,
  InvalidationEvent,
  LinkImportBatch,
  LinkImportResult,
  NewIdentityLink,
  NewOrgLink,
  OrgLink,
  RevocationKey,
  RevocationLookup,
  RevocationStore,
} from '../contracts';
import type { PgPool, PgPoolConfig } from '../driver-types';
import { StoreError, toStoreError, unavailable } from '../errors';
import { parseEvent } from '../events';
import { type LivenessOptions, livenessSettings, startHeartbeat } from '../liveness';
import { createPostgresMigrationControlStore } from '../migration-control/postgres';
import { cjs, loadPeer } from '../peer';
import { checkLinkKey, conflict } from '../records';
import { pgConnectionStore } from './connections';
import { migratePostgres, quoteSchema } from './migrations';

export { migratePostgres, POSTGRES_MIGRATIONS, type PostgresMigration, quoteSchema } from './migrations';

/** The default NOTIFY channel shared by the stores and {@link createPostgresInvalidationChannel}. */
export const DEFAULT_NOTIFY_CHANNEL = 'authplane_invalidation';

/** Options of {@link createPostgresStores}. */
export interface PostgresStoreOptions {
  /** An existing pool (not ended by `close()`), or… */
  readonly pool?: PgPool;
  /** …a connection string for a pool owned (and ended) by the stores. */
  readonly connectionString?: string;
  /** Extra settings for an owned pool. Timeouts default to 2 s to connect and 5 s per query. */
  readonly poolConfig?: PgPoolConfig;
  /** Schema of the tables. Default `public`. */
  readonly schema?: string;
  /** Apply pending migrations on open. Default true; set false when `authplane db migrate` runs them. */
  readonly migrate?: boolean;
  /** NOTIFY channel for revocations, or false for none. Default {@link DEFAULT_NOTIFY_CHANNEL}. */
  readonly notifyChannel?: string | false;
  /** Seconds a revocation added without `until` is kept. Default one day. */
  readonly revocationRetentionSec?: number;
  /** Receives pool errors (idle clients losing their connection); without it they are ignored. */
  readonly onError?: (error: unknown) => void;
  /** Test seam: epoch milliseconds. */
  readonly clock?: () => number;
}

/**
 * The four stores over one PostgreSQL pool.
 *
 * @example
 * ```ts
 * const pg = await createPostgresStores({ connectionString: process.env.DATABASE_URL, schema: 'authplane' });
 * const keys = createApiKeys({ store: createCachedApiKeyStore({ store: pg.apiKeys, channel }), prefix: 'ap_live' });
 * ```
 */
export interface PostgresStores {
  readonly apiKeys: ApiKeyStore;
  readonly revocation: RevocationStore;
  readonly links: IdentityLinkStore;
  readonly connections: ConnectionStore;
  /** Tenant modes and fleet-wide shadow counters; changes NOTIFY `migration_control` on the channel. */
  readonly migrationControl: MigrationControlStore;
  readonly pool: PgPool;
  /** Ends the pool when the stores created it. The stores' own `close()` do nothing. */
  close(): Promise<void>;
}

const CHANNEL_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

function checkChannel(name: string): string {
  if (!CHANNEL_NAME.test(name)) throw new TypeError('notify channel must match /^[a-z_][a-z0-9_]{0,62}$/');
  return name;
}

async function loadPg() {
  return cjs(await loadPeer('pg', 'PostgreSQL stores', () => import('pg')));
}

function ownedPoolConfig(connectionString: string, extra: PoolConfig | undefined): PoolConfig {
  return {
    connectionString,
    max: 10,
    connectionTimeoutMillis: 2_000,
    query_timeout: 5_000,
    statement_timeout: 5_000,
    idleTimeoutMillis: 30_000,
    allowExitOnIdle: true,
    ...extra,
  };
}

/**
 * Opens the PostgreSQL stores: creates or reuses a pool and applies pending migrations. Needs the
 * optional peer `pg`. Failures of later calls are `StoreError('store_unavailable')`, and
 * `AuthRejection('provider_unavailable')` on verification paths (`findById` through `createApiKeys`,
 * `isRevoked`).
 *
 * @example
 * ```ts
 * const { apiKeys, revocation, links, connections, close } = await createPostgresStores({
 *   connectionString: process.env.DATABASE_URL, schema: 'authplane' });
 * ```
 */
export async function createPostgresStores(options: PostgresStoreOptions): Promise<PostgresStores> {
  if (!options || (!options.pool && typeof options.connectionString !== 'string')) {
    throw new TypeError('createPostgresStores: pass a pool or a connectionString');
  }
  const schema = options.schema ?? 'public';
  const q = quoteSchema(schema);
  const notify =
    options.notifyChannel === false ? null : checkChannel(options.notifyChannel ?? DEFAULT_NOTIFY_CHANNEL);
  const owned = !options.pool;
  let pool: Pool;
  if (options.pool) {
    pool = options.pool as Pool;
  } else {
    const pg = await loadPg();
    pool = new pg.Pool(ownedPoolConfig(options.connectionString as string, options.poolConfig as PoolConfig));
    // An idle client that loses its connection emits 'error' on the pool; unhandled it would crash the process.
    pool.on('error', (err) => options.onError?.(err));
  }
  try {
    if (options.migrate !== false) await migratePostgres(pool, { schema });
  } catch (err) {
    if (owned) await pool.end().catch(() => {});
    throw err;
  }
  const clock = options.clock ?? Date.now;
  const ctx: Ctx = { pool, q, notify, clock };
  let closed = false;
  return Object.freeze({
    pool,
    apiKeys: pgApiKeyStore(ctx),
    revocation: pgRevocationStore(ctx, (options.revocationRetentionSec ?? 86_400) * 1000),
    links: pgLinkStore(ctx),
    connections: pgConnectionStore(ctx),
    migrationControl: createPostgresMigrationControlStore({ pool, schema, notify, clock }),
    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      if (owned) await pool.end();
    },
  });
}

interface Ctx {
  readonly pool: Pool;
  /** Quoted schema. */
  readonly q: string;
  readonly notify: string | null;
  readonly clock: () => number;
}

async function run<T extends Record<string, unknown>>(
  ctx: Ctx,
  operation: string,
  sql: string,
  values: unknown[] = [],
): Promise<T[]> {
  try {
    const result = await ctx.pool.query<T>(sql, values);
    return result.rows;
  } catch (err) {
    throw toStoreError(err, operation);
  }
}

/** The NOTIFY payload: an event, or `reset` when it would not fit PostgreSQL's 8000-byte limit. */
function payload(event: InvalidationEvent): string {
  const json = JSON.stringify(event);
  return Buffer.byteLength(json) < 7_900 ? json : JSON.stringify({ type: 'reset' });
}

const isUniqueViolation = (err: unknown): boolean =>
  (err as { cause?: { code?: unknown } } | null)?.cause?.code === '23505';

interface ApiKeyRow extends Record<string, unknown> {
  id: string;
  hash: string;
  prefix: string;
  owner_id: string;
  org_id: string;
  scopes: string[];
  name: string | null;
  created_at: Date;
  expires_at: Date | null;
  revoked_at: Date | null;
  last_used_at: Date | null;
  replaced_by: string | null;
}

const apiKeyFromRow = (r: ApiKeyRow): ApiKeyRecord =>
  Object.freeze({
    id: r.id,
    hash: r.hash,
    prefix: r.prefix,
    ownerId: r.owner_id,
    orgId: r.org_id,
    scopes: Object.freeze([...r.scopes]),
    name: r.name,
    createdAt: r.created_at,
    expiresAt: r.expires_at,
    revokedAt: r.revoked_at,
    lastUsedAt: r.last_used_at,
    replacedBy: r.replaced_by,
  });

function pgApiKeyStore(ctx: Ctx): ApiKeyStore {
  const { q } = ctx;
  const cols =
    'id, hash, prefix, owner_id, org_id, scopes, name, created_at, expires_at, revoked_at, last_used_at, replaced_by';
  return Object.freeze({
    async insert(r: ApiKeyRecord): Promise<void> {
      try {
        await run(
          ctx,
          'API key insert',
          `INSERT INTO ${q}.api_keys (${cols}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)`,
          [
            r.id,
            r.hash,
            r.prefix,
            r.ownerId,
            r.orgId,
            [...r.scopes],
            r.name,
            r.createdAt,
            r.expiresAt,
            r.revokedAt,
            r.lastUsedAt,
            r.replacedBy,
          ],
        );
      } catch (err) {
        if (isUniqueViolation(err)) throw conflict('An API key with this id');
        throw err;
      }
    },
    async findById(id: string): Promise<ApiKeyRecord | null> {
      const rows = await run<ApiKeyRow>(
        ctx,
        'API key lookup',
        `SELECT ${cols} FROM ${q}.api_keys WHERE id = $1`,
        [id],
      );
      return rows[0] ? apiKeyFromRow(rows[0]) : null;
    },
    async list(filter: ApiKeyFilter): Promise<ApiKeyRecord[]> {
      const [column, value] = 'orgId' in filter ? ['org_id', filter.orgId] : ['owner_id', filter.ownerId];
      const rows = await run<ApiKeyRow>(
        ctx,
        'API key list',
        `SELECT ${cols} FROM ${q}.api_keys WHERE ${column} = $1 ORDER BY created_at, id`,
        [value],
      );
      return rows.map(apiKeyFromRow);
    },
    async update(id: string, change: ApiKeyUpdate): Promise<ApiKeyRecord | null> {
      // One statement: the update and its NOTIFY commit (or fail) together.
      const rows = await run<ApiKeyRow>(
        ctx,
        'API key update',
        `WITH u AS (
           UPDATE ${q}.api_keys SET
             revoked_at = CASE WHEN $2 THEN $3::timestamptz ELSE revoked_at END,
             expires_at = CASE WHEN $4 THEN $5::timestamptz ELSE expires_at END,
             replaced_by = CASE WHEN $6 THEN $7::text ELSE replaced_by END
           WHERE id = $1 RETURNING ${cols})
         SELECT u.*, CASE WHEN $8::text IS NULL THEN NULL ELSE pg_notify($8::text, $9::text) END AS notified FROM u`,
        [
          id,
          change.revokedAt !== undefined,
          change.revokedAt ?? null,
          change.expiresAt !== undefined,
          change.expiresAt ?? null,
          change.replacedBy !== undefined,
          change.replacedBy ?? null,
          ctx.notify,
          payload({ type: 'api_key', id }),
        ],
      );
      return rows[0] ? apiKeyFromRow(rows[0]) : null;
    },
    async touch(usages: readonly ApiKeyUsage[]): Promise<void> {
      if (usages.length === 0) return;
      // One statement for the whole batch: the point of batching last-used times.
      await run(
        ctx,
        'API key last-used update',
        `UPDATE ${q}.api_keys k SET last_used_at = u.at
         FROM (SELECT id, max(at) AS at FROM unnest($1::text[], $2::timestamptz[]) AS t(id, at) GROUP BY id) u
         WHERE k.id = u.id AND (k.last_used_at IS NULL OR k.last_used_at < u.at)`,
        [usages.map((u) => u.id), usages.map((u) => u.lastUsedAt)],
      );
    },
    async close(): Promise<void> {},
  });
}

function pgRevocationStore(ctx: Ctx, retentionMs: number): RevocationStore {
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

interface LinkRow extends Record<string, unknown> {
  provider: string;
  provider_subject: string;
  subject: string;
  created_at: Date;
}
interface OrgRow extends Record<string, unknown> {
  provider: string;
  external_org_id: string;
  org_id: string;
  created_at: Date;
}
const linkFromRow = (r: LinkRow): IdentityLink =>
  Object.freeze({
    provider: r.provider,
    providerSubject: r.provider_subject,
    subject: r.subject,
    createdAt: r.created_at,
  });
const orgFromRow = (r: OrgRow): OrgLink =>
  Object.freeze({
    provider: r.provider,
    externalOrgId: r.external_org_id,
    orgId: r.org_id,
    createdAt: r.created_at,
  });

const IMPORT_CHUNK = 5_000;

function pgLinkStore(ctx: Ctx): IdentityLinkStore {
  const { q, clock } = ctx;

  // Insert-if-absent then read back; a different stored target is a conflict.
  const linkSql = `WITH i AS (
      INSERT INTO ${q}.identity_links (provider, provider_subject, subject, created_at) VALUES ($1, $2, $3, $4)
      ON CONFLICT DO NOTHING RETURNING *)
    SELECT * FROM i UNION ALL
    SELECT * FROM ${q}.identity_links WHERE provider = $1 AND provider_subject = $2 AND NOT EXISTS (SELECT 1 FROM i)`;
  const orgSql = `WITH i AS (
      INSERT INTO ${q}.org_links (provider, external_org_id, org_id, created_at) VALUES ($1, $2, $3, $4)
      ON CONFLICT DO NOTHING RETURNING *)
    SELECT * FROM i UNION ALL
    SELECT * FROM ${q}.org_links WHERE provider = $1 AND external_org_id = $2 AND NOT EXISTS (SELECT 1 FROM i)`;

  return Object.freeze({
    async link(input: NewIdentityLink): Promise<IdentityLink> {
      checkLinkKey(input.provider, input.providerSubject, input.subject);
      const rows = await run<LinkRow>(ctx, 'identity link', linkSql, [
        input.provider,
        input.providerSubject,
        input.subject,
        new Date(clock()),
      ]);
      const row = rows[0];
      if (!row) throw new StoreError('store_unavailable', 'The identity link was not written');
      if (row.subject !== input.subject) throw conflict('This identity link');
      return linkFromRow(row);
    },
    async resolve(provider: string, providerSubject: string): Promise<string | null> {
      const rows = await run<LinkRow>(
        ctx,
        'identity link lookup',
        `SELECT subject FROM ${q}.identity_links WHERE provider = $1 AND provider_subject = $2`,
        [provider, providerSubject],
      );
      return rows[0]?.subject ?? null;
    },
    async listBySubject(subject: string): Promise<IdentityLink[]> {
      const rows = await run<LinkRow>(
        ctx,
        'identity link list',
        `SELECT * FROM ${q}.identity_links WHERE subject = $1 ORDER BY created_at, provider`,
        [subject],
      );
      return rows.map(linkFromRow);
    },
    async unlink(provider: string, providerSubject: string): Promise<boolean> {
      const rows = await run(
        ctx,
        'identity unlink',
        `DELETE FROM ${q}.identity_links WHERE provider = $1 AND provider_subject = $2 RETURNING 1`,
        [provider, providerSubject],
      );
      return rows.length > 0;
    },
    async linkOrg(input: NewOrgLink): Promise<OrgLink> {
      checkLinkKey(input.provider, input.externalOrgId, input.orgId);
      const rows = await run<OrgRow>(ctx, 'org link', orgSql, [
        input.provider,
        input.externalOrgId,
        input.orgId,
        new Date(clock()),
      ]);
      const row = rows[0];
      if (!row) throw new StoreError('store_unavailable', 'The org link was not written');
      if (row.org_id !== input.orgId) throw conflict('This org link');
      return orgFromRow(row);
    },
    async resolveOrg(provider: string, externalOrgId: string): Promise<string | null> {
      const rows = await run<OrgRow>(
        ctx,
        'org link lookup',
        `SELECT org_id FROM ${q}.org_links WHERE provider = $1 AND external_org_id = $2`,
        [provider, externalOrgId],
      );
      return rows[0]?.org_id ?? null;
    },
    async importLinks(batch: LinkImportBatch): Promise<LinkImportResult> {
      const links = batch.links ?? [];
      const orgs = batch.orgs ?? [];
      for (const l of links) checkLinkKey(l.provider, l.providerSubject, l.subject);
      for (const o of orgs) checkLinkKey(o.provider, o.externalOrgId, o.orgId);
      let client: PoolClient;
      try {
        client = await ctx.pool.connect();
      } catch (err) {
        throw toStoreError(err, 'identity link import');
      }
      const now = new Date(clock());
      let inserted = 0;
      try {
        await client.query('BEGIN');
        for (let i = 0; i < links.length; i += IMPORT_CHUNK) {
          const chunk = links.slice(i, i + IMPORT_CHUNK);
          const args = [
            chunk.map((l) => l.provider),
            chunk.map((l) => l.providerSubject),
            chunk.map((l) => l.subject),
          ];
          const ins = await client.query(
            `INSERT INTO ${q}.identity_links (provider, provider_subject, subject, created_at)
             SELECT p, s, sub, $4 FROM unnest($1::text[], $2::text[], $3::text[]) AS t(p, s, sub)
             ON CONFLICT DO NOTHING`,
            [...args, now],
          );
          inserted += ins.rowCount ?? 0;
          const bad = await client.query(
            `SELECT 1 FROM unnest($1::text[], $2::text[], $3::text[]) AS t(p, s, sub)
             JOIN ${q}.identity_links l ON l.provider = t.p AND l.provider_subject = t.s
             WHERE l.subject <> t.sub LIMIT 1`,
            args,
          );
          if (bad.rows.length > 0) throw conflict('An imported identity link');
        }
        for (let i = 0; i < orgs.length; i += IMPORT_CHUNK) {
          const chunk = orgs.slice(i, i + IMPORT_CHUNK);
          const args = [
            chunk.map((o) => o.provider),
            chunk.map((o) => o.externalOrgId),
            chunk.map((o) => o.orgId),
          ];
          const ins = await client.query(
            `INSERT INTO ${q}.org_links (provider, external_org_id, org_id, created_at)
             SELECT p, e, o, $4 FROM unnest($1::text[], $2::text[], $3::text[]) AS t(p, e, o)
             ON CONFLICT DO NOTHING`,
            [...args, now],
          );
          inserted += ins.rowCount ?? 0;
          const bad = await client.query(
            `SELECT 1 FROM unnest($1::text[], $2::text[], $3::text[]) AS t(p, e, o)
             JOIN ${q}.org_links l ON l.provider = t.p AND l.external_org_id = t.e
             WHERE l.org_id <> t.o LIMIT 1`,
            args,
          );
          if (bad.rows.length > 0) throw conflict('An imported org link');
        }
        await client.query('COMMIT');
        return { inserted, unchanged: links.length + orgs.length - inserted };
      } catch (err) {
        await client.query('ROLLBACK').catch(() => {});
        throw toStoreError(err, 'identity link import');
      } finally {
        client.release();
      }
    },
    async close(): Promise<void> {},
  });
}

/** Options of {@link createPostgresInvalidationChannel}. */
export interface PostgresChannelOptions {
  /** Connection settings are copied from this pool, which also sends the NOTIFYs. */
  readonly pool?: PgPool;
  /** Or a connection string (a small pool is created for NOTIFYs and ended by `close()`). */
  readonly connectionString?: string;
  /** Default {@link DEFAULT_NOTIFY_CHANNEL}: the channel the stores notify on. */
  readonly channel?: string;
  /** Wait for the first LISTEN before returning (and throw when it fails). Default true. */
  readonly waitForConnection?: boolean;
  /** Longest wait between reconnection attempts. Default 5 000 ms. */
  readonly maxReconnectDelayMs?: number;
  /** The heartbeat on the listening connection: `SELECT 1` every 250 ms, unhealthy after 1 s unanswered. */
  readonly liveness?: LivenessOptions;
  readonly onError?: (error: unknown) => void;
}

/**
 * An {@link InvalidationChannel} over PostgreSQL LISTEN/NOTIFY. One dedicated connection listens and
 * reconnects with backoff when it drops; while it is down `healthy` is false (caches shorten their
 * entries' life), and after it is back a `reset` event drops every cached entry. A connection that stops
 * answering without closing (a partition) is caught by a heartbeat on the listening connection: a
 * `SELECT 1` unanswered for `liveness.staleAfterMs` makes the channel unhealthy, an answer after such a
 * silence emits `reset`, and a silence of `liveness.reconnectAfterMs` drops the connection for a new one.
 *
 * @example
 * ```ts
 * const channel = await createPostgresInvalidationChannel({ pool: stores.pool });
 * const apiKeys = createCachedApiKeyStore({ store: stores.apiKeys, channel });
 * ```
 */
export async function createPostgresInvalidationChannel(
  options: PostgresChannelOptions,
): Promise<InvalidationChannel> {
  if (!options || (!options.pool && typeof options.connectionString !== 'string')) {
    throw new TypeError('createPostgresInvalidationChannel: pass a pool or a connectionString');
  }
  const pg = await loadPg();
  const channel = checkChannel(options.channel ?? DEFAULT_NOTIFY_CHANNEL);
  const ownedPool = !options.pool;
  const pool =
    (options.pool as Pool | undefined) ??
    new pg.Pool(ownedPoolConfig(options.connectionString as string, { max: 2 }));
  if (ownedPool) pool.on('error', (err) => options.onError?.(err));
  const clientConfig: ClientConfig = options.pool
    ? { ...(pool.options as ClientConfig) }
    : { connectionString: options.connectionString as string, connectionTimeoutMillis: 2_000 };
  const maxDelay = options.maxReconnectDelayMs ?? 5_000;
  const liveness = livenessSettings(options.liveness);
  const listeners = new Set<(event: InvalidationEvent) => void>();
  let client: PgClient | null = null;
  let healthy = false;
  let closed = false;
  let attempt = 0;
  let timer: NodeJS.Timeout | undefined;

  const emit = (event: InvalidationEvent): void => {
    for (const listener of [...listeners]) {
      try {
        listener(event);
      } catch (err) {
        options.onError?.(err);
      }
    }
  };

  const lost = (c: PgClient, err?: unknown): void => {
    if (client !== c) return;
    client = null;
    healthy = false;
    if (err) options.onError?.(err);
    c.end().catch(() => {});
    // end() waits for the server; a partitioned socket never answers, so it is torn down here.
    (c as unknown as { connection?: { stream?: { destroy?(): void } } }).connection?.stream?.destroy?.();
    schedule();
  };

  const heartbeat = startHeartbeat(
    {
      // On the listening connection itself: a stalled socket delays this answer and the NOTIFYs alike.
      ping: () => {
        const c = client;
        return c && healthy ? c.query('SELECT 1') : Promise.resolve('not listening');
      },
      onRecovered: () => emit({ type: 'reset' }),
      onDead: () => {
        if (client) lost(client, new Error('The LISTEN connection stopped answering'));
      },
    },
    liveness,
  );

  const schedule = (): void => {
    if (closed || timer) return;
    const delay = Math.min(maxDelay, 100 * 2 ** Math.min(attempt++, 10));
    timer = setTimeout(() => {
      timer = undefined;
      connect().catch(() => {});
    }, delay);
    timer.unref();
  };

  const connect = async (): Promise<void> => {
    const c = new pg.Client(clientConfig);
    client = c;
    c.on('error', (err) => lost(c, err));
    c.on('end', () => lost(c));
    c.on('notification', (msg) => {
      if (msg.channel !== channel || !msg.payload) return;
      const event = parseEvent(msg.payload);
      if (event) emit(event);
    });
    try {
      await c.connect();
      await c.query(`LISTEN ${channel}`);
    } catch (err) {
      lost(c, err);
      throw toStoreError(err, 'LISTEN');
    }
    if (client !== c || closed) return;
    attempt = 0;
    heartbeat.restart();
    healthy = true;
    emit({ type: 'reset' }); // notifications sent while we were away are lost: start from scratch
  };

  if (options.waitForConnection === false) {
    connect().catch(() => {});
  } else {
    try {
      await connect();
    } catch (err) {
      closed = true;
      heartbeat.stop();
      if (timer) clearTimeout(timer);
      if (ownedPool) await pool.end().catch(() => {});
      throw err;
    }
  }

  return Object.freeze({
    get healthy() {
      return healthy && !closed && heartbeat.alive;
    },
    async publish(event: InvalidationEvent): Promise<void> {
      try {
        await pool.query('SELECT pg_notify($1, $2)', [channel, payload(event)]);
      } catch (err) {
        throw toStoreError(err, 'NOTIFY');
      }
    },
    subscribe(listener: (event: InvalidationEvent) => void): () => void {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      healthy = false;
      heartbeat.stop();
      if (timer) clearTimeout(timer);
      listeners.clear();
      const c = client;
      client = null;
      await c?.end().catch(() => {});
      if (ownedPool) await pool.end();
    },
  });
}
