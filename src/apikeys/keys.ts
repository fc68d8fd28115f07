import { createHash, timingSafeEqual } from 'node:crypto';
import { DEFAULT_HOOK_TIMEOUT_MS, isHookTimeout, withDeadline } from '../core/deadline';
import { AuthplaneError, ConfigError } from '../core/errors';
import { AuthRejection, type AuthResult, failureFromError } from '../core/failure';
import { freezePrincipal, type Principal } from '../core/principal';
import type { Reason } from '../core/reasons';
import { newTraceId } from '../core/trace';
import type { AdapterContext, IdentityAdapter } from '../identity/types';
import type { ApiKeyFilter, ApiKeyRecord, ApiKeyStore } from '../stores/contracts';
import { unavailable } from '../stores/errors';
import { generateApiKey, hashApiKey, isValidPrefix, parseApiKey } from './format';

/**
 * Why a key management call (`issue`, `revoke`, `rotate`) was refused. Verification never throws
 * this: it throws `AuthRejection` with a reason code.
 *
 * @example
 * ```ts
 * try { await keys.revoke(id); } catch (e) { if (e instanceof ApiKeyError && e.code === 'api_key_not_found') … }
 * ```
 */
export class ApiKeyError extends AuthplaneError {
  declare readonly code: 'api_key_not_found' | 'api_key_not_active' | 'api_key_input_invalid';
}

/**
 * A key as shown to people and tools: the stored record without its hash, with a computed status.
 *
 * @example
 * ```ts
 * for (const k of await keys.list({ orgId })) console.log(k.id, k.name, k.status, k.lastUsedAt);
 * ```
 */
export interface ApiKeyInfo {
  readonly id: string;
  readonly prefix: string;
  readonly ownerId: string;
  readonly orgId: string;
  readonly scopes: readonly string[];
  readonly name: string | null;
  readonly status: 'active' | 'revoked' | 'expired';
  readonly createdAt: Date;
  readonly expiresAt: Date | null;
  readonly revokedAt: Date | null;
  readonly lastUsedAt: Date | null;
  readonly replacedBy: string | null;
}

/**
 * What `issue` and `rotate` return. `key` is the only copy of the full key: show it once, never log it.
 *
 * @example
 * ```ts
 * const { key, record } = await keys.issue({ ownerId, orgId, scopes: ['sync:write'] });
 * ```
 */
export interface IssuedApiKey {
  readonly key: string;
  readonly record: ApiKeyInfo;
}

/**
 * Input of `issue`.
 *
 * @example
 * ```ts
 * const input: IssueApiKeyInput = { ownerId: 'usr_1', orgId: 'org_1', scopes: ['ci:deploy'], name: 'GitHub Actions' };
 * ```
 */
export interface IssueApiKeyInput {
  readonly ownerId: string;
  readonly orgId: string;
  /** Explicit scopes (RFC 6749 scope tokens). A key has exactly these, never more. */
  readonly scopes: readonly string[];
  readonly expiresAt?: Date | null;
  readonly name?: string | null;
}

/**
 * What a `legacyVerifier` returns to refuse a key with a reason rather than "unknown".
 *
 * @example
 * ```ts
 * if (row.revoked) return { reason: 'api_key_revoked' } satisfies LegacyKeyRefusal;
 * ```
 */
export interface LegacyKeyRefusal {
  readonly reason: 'api_key_invalid' | 'api_key_revoked' | 'api_key_expired' | 'subject_inactive';
}

const LEGACY_REFUSALS: ReadonlySet<string> = new Set([
  'api_key_invalid',
  'api_key_revoked',
  'api_key_expired',
  'subject_inactive',
]);

/** Options of {@link createApiKeys}. Validated once, at construction. */
export interface ApiKeysOptions {
  readonly store: ApiKeyStore;
  /** Prefix of issued keys (`ap_live`, `ap_test`). */
  readonly prefix: string;
  /** Prefixes verify accepts. Default: only `prefix`, so a test key is refused by a live service. */
  readonly acceptedPrefixes?: readonly string[];
  /**
   * `(ownerId, orgId) => boolean`: is the key's OWNER (a user id string) still a member of the key's
   * org? Re-checked at every verify: removing someone from the org kills their keys at once. A throw is
   * `provider_unavailable`, never an accept; so is no answer within `hookTimeoutMs` (`signal` aborts then). Not the authorizer's hook: `createAuthorizer({ isMember })`
   * takes `(principal, orgId, ctx)` and answers whether a user may act on ANOTHER org than their token's.
   *
   * @example
   * ```ts
   * createApiKeys({ store, prefix: 'ap_live', isMember: (ownerId, orgId) => directory.has(ownerId, orgId) });
   * ```
   */
  readonly isMember?: (
    ownerId: string,
    orgId: string,
    context: { readonly signal: AbortSignal },
  ) => boolean | Promise<boolean>;
  /**
   * Verifies keys issued before authplane (an existing table). Called only for credentials that do not
   * have the authplane key shape. Contract:
   *
   * - a `Principal` accepts the key; its `providerSubject` must identify the key WITHOUT secret material
   *   (the table's prefix or row id, never the stored hash); an `expiresAt` in the past is refused as
   *   `api_key_expired` whatever the hook says; `orgId` and scopes are re-checked as for own keys;
   * - `null` means unknown key (`api_key_invalid`);
   * - `{ reason }` (or a thrown `AuthRejection`) refuses with that reason: `api_key_invalid`,
   *   `api_key_revoked`, `api_key_expired` or `subject_inactive` (any other value is `api_key_invalid`);
   * - any other throw, or no answer within `hookTimeoutMs`, is an outage: `provider_unavailable`
   *   (503), never an accept. `signal` aborts at the deadline.
   */
  readonly legacyVerifier?: (
    key: string,
    context: { readonly signal: AbortSignal },
  ) => Promise<Principal | LegacyKeyRefusal | null>;
  /** Deadline of `isMember` and `legacyVerifier`, in ms (the authorizer's hook deadline). Default 2000. */
  readonly hookTimeoutMs?: number;
  /** Which non-authplane credentials are legacy keys, for routing by `matches()`. */
  readonly isLegacyKey?: (credential: string) => boolean;
  /** How often buffered last-used times are written, in ms. Default 60 000. */
  readonly lastUsedFlushMs?: number;
  /** Buffered last-used entries that trigger an early flush. Default 10 000. */
  readonly maxPendingUsage?: number;
  /** `Principal.provider` of key principals. Default `api_key`. */
  readonly provider?: string;
  /** Receives last-used flush failures (best effort: they never fail a request). */
  readonly onError?: (error: unknown) => void;
  /** Test seam: epoch milliseconds. */
  readonly clock?: () => number;
}

/**
 * Per-call options of `verify`.
 *
 * @example
 * ```ts
 * await keys.verify(key, { requiredScopes: ['sync:write'] });
 * ```
 */
export interface ApiKeyVerifyOptions {
  /** Every one of these must be among the key's scopes, else `scope_insufficient` (403). */
  readonly requiredScopes?: readonly string[];
}

/**
 * Scoped API keys: issue, verify, list, revoke, rotate.
 *
 * @example
 * ```ts
 * const keys = createApiKeys({ store, prefix: 'ap_live', isMember: (u, o) => directory.has(u, o) });
 * const result = await keys.verify(key, { requiredScopes: ['sync:write'] }); // AuthResult, never throws
 * if (result.ok) result.principal.kind; // 'api_key'
 * ```
 */
export interface ApiKeys {
  /** `Principal.provider` of key principals. */
  readonly provider: string;
  /** Creates a key. The full key is in the result only: store and show it once. */
  issue(input: IssueApiKeyInput): Promise<IssuedApiKey>;
  /**
   * Verifies a key: `{ ok: true, principal }`, or a failure with `api_key_invalid`, `api_key_revoked`,
   * `api_key_expired`, `org_membership_missing`, `scope_insufficient` or `provider_unavailable`
   * (store or hook failure). Never throws for a bad key.
   */
  verify(key: string, options?: ApiKeyVerifyOptions & { traceId?: string }): Promise<AuthResult>;
  /** `verify` for verification pipelines: the frozen principal, or a thrown `AuthRejection`. */
  verifyPrincipal(key: string, options?: ApiKeyVerifyOptions): Promise<Principal>;
  /** Whether to route a credential here: the authplane key shape (a foreign prefix is then refused as
   * `api_key_invalid`), or a legacy key recognised by `isLegacyKey`. */
  matches(credential: string): boolean;
  /** This service as an identity adapter, for planes that route key-shaped credentials to it. */
  adapter(): IdentityAdapter;
  get(id: string): Promise<ApiKeyInfo | null>;
  list(filter: ApiKeyFilter): Promise<ApiKeyInfo[]>;
  /** Revokes at once (idempotent). */
  revoke(id: string): Promise<ApiKeyInfo>;
  /** A new key with the same owner, org, scopes and name; the old one keeps working for `overlapSec`. */
  rotate(
    id: string,
    options: { overlapSec: number; expiresAt?: Date | null },
  ): Promise<IssuedApiKey & { readonly previous: ApiKeyInfo }>;
  /** Writes buffered last-used times now. */
  flush(): Promise<void>;
  /** Flushes and stops the flush timer. Does not close the store (its owner does). */
  close(): Promise<void>;
}

// RFC 6749 §3.3 scope-token: %x21 / %x23-5B / %x5D-7E.
const SCOPE_TOKEN = /^[\x21\x23-\x5b\x5d-\x7e]{1,128}$/;
const MAX_ID = 256;
// Bound on what verify will even look at: a legacy key may be longer than ours, but not unbounded.
const MAX_CREDENTIAL = 1024;
const KEY_SHAPE = /^[a-z][a-z0-9_]*_[0-9A-Za-z]{16}_[0-9A-Za-z]{38}$/;

/**
 * Creates the API key service over a store.
 *
 * @example
 * ```ts
 * const keys = createApiKeys({
 *   store: createCachedApiKeyStore({ store: pg.apiKeys, channel }),
 *   prefix: 'ap_live',
 *   isMember: (ownerId, orgId) => directory.isMember(ownerId, orgId),
 * });
 * const { key, record } = await keys.issue({ ownerId: 'usr_1', orgId: 'org_1', scopes: ['sync:write'] });
 * const result = await keys.verify(key); // result.ok && result.principal.kind === 'api_key'
 * ```
 */
export function createApiKeys(options: ApiKeysOptions): ApiKeys {
  const config = validate(options);
  const { store, prefix, isMember, legacyVerifier, isLegacyKey, clock, provider, onError, hookTimeoutMs } =
    config;
  const accepted = new Set(config.acceptedPrefixes);
  const acceptedStarts = config.acceptedPrefixes.map((p) => `${p}_`);

  // Last-used times: one map write per verify, one batched store write per interval (or when full).
  let pending = new Map<string, number>();
  let flushing: Promise<void> | null = null;
  let closed = false;
  const flush = async (): Promise<void> => {
    if (flushing) await flushing;
    if (pending.size === 0) return;
    const batch = pending;
    pending = new Map();
    flushing = store
      .touch([...batch].map(([id, at]) => ({ id, lastUsedAt: new Date(at) })))
      .catch((err: unknown) => onError?.(err))
      .finally(() => {
        flushing = null;
      });
    await flushing;
  };
  const timer = setInterval(() => void flush(), config.lastUsedFlushMs);
  timer.unref(); // never keeps a process alive

  const info = (r: ApiKeyRecord, now: number = clock()): ApiKeyInfo => {
    const buffered = pending.get(r.id);
    const lastUsed = Math.max(r.lastUsedAt?.getTime() ?? 0, buffered ?? 0);
    return Object.freeze({
      id: r.id,
      prefix: r.prefix,
      ownerId: r.ownerId,
      orgId: r.orgId,
      scopes: Object.freeze([...r.scopes]),
      name: r.name,
      status: r.revokedAt ? 'revoked' : r.expiresAt && r.expiresAt.getTime() <= now ? 'expired' : 'active',
      createdAt: new Date(r.createdAt.getTime()),
      expiresAt: r.expiresAt ? new Date(r.expiresAt.getTime()) : null,
      revokedAt: r.revokedAt ? new Date(r.revokedAt.getTime()) : null,
      lastUsedAt: lastUsed > 0 ? new Date(lastUsed) : null,
      replacedBy: r.replacedBy,
    });
  };

  const checkMembership = async (ownerId: string, orgId: string): Promise<void> => {
    if (!isMember) return;
    let member: boolean;
    try {
      member =
        (await withDeadline('isMember', hookTimeoutMs, (signal) => isMember(ownerId, orgId, { signal }))) ===
        true;
    } catch (err) {
      throw unavailable(err, 'membership directory');
    }
    if (!member) throw new AuthRejection('org_membership_missing');
  };

  const checkScopes = (granted: readonly string[], required: readonly string[] | undefined): void => {
    if (!required || required.length === 0) return;
    for (const scope of required) {
      if (!granted.includes(scope)) {
        throw new AuthRejection('scope_insufficient', undefined, { scope: [...required] });
      }
    }
  };

  const verifyLegacy = async (
    key: string,
    verifyOptions: ApiKeyVerifyOptions | undefined,
  ): Promise<Principal> => {
    if (!legacyVerifier) throw new AuthRejection('api_key_invalid');
    let answer: Principal | LegacyKeyRefusal | null;
    try {
      answer = await withDeadline('legacyVerifier', hookTimeoutMs, (signal) =>
        legacyVerifier(key, { signal }),
      );
    } catch (err) {
      throw unavailable(err, 'legacy API key verifier');
    }
    if (answer && typeof answer === 'object' && !('subject' in answer) && 'reason' in answer) {
      const reason = (answer as { reason: unknown }).reason;
      throw new AuthRejection(
        typeof reason === 'string' && LEGACY_REFUSALS.has(reason) ? (reason as Reason) : 'api_key_invalid',
      );
    }
    const principal = answer as Principal | null;
    if (!principal || typeof principal !== 'object' || typeof principal.subject !== 'string') {
      throw new AuthRejection('api_key_invalid');
    }
    const frozen = Object.isFrozen(principal) ? principal : freezePrincipal(principal);
    // A hook that forgot its own expiry check cannot let an expired key in.
    const expiresAt = frozen.expiresAt;
    if (expiresAt instanceof Date && !(expiresAt.getTime() > clock()))
      throw new AuthRejection('api_key_expired');
    if (frozen.orgId !== null) await checkMembership(frozen.subject, frozen.orgId);
    checkScopes(frozen.scopes, verifyOptions?.requiredScopes);
    return frozen;
  };

  const verifyPrincipal = async (key: string, verifyOptions?: ApiKeyVerifyOptions): Promise<Principal> => {
    if (typeof key !== 'string' || key.length === 0 || key.length > MAX_CREDENTIAL) {
      throw new AuthRejection('api_key_invalid');
    }
    const parsed = parseApiKey(key);
    // A credential of our shape with a wrong checksum or a foreign prefix is refused here, before any
    // lookup: typos and forgeries cost no I/O. Only credentials of another shape go to the legacy hook.
    if (!parsed) {
      if (looksLikeOurs(key)) throw new AuthRejection('api_key_invalid');
      return verifyLegacy(key, verifyOptions);
    }
    if (!accepted.has(parsed.prefix)) throw new AuthRejection('api_key_invalid');

    let record: ApiKeyRecord | null;
    try {
      record = await store.findById(parsed.id);
    } catch (err) {
      throw unavailable(err, 'API key store');
    }
    if (!record || !hashMatches(key, record.hash)) throw new AuthRejection('api_key_invalid');
    const now = clock();
    if (record.revokedAt) throw new AuthRejection('api_key_revoked');
    if (record.expiresAt && record.expiresAt.getTime() <= now) throw new AuthRejection('api_key_expired');
    await checkMembership(record.ownerId, record.orgId);
    checkScopes(record.scopes, verifyOptions?.requiredScopes);

    if (!closed) {
      pending.set(record.id, now);
      if (pending.size >= config.maxPendingUsage) void flush();
    }
    return freezePrincipal({
      subject: record.ownerId,
      providerSubject: record.id,
      provider,
      kind: 'api_key',
      orgId: record.orgId,
      roles: [],
      scopes: record.scopes,
      sessionId: null,
      expiresAt: record.expiresAt,
      authMethod: 'api_key',
      claims: {
        key_id: record.id,
        owner_id: record.ownerId,
        org_id: record.orgId,
        scope: record.scopes.join(' '),
        ...(record.name !== null ? { name: record.name } : {}),
      },
    });
  };

  // Our shape with any prefix, or anything starting with an accepted prefix: never sent to the legacy hook.
  const looksLikeOurs = (credential: string): boolean =>
    acceptedStarts.some((p) => credential.startsWith(p)) || KEY_SHAPE.test(credential);

  const issue = async (input: IssueApiKeyInput): Promise<IssuedApiKey> => {
    const now = clock();
    const clean = checkIssueInput(input, now);
    const { key, id } = generateApiKey(prefix);
    const record: ApiKeyRecord = {
      id,
      hash: hashApiKey(key),
      prefix,
      ownerId: clean.ownerId,
      orgId: clean.orgId,
      scopes: clean.scopes,
      name: clean.name,
      createdAt: new Date(now),
      expiresAt: clean.expiresAt,
      revokedAt: null,
      lastUsedAt: null,
      replacedBy: null,
    };
    await store.insert(record);
    return Object.freeze({ key, record: info(record, now) });
  };

  const findOrThrow = async (id: string): Promise<ApiKeyRecord> => {
    if (typeof id !== 'string' || id.length === 0 || id.length > MAX_ID) {
      throw new ApiKeyError('api_key_not_found', 'No API key has this id');
    }
    const record = await store.findById(id);
    if (!record) throw new ApiKeyError('api_key_not_found', 'No API key has this id');
    return record;
  };

  const service: ApiKeys = {
    provider,
    issue,
    verifyPrincipal,
    async verify(key, verifyOptions = {}): Promise<AuthResult> {
      const traceId = verifyOptions.traceId ?? newTraceId();
      try {
        return { ok: true, principal: await verifyPrincipal(key, verifyOptions), traceId };
      } catch (err) {
        return { ok: false, failure: failureFromError(err, { traceId, provider }) };
      }
    },
    matches(credential: string): boolean {
      if (typeof credential !== 'string') return false;
      if (parseApiKey(credential) !== null || looksLikeOurs(credential)) return true;
      return isLegacyKey?.(credential) === true;
    },
    adapter(): IdentityAdapter {
      return Object.freeze({
        name: provider,
        verify: (token: string, _context: AdapterContext) => verifyPrincipal(token),
        close: () => service.close(),
      });
    },
    async get(id: string): Promise<ApiKeyInfo | null> {
      const record = await store.findById(id);
      return record ? info(record) : null;
    },
    async list(filter: ApiKeyFilter): Promise<ApiKeyInfo[]> {
      if (!filter || typeof filter !== 'object' || !('orgId' in filter || 'ownerId' in filter)) {
        throw new ApiKeyError('api_key_input_invalid', 'list needs { orgId } or { ownerId }');
      }
      const now = clock();
      return (await store.list(filter)).map((r) => info(r, now));
    },
    async revoke(id: string): Promise<ApiKeyInfo> {
      const record = await findOrThrow(id);
      if (record.revokedAt) return info(record);
      const updated = await store.update(id, { revokedAt: new Date(clock()) });
      if (!updated) throw new ApiKeyError('api_key_not_found', 'No API key has this id');
      return info(updated);
    },
    async rotate(id, rotateOptions) {
      const overlapSec = rotateOptions?.overlapSec;
      if (typeof overlapSec !== 'number' || !Number.isFinite(overlapSec) || overlapSec < 0) {
        throw new ApiKeyError('api_key_input_invalid', 'overlapSec must be a number of seconds >= 0');
      }
      const old = await findOrThrow(id);
      const now = clock();
      if (old.revokedAt || (old.expiresAt && old.expiresAt.getTime() <= now)) {
        throw new ApiKeyError('api_key_not_active', 'Only an active API key can be rotated');
      }
      if (old.replacedBy) {
        throw new ApiKeyError('api_key_not_active', 'This API key was already rotated: rotate its successor');
      }
      // The successor is stored before the old key is shortened: a failure in between leaves two valid
      // keys (retry the rotation), never none.
      const issued = await issue({
        ownerId: old.ownerId,
        orgId: old.orgId,
        scopes: old.scopes,
        name: old.name,
        expiresAt: rotateOptions.expiresAt !== undefined ? rotateOptions.expiresAt : old.expiresAt,
      });
      const overlapEnd = now + Math.round(overlapSec * 1000);
      const end = old.expiresAt ? Math.min(old.expiresAt.getTime(), overlapEnd) : overlapEnd;
      const previous = await store.update(id, { expiresAt: new Date(end), replacedBy: issued.record.id });
      if (!previous) throw new ApiKeyError('api_key_not_found', 'No API key has this id');
      return Object.freeze({ ...issued, previous: info(previous) });
    },
    flush,
    async close(): Promise<void> {
      closed = true;
      clearInterval(timer);
      await flush();
    },
  };
  return Object.freeze(service);
}

function hashMatches(key: string, storedHex: string): boolean {
  const expected = Buffer.from(storedHex, 'hex');
  // The raw digest: the same bytes as hashApiKey(key) without a hex round trip on the hot path.
  const actual = createHash('sha256').update(key).digest();
  // timingSafeEqual needs equal lengths; a malformed stored hash simply never matches.
  return expected.length === actual.length && timingSafeEqual(expected, actual);
}

interface ValidConfig {
  store: ApiKeyStore;
  prefix: string;
  acceptedPrefixes: readonly string[];
  isMember: ApiKeysOptions['isMember'];
  legacyVerifier: ApiKeysOptions['legacyVerifier'];
  hookTimeoutMs: number;
  isLegacyKey: ApiKeysOptions['isLegacyKey'];
  lastUsedFlushMs: number;
  maxPendingUsage: number;
  provider: string;
  onError: ApiKeysOptions['onError'];
  clock: () => number;
}

function validate(options: ApiKeysOptions): ValidConfig {
  if (!options || typeof options !== 'object')
    throw new ConfigError('', 'createApiKeys needs an options object');
  const { store } = options;
  for (const method of ['insert', 'findById', 'list', 'update', 'touch'] as const) {
    if (!store || typeof store[method] !== 'function')
      throw new ConfigError('store', `must implement ${method}()`);
  }
  if (!isValidPrefix(options.prefix)) {
    throw new ConfigError('prefix', 'must be lowercase words joined by "_" (e.g. ap_live), 2-32 characters');
  }
  const acceptedPrefixes = options.acceptedPrefixes ?? [options.prefix];
  if (
    !Array.isArray(acceptedPrefixes) ||
    acceptedPrefixes.length === 0 ||
    !acceptedPrefixes.every(isValidPrefix)
  ) {
    throw new ConfigError('acceptedPrefixes', 'must be a non-empty list of valid prefixes');
  }
  for (const name of ['isMember', 'legacyVerifier', 'isLegacyKey', 'onError', 'clock'] as const) {
    if (options[name] !== undefined && typeof options[name] !== 'function') {
      throw new ConfigError(name, 'must be a function');
    }
  }
  const lastUsedFlushMs = options.lastUsedFlushMs ?? 60_000;
  if (!Number.isFinite(lastUsedFlushMs) || lastUsedFlushMs < 10) {
    throw new ConfigError('lastUsedFlushMs', 'must be a number of milliseconds >= 10');
  }
  const maxPendingUsage = options.maxPendingUsage ?? 10_000;
  if (!Number.isSafeInteger(maxPendingUsage) || maxPendingUsage < 1) {
    throw new ConfigError('maxPendingUsage', 'must be a positive integer');
  }
  const hookTimeoutMs = options.hookTimeoutMs ?? DEFAULT_HOOK_TIMEOUT_MS;
  if (!isHookTimeout(hookTimeoutMs)) {
    throw new ConfigError('hookTimeoutMs', 'must be a positive integer of milliseconds, at most 60000');
  }
  const provider = options.provider ?? 'api_key';
  if (typeof provider !== 'string' || provider.length === 0) {
    throw new ConfigError('provider', 'must be a non-empty string');
  }
  return {
    store,
    prefix: options.prefix,
    acceptedPrefixes: Object.freeze([...acceptedPrefixes]),
    isMember: options.isMember,
    legacyVerifier: options.legacyVerifier,
    hookTimeoutMs,
    isLegacyKey: options.isLegacyKey,
    lastUsedFlushMs,
    maxPendingUsage,
    provider,
    onError: options.onError,
    clock: options.clock ?? Date.now,
  };
}

function checkIssueInput(
  input: IssueApiKeyInput,
  now: number,
): {
  ownerId: string;
  orgId: string;
  scopes: readonly string[];
  name: string | null;
  expiresAt: Date | null;
} {
  const bad = (message: string) => new ApiKeyError('api_key_input_invalid', message);
  if (!input || typeof input !== 'object') throw bad('issue needs { ownerId, orgId, scopes }');
  const { ownerId, orgId, scopes, name, expiresAt } = input;
  if (typeof ownerId !== 'string' || ownerId.length === 0 || ownerId.length > MAX_ID) {
    throw bad('ownerId must be a non-empty string');
  }
  if (typeof orgId !== 'string' || orgId.length === 0 || orgId.length > MAX_ID) {
    throw bad('orgId must be a non-empty string');
  }
  if (
    !Array.isArray(scopes) ||
    scopes.length > 100 ||
    !scopes.every((s) => typeof s === 'string' && SCOPE_TOKEN.test(s))
  ) {
    throw bad('scopes must be a list of at most 100 scope tokens (no spaces or quotes)');
  }
  if (name !== undefined && name !== null && (typeof name !== 'string' || name.length > 200)) {
    throw bad('name must be a string of at most 200 characters');
  }
  if (expiresAt !== undefined && expiresAt !== null) {
    if (!(expiresAt instanceof Date) || !Number.isFinite(expiresAt.getTime()))
      throw bad('expiresAt must be a Date');
    if (expiresAt.getTime() <= now) throw bad('expiresAt must be in the future');
  }
  return {
    ownerId,
    orgId,
    scopes: Object.freeze([...new Set(scopes)]),
    name: name ?? null,
    expiresAt: expiresAt ? new Date(expiresAt.getTime()) : null,
  };
}
