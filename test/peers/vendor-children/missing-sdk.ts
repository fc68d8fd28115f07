// Child: the vendor SDKs are "not installed" (record-hooks.mjs refuses them): selecting the provider
// must be a ConfigError naming the package.
import { createIdentityPlane } from '../../../src/index';

const out: Record<string, unknown> = {};
for (const [provider, extra] of [
  ['auth0', { domain: 'acme.auth0.test', audience: 'api', flags: { auth0: true } }],
  ['clerk', { secretKey: 'sk_test_x', authorizedParties: null, flags: { clerk: true } }],
] as const) {
  const err = await createIdentityPlane({ provider, ...extra } as never).then(
    async (plane) => {
      await plane.close();
      return { name: 'ok', message: '' };
    },
    (e: unknown) => e,
  );
  out[provider] = {
    name: (err as Error).name,
    path: (err as { path?: string }).path,
    message: (err as Error).message,
  };
}
console.log(JSON.stringify(out));
