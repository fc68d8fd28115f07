// Child: importing the vendor subpaths directly while their SDK is "not installed" (register.mjs
// refuses it for import and require): authplane/auth0 fails with a ConfigError saying what to
// install; authplane/clerk needs no SDK at run time and loads.
const out: Record<string, unknown> = {};
for (const [name, load] of [
  ['auth0', () => import('../../../providers/auth0/index')],
  ['clerk', () => import('../../../providers/clerk/index')],
] as const) {
  try {
    const mod = await load();
    out[name] = { loaded: Object.keys(mod).length > 0 };
  } catch (err) {
    out[name] = {
      name: (err as Error).name,
      path: (err as { path?: string }).path,
      message: (err as Error).message,
      code: (err as { code?: string }).code,
    };
  }
}
console.log(JSON.stringify(out));

export {};
