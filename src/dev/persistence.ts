import { chmodSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { JWK } from 'jose';
import type { AdapterPayload } from 'oidc-provider';
import { ConfigError } from '../core/errors';

/** One stored oidc-provider record: key, payload, expiry (epoch ms; null = none). */
export type DevRecord = [key: string, payload: AdapterPayload, expiresAt: number | null];

/**
 * Everything a restarted dev issuer needs to keep honouring what it issued before: its signing keys,
 * the service client's secret, the cookie keys (open interactions) and every grant, session and token.
 *
 * @example
 * ```ts
 * const state = readDevState('.authplane/dev'); // undefined on first start
 * ```
 */
export interface DevState {
  readonly version: 1;
  /** The issuer URL these records were issued under (tokens carry it as `iss`). */
  readonly issuer: string;
  readonly generation: number;
  readonly current: readonly JWK[];
  readonly previous: readonly JWK[];
  readonly serviceSecret: string;
  readonly cookieKeys: readonly string[];
  readonly records: readonly DevRecord[];
}

const FILE = 'state.json';
// Private keys and secrets: the directory and the file are the owner's only.
const DIR_MODE = 0o700;
const FILE_MODE = 0o600;

function isState(value: unknown): value is DevState {
  const v = value as Partial<DevState> | null;
  return (
    typeof v === 'object' &&
    v !== null &&
    v.version === 1 &&
    typeof v.issuer === 'string' &&
    typeof v.generation === 'number' &&
    Array.isArray(v.current) &&
    v.current.length > 0 &&
    Array.isArray(v.previous) &&
    typeof v.serviceSecret === 'string' &&
    Array.isArray(v.cookieKeys) &&
    v.cookieKeys.every((k) => typeof k === 'string') &&
    Array.isArray(v.records)
  );
}

/**
 * Reads the state saved in `dir`, or undefined when there is none. A file that is not a dev issuer
 * state is refused with a ConfigError naming `--reset`, never silently overwritten.
 *
 * @example
 * ```ts
 * const state = readDevState(dir);
 * ```
 */
export function readDevState(dir: string): DevState | undefined {
  let text: string;
  try {
    text = readFileSync(join(dir, FILE), 'utf8');
  } catch (err) {
    if ((err as { code?: unknown }).code === 'ENOENT') return undefined;
    throw err;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  if (!isState(parsed)) {
    throw new ConfigError(
      'stateDir',
      `${join(dir, FILE)} is not a dev issuer state file; start with --reset (or reset: true) to discard it`,
    );
  }
  return parsed;
}

/**
 * Writes the state atomically (temporary file, then rename) with owner-only permissions.
 *
 * @example
 * ```ts
 * writeDevState(dir, { version: 1, issuer, generation, current, previous, serviceSecret, cookieKeys, records });
 * ```
 */
export function writeDevState(dir: string, state: DevState): void {
  mkdirSync(dir, { recursive: true, mode: DIR_MODE });
  const tmp = join(dir, `${FILE}.${process.pid}.tmp`);
  writeFileSync(tmp, JSON.stringify(state), { mode: FILE_MODE });
  chmodSync(tmp, FILE_MODE);
  renameSync(tmp, join(dir, FILE));
}

/**
 * Deletes the saved state (`authplane dev --reset`): the next start has new keys, a new secret and
 * no grants, so everything issued before stops working.
 *
 * @example
 * ```ts
 * resetDevState('.authplane/dev');
 * ```
 */
export function resetDevState(dir: string): void {
  rmSync(join(dir, FILE), { force: true });
}

/**
 * Coalesces saves: many record writes in one request become one file write on the next turn of the
 * event loop; `flush()` writes now (on stop).
 *
 * @example
 * ```ts
 * const saver = new DevStateSaver(dir, snapshot);
 * storage.onChange = () => saver.schedule();
 * ```
 */
export class DevStateSaver {
  readonly #dir: string;
  readonly #snapshot: () => DevState;
  #pending: NodeJS.Immediate | undefined;

  constructor(dir: string, snapshot: () => DevState) {
    this.#dir = dir;
    this.#snapshot = snapshot;
  }

  schedule(): void {
    if (this.#pending) return;
    this.#pending = setImmediate(() => this.flush());
  }

  flush(): void {
    if (this.#pending) clearImmediate(this.#pending);
    this.#pending = undefined;
    writeDevState(this.#dir, this.#snapshot());
  }
}
