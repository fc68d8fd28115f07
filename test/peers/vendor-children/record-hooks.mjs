// Module customization hooks (node:module register): record every resolved module URL, and make the
// specifiers listed in AUTHPLANE_TEST_MISSING unresolvable (a vendor SDK that is not installed).
import { appendFileSync } from 'node:fs';

const log = process.env.AUTHPLANE_TEST_RESOLVE_LOG;
const missing = new Set((process.env.AUTHPLANE_TEST_MISSING ?? '').split(',').filter(Boolean));

export async function resolve(specifier, context, next) {
  if (missing.has(specifier) || [...missing].some((m) => specifier.startsWith(`${m}/`))) {
    const err = new Error(`Cannot find package '${specifier}' imported from ${context.parentURL}`);
    err.code = 'ERR_MODULE_NOT_FOUND';
    throw err;
  }
  const result = await next(specifier, context);
  if (log) appendFileSync(log, `${result.url}\n`);
  return result;
}
