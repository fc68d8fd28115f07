import { freezePrincipal, type Principal } from '../../src/core/principal';

/**
 * One row of an existing (pre-authplane) API key table, as a `legacyVerifier` found it.
 *
 * @example
 * ```ts
 * const row: LegacyApiKeyRow = { keyId: '17', ownerId: '42', orgId: 'org_1', scopes: ['ci:deploy'] };
 * ```
 */
export interface LegacyApiKeyRow {
  /** The table's key id (never the key itself): becomes `providerSubject`. */
  readonly keyId: string;
  readonly ownerId: string;
  readonly orgId: string | null;
  readonly scopes: readonly string[];
  readonly expiresAt?: Date | null;
  readonly name?: string | null;
}

/**
 * Builds the principal a `createApiKeys({ legacyVerifier })` hook returns for a key found in a legacy
 * table: `kind: 'api_key'`, `authMethod: 'api_key'`, `provider: 'legacy'` (or the given name), so
 * dashboards can tell keys still on the old table from authplane keys during the dual period. The
 * API key service then re-checks org membership and scopes exactly as for its own keys.
 *
 * @example
 * ```ts
 * const keys = createApiKeys({ store, prefix: 'ap_live', isLegacyKey: (k) => k.startsWith('sk_'),
 *   legacyVerifier: async (key) => {
 *     const row = db.prepare('SELECT * FROM old_keys WHERE key_hash = ?').get(sha256(key));
 *     return row ? legacyApiKeyPrincipal({ keyId: String(row.id), ownerId: String(row.user_id),
 *       orgId: row.org_id, scopes: row.scopes.split(' ') }) : null;
 *   } });
 * ```
 */
export function legacyApiKeyPrincipal(row: LegacyApiKeyRow, provider = 'legacy'): Principal {
  return freezePrincipal({
    subject: row.ownerId,
    providerSubject: row.keyId,
    provider,
    kind: 'api_key',
    orgId: row.orgId,
    roles: [],
    scopes: row.scopes,
    sessionId: null,
    expiresAt: row.expiresAt ?? null,
    authMethod: 'api_key',
    claims: {
      key_id: row.keyId,
      owner_id: row.ownerId,
      org_id: row.orgId,
      scope: row.scopes.join(' '),
      ...(row.name ? { name: row.name } : {}),
    },
  });
}
