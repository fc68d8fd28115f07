// The plaintext of a connection's encrypted `credentials` blob. Only this adapter ever sees it.

/**
 * Secrets of one connection, sealed with the keyring before they reach a store.
 *
 * @example
 * ```ts
 * const creds: StoredCredentials = { type: 'api_key', apiKey: process.env.JIRA_TOKEN! };
 * ```
 */
export type StoredCredentials =
  | {
      readonly type: 'oauth2';
      readonly accessToken: string;
      readonly tokenType: string;
      readonly refreshToken: string | null;
      readonly scopes: readonly string[];
    }
  | { readonly type: 'api_key'; readonly apiKey: string; readonly tokenType?: string }
  | { readonly type: 'basic'; readonly username: string; readonly password: string };

/**
 * Parses an opened blob; anything else is a corrupt record.
 *
 * @example
 * ```ts
 * const creds = parseCredentials(keyring.open(record.credentials, context));
 * ```
 */
export function parseCredentials(text: string): StoredCredentials | null {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return null;
  }
  if (!value || typeof value !== 'object') return null;
  const v = value as Record<string, unknown>;
  const str = (x: unknown): x is string => typeof x === 'string';
  if (v.type === 'oauth2' && str(v.accessToken) && str(v.tokenType)) {
    return {
      type: 'oauth2',
      accessToken: v.accessToken,
      tokenType: v.tokenType,
      refreshToken: str(v.refreshToken) ? v.refreshToken : null,
      scopes: Array.isArray(v.scopes) ? v.scopes.filter(str) : [],
    };
  }
  if (v.type === 'api_key' && str(v.apiKey)) {
    return { type: 'api_key', apiKey: v.apiKey, ...(str(v.tokenType) ? { tokenType: v.tokenType } : {}) };
  }
  if (v.type === 'basic' && str(v.username) && str(v.password)) {
    return { type: 'basic', username: v.username, password: v.password };
  }
  return null;
}
