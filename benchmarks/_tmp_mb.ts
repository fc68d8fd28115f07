import { createServer } from 'node:http';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { createIdentityPlane } from '../src/index';
import { createAuthorizer } from '../src/identity/authorizer';
const keys: object[] = [];
const s = createServer((_q, r) => r.end(JSON.stringify({ keys }))).listen(0, '127.0.0.1');
await new Promise((r) => s.once('listening', r));
const issuer = `http://127.0.0.1:${(s.address() as any).port}/`;
const { privateKey, publicKey } = await generateKeyPair('RS256');
keys.push({ ...(await exportJWK(publicKey)), kid: 'k', alg: 'RS256' });
const now = Math.floor(Date.now() / 1000);
const tokens = await Promise.all(Array.from({ length: 2000 }, (_, i) => new SignJWT({ scope: 'read', org_id: 'o' }).setProtectedHeader({ alg: 'RS256', kid: 'k', typ: 'at+jwt' }).setIssuer(issuer).setAudience('aud').setSubject(`u${i}`).setJti(`j${i}`).setIssuedAt(now).setExpirationTime(now + 3600).sign(privateKey)));
const plane = await createIdentityPlane({ provider: 'oidc', issuer, audience: 'aud', jwksUri: `${issuer}jwks`, algorithms: ['RS256'], allowInsecureRequests: true });
await plane.verify(tokens[0]!);
const az = createAuthorizer();
async function run(name: string, f: (i: number) => Promise<unknown>) {
  for (let i = 0; i < 3000; i++) await f(i);
  const n = 20000; const t = performance.now();
  for (let i = 0; i < n; i++) await f(i);
  console.log(name, ((performance.now() - t) * 1000 / n).toFixed(1), 'µs');
}
await run('verify', (i) => plane.verify(tokens[i % 2000]!));
await run('authenticate web', (i) => plane.authenticate(new Request('http://x/items', { headers: { authorization: `Bearer ${tokens[i % 2000]}` } })));
await run('authenticate node', (i) => plane.authenticate({ headers: { authorization: `Bearer ${tokens[i % 2000]}` }, rawHeaders: ['Host', 'x', 'Authorization', `Bearer ${tokens[i % 2000]}`], url: '/items' }));
await run('authorize check', async (i) => { const r = await plane.verify(tokens[i % 2000]!); if (r.ok) await az.check(r.principal, { scopes: ['read'] }); });
s.close(); await plane.close();
