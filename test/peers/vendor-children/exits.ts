// Child: exercise every network path of both adapters against the fakes, including failures (refused
// connections, timeouts, 5xx), close everything, and never call process.exit: the parent checks that
// the process ends by itself (no timer or socket left holding it).
import { createAuth0Membership, createAuth0ServiceTokens } from '../../../providers/auth0/index';
import { createClerkMembership } from '../../../providers/clerk/index';
import { createIdentityPlane } from '../../../src/index';
import { Auth0Fake } from '../auth0-fake';
import { CLERK_FAKE_SECRET, ClerkFake } from '../clerk-fake';

const auth0 = await Auth0Fake.start();
const clerk = await ClerkFake.start();
auth0.addClient({ clientId: 'svc', clientSecret: 'svc-secret', scopes: ['read'] });
auth0.addMember('auth0|u', 'org_a', ['admin']);
clerk.apiKeys.set('ak_x', { id: 'ak_1', subject: 'user_1', scopes: [] });
const results: string[] = [];
const note = (r: { ok: boolean; failure?: { reason: string } }) =>
  results.push(r.ok ? 'ok' : (r.failure?.reason ?? '?'));

const a0 = await createIdentityPlane({
  provider: 'auth0',
  domain: auth0.domain,
  audience: auth0.audience,
  fetch: auth0.fetch,
  timeoutMs: 500,
  flags: { auth0: true },
});
note(await a0.verify(await auth0.accessToken()));
const tokens = createAuth0ServiceTokens({
  domain: auth0.domain,
  clientId: 'svc',
  clientSecret: 'svc-secret',
  audience: auth0.audience,
  fetch: auth0.fetch,
  timeoutMs: 500,
});
results.push((await tokens.getAccessToken()).startsWith('eyJ') ? 'ok' : 'bad');
const membership = createAuth0Membership({
  domain: auth0.domain,
  clientId: 'svc',
  clientSecret: 'svc-secret',
  fetch: auth0.fetch,
  timeoutMs: 500,
});
auth0.server.fail({ path: '/api/v2/', drop: true });
results.push(
  await membership.organizations('auth0|u').then(
    () => 'ok',
    (e: { reason: string }) => e.reason,
  ),
);
auth0.server.clearFaults();
auth0.server.fail({ path: '/api/v2/', delayMs: 800 });
results.push(
  await membership.organizations('auth0|u').then(
    () => 'ok',
    (e: { reason: string }) => e.reason,
  ),
);
membership.close();

const ck = await createIdentityPlane({
  provider: 'clerk',
  secretKey: CLERK_FAKE_SECRET,
  apiUrl: clerk.apiUrl,
  allowInsecureRequests: true,
  authorizedParties: null,
  timeoutMs: 500,
  flags: { clerk: true },
});
note(await ck.verify(await clerk.sessionToken()));
clerk.server.fail({ path: '/api_keys', delayMs: 800 });
note(await ck.verify('ak_x'));
clerk.server.fail({ path: '/v1/jwks', status: 500 });
note(await ck.verify(await clerk.sessionToken({ key: await clerk.rotate() })));
const cm = createClerkMembership({
  secretKey: CLERK_FAKE_SECRET,
  apiUrl: clerk.apiUrl,
  allowInsecureRequests: true,
  timeoutMs: 500,
});
results.push(
  await cm.memberships('user_nobody').then(
    (m) => `members:${m.length}`,
    (e: { reason: string }) => e.reason,
  ),
);

await a0.close();
await ck.close();
// Let the delayed fake answers finish before closing the fakes, so the requests in flight end normally.
await new Promise((r) => setTimeout(r, 400));
await auth0.close();
await clerk.close();
console.log(JSON.stringify(results));
