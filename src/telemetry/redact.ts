/** The placeholder that replaces a redacted value. */
export const REDACTED = '[redacted]';

// Field names whose values are credentials whatever they look like.
const SENSITIVE_KEY =
  /token|secret|passw(or)?d|authorization|api[-_]?key|credential|cookie|session[-_]?key|private/i;
// A JWS/JWE compact serialization (header starts with `{"` in base64url), a scheme-prefixed credential.
const JWT_LIKE = /eyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]{4,}\./;
const SCHEME_PREFIXED = /^(bearer|basic|dpop|token)\s+\S/i;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const TOKENISH = /^[A-Za-z0-9\-._~+/]{24,}=*$/;

/**
 * Whether a string looks like a credential: a JWT, a scheme-prefixed value (`Bearer …`), or a long
 * random-looking token (24+ token characters mixing upper case, lower case and digits — API keys,
 * opaque tokens, refresh tokens). UUIDs and hex digests are not considered credentials. A safety net
 * for free-form fields, never a reason to put a credential anywhere.
 *
 * @example
 * ```ts
 * looksLikeCredential('eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ1In0.c2ln'); // true
 * looksLikeCredential('execution-42'); // false
 * ```
 */
export function looksLikeCredential(value: string): boolean {
  if (JWT_LIKE.test(value) || SCHEME_PREFIXED.test(value)) return true;
  if (value.length < 24 || UUID.test(value) || !TOKENISH.test(value)) return false;
  return /[a-z]/.test(value) && /[A-Z]/.test(value) && /[0-9]/.test(value);
}

/** A value an audit event's `details` may carry. */
export type DetailValue = string | number | boolean | null;

const MAX_DETAILS = 32;
const MAX_STRING = 256;

/**
 * Copies free-form details into a frozen, flat record safe to emit: at most 32 fields of primitives,
 * strings cut at 256 characters, and the value of every field whose name or value looks like a
 * credential replaced by `[redacted]`. Nested objects, functions and symbols are dropped.
 *
 * @example
 * ```ts
 * sanitizeDetails({ executionId: 'ex_1', apiKey: 'ap_live_…' }); // { executionId: 'ex_1', apiKey: '[redacted]' }
 * ```
 */
export function sanitizeDetails(details: unknown): Readonly<Record<string, DetailValue>> | undefined {
  if (!details || typeof details !== 'object' || Array.isArray(details)) return undefined;
  const out: Record<string, DetailValue> = {};
  let count = 0;
  for (const [key, value] of Object.entries(details)) {
    if (count >= MAX_DETAILS) break;
    const safeKey = key.slice(0, 64);
    if (
      value === null ||
      typeof value === 'boolean' ||
      (typeof value === 'number' && Number.isFinite(value))
    ) {
      out[safeKey] = SENSITIVE_KEY.test(key) && value !== null ? REDACTED : value;
    } else if (typeof value === 'string') {
      out[safeKey] =
        SENSITIVE_KEY.test(key) || looksLikeCredential(value) ? REDACTED : value.slice(0, MAX_STRING);
    } else {
      continue;
    }
    count++;
  }
  return Object.freeze(out);
}
