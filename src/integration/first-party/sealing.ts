// Where a connection's credentials are bound: the additional data of the AES-GCM seal names the org,
// the integration and the connection id, so a blob moved onto another row (another org's, another
// connection's) fails authentication. `v1` blobs predate the org binding and open with their legacy
// context until `resealAll()` rewrites them.
import type { ConnectionKey, ConnectionRecord } from '../../stores/contracts';
import type { Keyring } from '../crypto';
import { DecryptionError } from '../errors';
import { parseCredentials, type StoredCredentials } from './credentials';

/** The additional data of a `v2` blob: a label, then org, integration and id, NUL-separated. */
const bindingOf = (key: ConnectionKey) =>
  ['authplane.connection.v2', key.orgId ?? '', key.integration, key.id].join('\u0000');
/** What `v1` bound (no org): only used to open blobs written before the upgrade. */
const legacyBindingOf = (key: ConnectionKey) => `${key.integration}\u0000${key.id}`;

/**
 * Seals a plaintext for the row `key`.
 *
 * @example
 * ```ts
 * const blob = sealFor(keyring, { orgId: 'org_acme', integration: 'github', id: 'acme' }, JSON.stringify(creds));
 * ```
 */
export function sealFor(keyring: Keyring, key: ConnectionKey, plaintext: string): string {
  return keyring.seal(plaintext, bindingOf(key));
}

/**
 * Opens a blob read from the row `key` (with the binding its format used).
 *
 * @throws DecryptionError when the blob was sealed for another row, altered, or its key is missing.
 * @example
 * ```ts
 * const text = openFor(keyring, record, record.credentials);
 * ```
 */
export function openFor(keyring: Keyring, key: ConnectionKey, blob: string): string {
  const binding = keyring.formatOf(blob) === 'v1' ? legacyBindingOf(key) : bindingOf(key);
  return keyring.open(blob, binding);
}

/**
 * Whether a blob should be rewritten: sealed with an older key, or in the `v1` format.
 *
 * @example
 * ```ts
 * if (needsReseal(keyring, row.credentials)) await reseal(row);
 * ```
 */
export function needsReseal(keyring: Keyring, blob: string): boolean {
  return keyring.keyIdOf(blob) !== keyring.currentKeyId || keyring.formatOf(blob) !== 'v2';
}

/**
 * The credentials of a stored connection, decrypted and parsed.
 *
 * @throws DecryptionError when there are none, they do not open, or they are not in a known shape.
 * @example
 * ```ts
 * const creds = openCredentials(keyring, record);
 * ```
 */
export function openCredentials(keyring: Keyring, record: ConnectionRecord): StoredCredentials {
  const name = `${record.integration}/${record.id}`;
  if (record.credentials === null) {
    throw new DecryptionError(`The connection ${name} has no stored credentials`, null);
  }
  const creds = parseCredentials(openFor(keyring, record, record.credentials));
  if (!creds) {
    throw new DecryptionError(
      `The stored credentials of ${name} are not in a known shape`,
      keyring.keyIdOf(record.credentials),
    );
  }
  return creds;
}
