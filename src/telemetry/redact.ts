/** The placeholder that replaces a redacted value. */
export const REDACTED = '[redacted]';

// Field names whose values are credentials whatever they look like.
const SENSITIVE_KEY =
  /token|secret|passw(or)?d|authorization|api[-_]?key|credential|cookie|session[-_]?key|private/i;
// A scheme-prefixed credential (`Bearer …`). Anchored, and the classes cannot overlap: linear.
const SCHEME_PREFIXED = /^(bearer|basic|dpop|token)\s+\S/i;
// Every pattern here runs on application-supplied free text that may carry request data:
// test/unit/redos.test.ts checks each one with recheck, and values are capped before any scan.

/** Longest value scanned; a longer one cannot be vouched for and is redacted whole. */
const MAX_SCAN = 4096;
/** Vendor token prefixes (Slack `xox[abprs]-`, `xapp-`; GitHub `gh[pousr]_`, `github_pat_`). */
const VENDOR_PREFIXES = [
  'xoxa-',
  'xoxb-',
  'xoxp-',
  'xoxr-',
  'xoxs-',
  'xapp-',
  'ghp_',
  'gho_',
  'ghu_',
  'ghs_',
  'ghr_',
  'github_pat_',
];
/** A run of this many hex digits is a secret (128 bits), not an id: UUID groups are at most 12. */
const MIN_HEX_SECRET = 32;

/**
 * Whether a string looks like a credential or holds one anywhere in its text: a JWT, a scheme-prefixed
 * value (`Bearer …`), an API key with a `_live_`/`_test_` marker (`ap_live_…`, `sk_test_…`), a Slack
 * (`xoxb-…`) or GitHub (`ghp_…`, `github_pat_…`) token, a run of 32+ hex digits (a hex secret), or a
 * long random-looking word (24+ token characters mixing upper case, lower case and digits — opaque and
 * refresh tokens). UUIDs are not credentials. A value above 4096 characters is reported as one, since
 * it is too long to vouch for. One linear pass; a safety net for free-form fields, never a reason to
 * put a credential anywhere.
 *
 * @example
 * ```ts
 * looksLikeCredential('eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ1In0.c2ln'); // true
 * looksLikeCredential('rotated xoxb-1234-5678-abcdefghij for the bot'); // true
 * looksLikeCredential('execution-42'); // false
 * ```
 */
export function looksLikeCredential(value: string): boolean {
  if (typeof value !== 'string') return false;
  if (value.length > MAX_SCAN) return true;
  if (SCHEME_PREFIXED.test(value)) return true;
  // Split into words of token characters in one pass; judge each word on its own.
  let start = 0;
  for (let i = 0; i <= value.length; i++) {
    if (i < value.length && isWordChar(value.charCodeAt(i))) continue;
    if (i > start && wordIsCredential(value.slice(start, i))) return true;
    start = i + 1;
  }
  return false;
}

// token68 characters plus `=`: what JWTs, API keys, opaque and vendor tokens are made of.
function isWordChar(c: number): boolean {
  return (
    (c >= 0x30 && c <= 0x39) || // 0-9
    (c >= 0x41 && c <= 0x5a) || // A-Z
    (c >= 0x61 && c <= 0x7a) || // a-z
    c === 0x2d || // -
    c === 0x2e || // .
    c === 0x5f || // _
    c === 0x7e || // ~
    c === 0x2b || // +
    c === 0x2f || // /
    c === 0x3d // =
  );
}

function wordIsCredential(word: string): boolean {
  if (word.length < 12) return false;
  // A JWS/JWE compact serialization: the header starts with `{"` in base64url, and has 2+ dots.
  const jwt = word.indexOf('eyJ');
  if (jwt >= 0) {
    const dot1 = word.indexOf('.', jwt);
    if (dot1 > jwt + 6 && word.indexOf('.', dot1 + 5) > 0) return true;
  }
  for (const marker of ['_live_', '_test_']) {
    const at = word.indexOf(marker);
    if (at > 0 && word.length - (at + marker.length) >= 8) return true;
  }
  const lower = word.toLowerCase();
  for (const prefix of VENDOR_PREFIXES) {
    const at = lower.indexOf(prefix);
    if (at >= 0 && word.length - (at + prefix.length) >= 8) return true;
  }
  let hexRun = 0;
  let upper = false;
  let lowerCase = false;
  let digit = false;
  for (let i = 0; i < word.length; i++) {
    const c = word.charCodeAt(i);
    const isDigit = c >= 0x30 && c <= 0x39;
    const isUpper = c >= 0x41 && c <= 0x5a;
    const isLower = c >= 0x61 && c <= 0x7a;
    digit ||= isDigit;
    upper ||= isUpper;
    lowerCase ||= isLower;
    const isHex = isDigit || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66);
    hexRun = isHex ? hexRun + 1 : 0;
    if (hexRun >= MIN_HEX_SECRET) return true;
  }
  return word.length >= 24 && upper && lowerCase && digit;
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
    // The name is capped before the pattern scans it; a name too long to judge is treated as sensitive.
    const sensitive = key.length > 256 || SENSITIVE_KEY.test(key);
    if (
      value === null ||
      typeof value === 'boolean' ||
      (typeof value === 'number' && Number.isFinite(value))
    ) {
      out[safeKey] = sensitive && value !== null ? REDACTED : value;
    } else if (typeof value === 'string') {
      out[safeKey] = sensitive || looksLikeCredential(value) ? REDACTED : value.slice(0, MAX_STRING);
    } else {
      continue;
    }
    count++;
  }
  return Object.freeze(out);
}
