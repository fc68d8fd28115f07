// Child: import the root entry and authplane/oidc, build an oidc plane, then print every CommonJS
// module in the require cache (the ESM ones are recorded by record-hooks.mjs).
import { createRequire } from 'node:module';

const root = await import('../../../src/index');
await import('../../../providers/oidc/index');
await import('../../../src/identity/index');
// Building a plane for another provider must not load a vendor SDK either.
const plane = await root.createIdentityPlane({
  provider: 'oidc',
  issuer: 'https://id.example',
  audience: 'api',
  jwksUri: 'https://id.example/jwks',
});
await plane.close();
const require = createRequire(import.meta.url);
console.log(JSON.stringify(Object.keys(require.cache)));
