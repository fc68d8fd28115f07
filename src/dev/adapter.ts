import type { Adapter, AdapterPayload } from 'oidc-provider';

interface Entry {
  payload: AdapterPayload;
  /** Epoch ms; Infinity when the model has no expiry. */
  expiresAt: number;
}

// Models whose records carry a grantId and die with their grant (oidc-provider's own list).
const GRANTABLE = new Set([
  'AccessToken',
  'AuthorizationCode',
  'RefreshToken',
  'DeviceCode',
  'BackchannelAuthenticationRequest',
  'PreAuthorizedCode',
]);

/**
 * In-memory storage for oidc-provider records, shared by every Provider instance of one dev issuer so
 * that grants, sessions and refresh tokens survive a key rotation (which builds a new Provider).
 * Expiry is checked on read and swept on write: no timer keeps the process alive.
 *
 * @example
 * ```ts
 * const storage = new DevStorage();
 * new Provider(issuer, { adapter: storage.factory }); // and the next Provider after a rotation
 * ```
 */
export class DevStorage {
  readonly #entries = new Map<string, Entry>();
  readonly #byUid = new Map<string, string>();
  readonly #byUserCode = new Map<string, string>();
  readonly #byGrant = new Map<string, Set<string>>();
  #writes = 0;
  /** Called after every change (set, delete, consume): how a state file stays current. */
  onChange: (() => void) | undefined;

  /** The factory oidc-provider's `adapter` option takes. */
  readonly factory = (model: string): Adapter => new DevAdapter(model, this);

  get(key: string): AdapterPayload | undefined {
    const entry = this.#entries.get(key);
    if (!entry) return undefined;
    if (entry.expiresAt <= Date.now()) {
      this.delete(key);
      return undefined;
    }
    return entry.payload;
  }

  set(model: string, key: string, payload: AdapterPayload, expiresIn?: number): void {
    if (++this.#writes % 256 === 0) this.#sweep();
    this.delete(key);
    const expiresAt =
      typeof expiresIn === 'number' ? Date.now() + expiresIn * 1000 : Number.POSITIVE_INFINITY;
    this.#entries.set(key, { payload, expiresAt });
    if (model === 'Session' && payload.uid) this.#byUid.set(payload.uid, key);
    if (payload.userCode) this.#byUserCode.set(payload.userCode, key);
    if (GRANTABLE.has(model) && payload.grantId) {
      let members = this.#byGrant.get(payload.grantId);
      if (!members) {
        members = new Set();
        this.#byGrant.set(payload.grantId, members);
      }
      members.add(key);
    }
    this.onChange?.();
  }

  delete(key: string): void {
    const entry = this.#entries.get(key);
    if (!entry) return;
    this.#entries.delete(key);
    const { uid, userCode, grantId } = entry.payload;
    if (uid && this.#byUid.get(uid) === key) this.#byUid.delete(uid);
    if (userCode && this.#byUserCode.get(userCode) === key) this.#byUserCode.delete(userCode);
    if (grantId) {
      const members = this.#byGrant.get(grantId);
      members?.delete(key);
      if (members?.size === 0) this.#byGrant.delete(grantId);
    }
    this.onChange?.();
  }

  /** Every live record as `[key, payload, expiresAt | null]`, for a state file. */
  records(): [string, AdapterPayload, number | null][] {
    const now = Date.now();
    const out: [string, AdapterPayload, number | null][] = [];
    for (const [key, { payload, expiresAt }] of this.#entries) {
      if (expiresAt > now) out.push([key, payload, Number.isFinite(expiresAt) ? expiresAt : null]);
    }
    return out;
  }

  /** Loads records saved by `records()` (a restart); expired ones are skipped. */
  restore(records: readonly (readonly [string, AdapterPayload, number | null])[]): void {
    const now = Date.now();
    for (const [key, payload, expiresAt] of records) {
      if (expiresAt !== null && expiresAt <= now) continue;
      const model = key.slice(0, key.indexOf(':'));
      const seconds = expiresAt === null ? undefined : (expiresAt - now) / 1000;
      this.set(model, key, payload, seconds);
    }
  }

  keyByUid(uid: string): string | undefined {
    return this.#byUid.get(uid);
  }

  keyByUserCode(userCode: string): string | undefined {
    return this.#byUserCode.get(userCode);
  }

  revokeGrant(grantId: string): void {
    for (const key of [...(this.#byGrant.get(grantId) ?? [])]) this.delete(key);
    this.#byGrant.delete(grantId);
  }

  #sweep(): void {
    const now = Date.now();
    for (const [key, entry] of this.#entries) if (entry.expiresAt <= now) this.delete(key);
  }
}

class DevAdapter implements Adapter {
  readonly #model: string;
  readonly #storage: DevStorage;

  constructor(model: string, storage: DevStorage) {
    this.#model = model;
    this.#storage = storage;
  }

  #key(id: string): string {
    return `${this.#model}:${id}`;
  }

  async upsert(id: string, payload: AdapterPayload, expiresIn?: number): Promise<void> {
    this.#storage.set(this.#model, this.#key(id), payload, expiresIn);
  }

  async find(id: string): Promise<AdapterPayload | undefined> {
    return this.#storage.get(this.#key(id));
  }

  async findByUid(uid: string): Promise<AdapterPayload | undefined> {
    const key = this.#storage.keyByUid(uid);
    return key ? this.#storage.get(key) : undefined;
  }

  async findByUserCode(userCode: string): Promise<AdapterPayload | undefined> {
    const key = this.#storage.keyByUserCode(userCode);
    return key ? this.#storage.get(key) : undefined;
  }

  async consume(id: string): Promise<void> {
    const payload = this.#storage.get(this.#key(id));
    if (payload) {
      payload.consumed = Math.floor(Date.now() / 1000);
      this.#storage.onChange?.();
    }
  }

  async destroy(id: string): Promise<void> {
    this.#storage.delete(this.#key(id));
  }

  async revokeByGrantId(grantId: string): Promise<void> {
    this.#storage.revokeGrant(grantId);
  }
}
