import { createCipheriv, createDecipheriv, randomBytes, scrypt } from 'node:crypto';
import { constants } from 'node:fs';
import { link, lstat, mkdir, open, rename, unlink } from 'node:fs/promises';
import { dirname, isAbsolute, resolve } from 'node:path';
import { ConfigError } from '../core/errors';
import { ClientError } from './errors';
import { isStoredSession, normalizeSession } from './session';
import type { SessionStorage, StoredSession } from './types';

/**
 * Options of `createEncryptedFileStorage`.
 *
 * @example
 * ```ts
 * createEncryptedFileStorage({ path: join(homedir(), '.config', 'mycli', 'session'), secret: process.env.MYCLI_SESSION_SECRET });
 * ```
 */
export interface EncryptedFileStorageOptions {
  /** The session file. Its directory is created with mode 0700 when missing. */
  readonly path: string;
  /**
   * Secret the file key is derived from (a passphrase or random bytes). Default: a random 256-bit key
   * kept in `<path>.key` (mode 0600), created on the first write.
   */
  readonly secret?: string | Uint8Array;
  /** How long to wait for another process holding the lock, in ms. Default 20 000. */
  readonly lockTimeoutMs?: number;
}

// File layout: MAGIC(4) | log2(N)(1) | r(1) | p(1) | salt(16) | iv(12) | ciphertext | tag(16).
// Everything before the ciphertext is authenticated as AAD, so a tampered header fails like a tampered body.
const MAGIC = Buffer.from([0x41, 0x50, 0x53, 0x01]); // "APS" v1
const SALT_BYTES = 16;
const IV_BYTES = 12;
const TAG_BYTES = 16;
const HEADER_BYTES = MAGIC.length + 3 + SALT_BYTES + IV_BYTES;
const KEY_BYTES = 32;
const MAX_FILE_BYTES = 1 << 20;
// A random key file already has 256 bits of entropy: scrypt only has to bind it to the salt, so it
// runs cheaply (~5 ms, it is on the `authplane token` hot path). A passphrase gets a real work factor.
const LOG2N_FOR_KEY_FILE = 12;
const LOG2N_FOR_SECRET = 15;
const SCRYPT_R = 8;
const SCRYPT_P = 1;
// Bounds on what a header may ask for, so a tampered header cannot make a read allocate gigabytes.
const LOG2N_MIN = 10;
const LOG2N_MAX = 17;

const CORRUPT_HINT = 'run `authplane login --force` to replace it';

function corrupt(path: string, why: string, cause?: unknown): ClientError {
  return new ClientError('session_corrupt', `the session file ${path} ${why}: ${CORRUPT_HINT}`, { cause });
}

function deriveKey(
  secret: Uint8Array,
  salt: Uint8Array,
  log2n: number,
  r: number,
  p: number,
): Promise<Buffer> {
  const N = 2 ** log2n;
  return new Promise((resolveKey, reject) =>
    scrypt(secret, salt, KEY_BYTES, { N, r, p, maxmem: 256 * N * r }, (err, key) =>
      err ? reject(err) : resolveKey(key),
    ),
  );
}

async function fsyncDirectory(dir: string): Promise<void> {
  // Makes the rename itself durable. Not supported for directories on every platform (Windows): best effort.
  let handle: Awaited<ReturnType<typeof open>> | undefined;
  try {
    handle = await open(dir, 'r');
    await handle.sync();
  } catch {
    // ignored: the data was fsynced; only the directory entry's durability is at stake
  } finally {
    await handle?.close().catch(() => undefined);
  }
}

/** Writes `data` to a new temp file beside `target` (0600, fsynced) and returns its path. */
async function writeTemp(target: string, data: Uint8Array): Promise<string> {
  const temp = `${target}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`;
  const handle = await open(temp, 'wx', 0o600);
  try {
    await handle.writeFile(data);
    await handle.sync();
  } catch (err) {
    await handle.close().catch(() => undefined);
    await unlink(temp).catch(() => undefined);
    throw err;
  }
  await handle.close();
  return temp;
}

/** Replaces `target` atomically: write temp + fsync + rename + fsync directory. */
async function atomicReplace(target: string, data: Uint8Array): Promise<void> {
  const temp = await writeTemp(target, data);
  try {
    await rename(temp, target);
  } catch (err) {
    await unlink(temp).catch(() => undefined);
    throw err;
  }
  await fsyncDirectory(dirname(target));
}

async function ensureDirectory(dir: string): Promise<void> {
  // Created directories get 0700; an existing one must be trusted (never a symlink, ours, not
  // writable by others): whoever can write there can plant a key file or swap the session.
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await assertTrusted(dir, 'session directory');
}

/** The current user's id, or undefined where there are no POSIX owners (Windows). */
const currentUid = (): number | undefined =>
  typeof process.getuid === 'function' ? process.getuid() : undefined;

function insecure(what: string, path: string, why: string): ClientError {
  return new ClientError(
    'session_insecure',
    `refusing to use the ${what} ${path}: ${why}. Fix it (chown to you, chmod go-w, no symbolic link) or remove it`,
  );
}

/** Refuses a symbolic link, a foreign owner, or write access for group/others (as ssh does for ~/.ssh). */
function checkStat(what: string, path: string, st: { uid: number; mode: number }): void {
  const uid = currentUid();
  if (uid === undefined) return;
  if (st.uid !== uid) throw insecure(what, path, `it is owned by uid ${st.uid}, not by you (uid ${uid})`);
  if ((st.mode & 0o022) !== 0) throw insecure(what, path, 'it is writable by group or others');
}

/** Checks a path that may not exist yet (absent is fine: it will be created here, safely). */
async function assertTrusted(path: string, what: string): Promise<void> {
  let st: Awaited<ReturnType<typeof lstat>>;
  try {
    st = await lstat(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw err;
  }
  if (st.isSymbolicLink()) throw insecure(what, path, 'it is a symbolic link');
  checkStat(what, path, { uid: Number(st.uid), mode: Number(st.mode) });
}

/**
 * Reads a file without following a symbolic link (O_NOFOLLOW) and checks the opened file itself, so
 * nothing can be swapped between the check and the read.
 */
async function readIfExists(path: string, what = 'session file'): Promise<Buffer | null> {
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(path, constants.O_RDONLY | (constants.O_NOFOLLOW ?? 0));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return null;
    if (code === 'ELOOP') throw insecure(what, path, 'it is a symbolic link');
    throw err;
  }
  try {
    const st = await handle.stat();
    checkStat(what, path, st);
    return await handle.readFile();
  } finally {
    await handle.close();
  }
}

function parseKeyFile(data: Buffer): Buffer | null {
  const text = data.toString('utf8').trim();
  if (!/^[A-Za-z0-9_-]{43}$/.test(text)) return null;
  const key = Buffer.from(text, 'base64url');
  return key.length === KEY_BYTES ? key : null;
}

/**
 * A session storage in one encrypted file, the same on every OS (no OS keychain):
 *
 * - AES-256-GCM with a fresh 96-bit IV per write; the header (format, scrypt parameters, salt, IV) is
 *   authenticated too. The key is derived with scrypt from the secret and a random per-store salt kept
 *   in the header.
 * - The secret is `options.secret`, or by default a random 256-bit key in `<path>.key` (mode 0600).
 *   **Threat model**: with the default key file, the encryption protects the session file on its own
 *   (copied into a backup, a sync folder, a bug report, a dotfiles repository); it does not protect
 *   against a local attacker running as the same user, who can read the key file too. Pass a `secret`
 *   kept elsewhere (an environment variable, a secret manager) to separate the two.
 * - The file is mode 0600, its directory 0700 when created here. Every write is atomic (temp file,
 *   fsync, rename, fsync directory): a crash or `kill -9` leaves the old or the new session, never a
 *   torn one.
 * - A corrupt or tampered file is reported as `ClientError('session_corrupt')` ("run `authplane login
 *   --force`"), never a crash.
 * - `withLock` is a lock file (`<path>.lock`, proper-lockfile) shared by every process using the file.
 * - Nothing found there is trusted blindly: a session directory, key file, session file or lock that
 *   is a symbolic link, is owned by another user, or is writable by group or others is refused with
 *   `ClientError('session_insecure')` naming the path (as ssh refuses such a ~/.ssh). Files are opened
 *   with O_NOFOLLOW and checked through the open handle.
 *
 * @example
 * ```ts
 * const storage = createEncryptedFileStorage({ path: join(homedir(), '.config', 'mycli', 'session') });
 * const tokens = createTokenManager({ issuer: 'https://id.example.com', clientId: 'mycli', storage });
 * ```
 */
export function createEncryptedFileStorage(options: EncryptedFileStorageOptions): SessionStorage {
  if (typeof options?.path !== 'string' || options.path.trim() === '') {
    throw new ConfigError('path', 'must be a file path');
  }
  const path = isAbsolute(options.path) ? options.path : resolve(options.path);
  const keyPath = `${path}.key`;
  const lockPath = `${path}.lock`;
  const secret =
    options.secret === undefined
      ? undefined
      : typeof options.secret === 'string'
        ? Buffer.from(options.secret, 'utf8')
        : Buffer.from(options.secret);
  if (secret !== undefined && secret.length === 0) throw new ConfigError('secret', 'must not be empty');
  const lockTimeoutMs = options.lockTimeoutMs ?? 20_000;
  if (!Number.isSafeInteger(lockTimeoutMs) || lockTimeoutMs <= 0) {
    throw new ConfigError('lockTimeoutMs', 'must be a positive integer');
  }
  const derived = new Map<string, Promise<Buffer>>();

  const keyFor = (material: Buffer, salt: Buffer, log2n: number, r: number, p: number): Promise<Buffer> => {
    const id = `${material.toString('hex')}:${salt.toString('hex')}:${log2n}:${r}:${p}`;
    let key = derived.get(id);
    if (!key) {
      key = deriveKey(material, salt, log2n, r, p);
      derived.set(id, key);
      key.catch(() => derived.delete(id));
    }
    return key;
  };

  /** The secret material: the option, or the key file (created on write when missing or unusable). */
  const material = async (create: boolean): Promise<Buffer | null> => {
    if (secret) return secret;
    const existing = await readIfExists(keyPath, 'key file');
    const parsed = existing ? parseKeyFile(existing) : null;
    if (parsed || !create) {
      if (!parsed && existing) throw corrupt(path, 'has an unreadable key file');
      return parsed;
    }
    const fresh = randomBytes(KEY_BYTES);
    const data = Buffer.from(`${fresh.toString('base64url')}\n`);
    if (existing) {
      // Writes happen under the lock: replacing an unusable key file cannot race another writer.
      await atomicReplace(keyPath, data);
      return fresh;
    }
    // link() is atomic and fails on EEXIST: when two processes create the key at once, one wins and
    // the other adopts its key.
    const temp = await writeTemp(keyPath, data);
    try {
      await link(temp, keyPath);
      await fsyncDirectory(dirname(keyPath));
      return fresh;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      const winner = parseKeyFile((await readIfExists(keyPath, 'key file')) ?? Buffer.alloc(0));
      if (!winner) throw corrupt(path, 'has an unreadable key file', err);
      return winner;
    } finally {
      await unlink(temp).catch(() => undefined);
    }
  };

  let lastSalt: Buffer | undefined;

  const read = async (): Promise<StoredSession | null> => {
    let data: Buffer | null;
    try {
      await assertTrusted(dirname(path), 'session directory');
      data = await readIfExists(path);
    } catch (err) {
      if (err instanceof ClientError) throw err;
      throw corrupt(path, `cannot be read (${(err as NodeJS.ErrnoException).code ?? 'error'})`, err);
    }
    if (data === null) return null;
    if (data.length < HEADER_BYTES + TAG_BYTES || data.length > MAX_FILE_BYTES) {
      throw corrupt(path, 'is truncated or not a session file');
    }
    if (!data.subarray(0, MAGIC.length).equals(MAGIC))
      throw corrupt(path, 'is not an authplane session file');
    const log2n = data[4] ?? 0;
    const r = data[5] ?? 0;
    const p = data[6] ?? 0;
    if (log2n < LOG2N_MIN || log2n > LOG2N_MAX || r < 1 || r > 16 || p < 1 || p > 4) {
      throw corrupt(path, 'has an invalid header');
    }
    const salt = data.subarray(7, 7 + SALT_BYTES);
    const iv = data.subarray(7 + SALT_BYTES, HEADER_BYTES);
    const secretMaterial = await material(false);
    if (!secretMaterial) throw corrupt(path, `cannot be decrypted: its key file ${keyPath} is missing`);
    let plain: Buffer;
    try {
      const key = await keyFor(secretMaterial, Buffer.from(salt), log2n, r, p);
      const decipher = createDecipheriv('aes-256-gcm', key, iv);
      decipher.setAAD(data.subarray(0, HEADER_BYTES));
      decipher.setAuthTag(data.subarray(data.length - TAG_BYTES));
      plain = Buffer.concat([
        decipher.update(data.subarray(HEADER_BYTES, data.length - TAG_BYTES)),
        decipher.final(),
      ]);
    } catch (err) {
      throw corrupt(path, 'cannot be decrypted (tampered, or encrypted with another key)', err);
    }
    let value: unknown;
    try {
      value = JSON.parse(plain.toString('utf8'));
    } catch (err) {
      throw corrupt(path, 'does not contain a session', err);
    }
    if (!isStoredSession(value)) throw corrupt(path, 'does not contain a valid session');
    lastSalt = Buffer.from(salt);
    return normalizeSession(value);
  };

  const write = async (session: StoredSession): Promise<void> => {
    if (!isStoredSession(session)) throw new TypeError('not a valid session');
    await ensureDirectory(dirname(path));
    const secretMaterial = (await material(true)) as Buffer;
    const log2n = secret ? LOG2N_FOR_SECRET : LOG2N_FOR_KEY_FILE;
    // The salt is per store: kept from the file when known (its derived key is cached), new otherwise.
    const salt = lastSalt ?? randomBytes(SALT_BYTES);
    const iv = randomBytes(IV_BYTES);
    const header = Buffer.concat([MAGIC, Buffer.from([log2n, SCRYPT_R, SCRYPT_P]), salt, iv]);
    const key = await keyFor(secretMaterial, salt, log2n, SCRYPT_R, SCRYPT_P);
    const cipher = createCipheriv('aes-256-gcm', key, iv);
    cipher.setAAD(header);
    const body = Buffer.concat([
      cipher.update(Buffer.from(JSON.stringify(normalizeSession(session)), 'utf8')),
      cipher.final(),
    ]);
    await atomicReplace(path, Buffer.concat([header, body, cipher.getAuthTag()]));
    lastSalt = salt;
  };

  const clear = async (): Promise<void> => {
    try {
      await unlink(path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    await fsyncDirectory(dirname(path));
    lastSalt = undefined;
  };

  const withLock = async <T>(fn: () => Promise<T>): Promise<T> => {
    await ensureDirectory(dirname(path));
    // The lock (a directory proper-lockfile creates) is trusted only when it is ours and not a link.
    await assertTrusted(lockPath, 'session lock');
    // Loaded on first use: `authplane token` with a fresh session never locks, and pays nothing for it.
    const mod = await import('proper-lockfile');
    // CommonJS module: its functions are on `default` under ESM, on the namespace under tsx/CJS.
    const lockfile: typeof import('proper-lockfile') = mod.default ?? mod;
    const started = Date.now();
    let release: () => Promise<void>;
    for (;;) {
      try {
        release = await lockfile.lock(path, {
          lockfilePath: lockPath,
          realpath: false,
          // A holder killed with -9 stops refreshing the lock's mtime; it is taken over after `stale`.
          stale: 10_000,
          retries: 0,
          // The default throws from a timer (crashing the process); a compromised lock only means
          // another process may write too, and every write is atomic anyway.
          onCompromised: () => undefined,
        });
        break;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code !== 'ELOCKED') throw err;
        if (Date.now() - started > lockTimeoutMs) {
          throw new ClientError('session_locked', `timed out waiting for the session lock ${lockPath}`, {
            cause: err,
          });
        }
        await new Promise((r) => setTimeout(r, 10 + Math.random() * 40));
      }
    }
    try {
      return await fn();
    } finally {
      await release().catch(() => undefined);
    }
  };

  return { location: path, read, write, clear, withLock };
}
