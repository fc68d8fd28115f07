/**
 * A string without the trailing runs of one character, in one linear pass: the regex `/c+$/` is
 * unanchored at its start and backtracks quadratically on a long run that is not at the end, and these
 * values (URLs, secrets) may come from outside.
 *
 * @example
 * ```ts
 * trimTrailing('http://127.0.0.1:4000//', '/'); // 'http://127.0.0.1:4000'
 * trimTrailing('c2VjcmV0==', '=');              // 'c2VjcmV0'
 * ```
 */
export function trimTrailing(value: string, char: string): string {
  const code = char.charCodeAt(0);
  let end = value.length;
  while (end > 0 && value.charCodeAt(end - 1) === code) end--;
  return value.slice(0, end);
}
