import Module, { register } from 'node:module';

register('./record-hooks.mjs', import.meta.url);

// The same for require(): adapters load their vendor SDK synchronously (providers/shared/vendor-sdk.ts).
const missing = new Set((process.env.AUTHPLANE_TEST_MISSING ?? '').split(',').filter(Boolean));
if (missing.size > 0) {
  const original = Module._resolveFilename;
  Module._resolveFilename = function (request, ...rest) {
    if (missing.has(request) || [...missing].some((m) => request.startsWith(`${m}/`))) {
      const err = new Error(`Cannot find module '${request}'`);
      err.code = 'MODULE_NOT_FOUND';
      throw err;
    }
    return original.call(this, request, ...rest);
  };
}
