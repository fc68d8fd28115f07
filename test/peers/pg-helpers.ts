import { randomBytes } from 'node:crypto';
import pg from 'pg';

export const DATABASE_URL = process.env.DATABASE_URL;
export const REDIS_URL = process.env.REDIS_URL;

/** A schema name unique to this test run, so parallel runs and files never collide. */
export const testSchema = (label: string): string => `ap_${label}_${randomBytes(4).toString('hex')}`;

/** Drops a per-run schema (and everything in it). */
export async function dropSchema(schema: string): Promise<void> {
  const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 1 });
  try {
    await pool.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  } finally {
    await pool.end();
  }
}
