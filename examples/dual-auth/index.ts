// The dual-auth cutover, runnable: `npx tsx examples/dual-auth/index.ts`.
// Legacy: HS256 SimpleJWT-style tokens. Target: the authplane dev issuer (oidc-provider, NOT FOR
// PRODUCTION). One tenant (org_acme) is moved legacy -> shadow -> dual -> target and rolled back by
// changing an OpenFeature flag; every phase prints which credential passes and why the others fail.
import { randomUUID } from 'node:crypto';
import { InMemoryProvider, OpenFeature } from '@openfeature/server-sdk';
import { createIdentityPlane } from 'authplane';
import { startDevIssuer } from 'authplane/dev';
import { importLinks, type MigrationMode } from 'authplane/migration';
import { createMemoryIdentityLinkStore } from 'authplane/stores';
import { SignJWT } from 'jose';

const SECRET = 'example-legacy-signing-key-0123456789abcdef';
const FLAG = 'authplane-migration-mode';
const flag = (mode: MigrationMode) => ({
  [FLAG]: { variants: { [mode]: mode }, defaultVariant: mode, disabled: false },
});

const dev = await startDevIssuer();
const flags = new InMemoryProvider(flag('legacy'));
await OpenFeature.setProviderAndWait('dual-auth-example', flags);

// 1. Links: legacy user 7 of team 3 is the service client of the dev issuer, in org `org_acme`.
const links = createMemoryIdentityLinkStore();
const serviceId = dev.clients.service.clientId;
await importLinks(
  links,
  `type,provider,external_id,internal_id\nuser,legacy,7,usr_7\nuser,oidc,${serviceId},usr_7\norg,legacy,team_3,${dev.clients.service.orgId}\n`,
  { format: 'csv' },
);

// 2. The migration plane: modes from the flag, the shadow header for dual-token clients.
const shadowEvents: unknown[] = [];
const plane = await createIdentityPlane({
  provider: 'migration',
  legacy: { provider: 'legacy', secret: SECRET, claims: { org: 'team_id' } },
  target: {
    provider: 'oidc',
    issuer: dev.issuer,
    audience: dev.audience,
    jwksUri: dev.jwksUri,
    allowInsecureRequests: true,
  },
  mode: 'legacy',
  modeFlag: { client: OpenFeature.getClient('dual-auth-example'), errorMode: 'static' },
  links: { store: links },
  shadow: { onEvent: (e) => shadowEvents.push(e) },
});

const now = Math.floor(Date.now() / 1000);
const legacyToken = await new SignJWT({
  token_type: 'access',
  user_id: 7,
  team_id: 'team_3',
  scope: 'read',
  roles: ['service'],
  jti: randomUUID(),
})
  .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
  .setIssuedAt(now)
  .setExpirationTime(now + 600)
  .sign(new TextEncoder().encode(SECRET));
const targetToken = await dev.mintServiceToken({ scope: 'read' });

const show = async (label: string, token: string, shadowToken?: string) => {
  const headers: Record<string, string> = { authorization: `Bearer ${token}` };
  if (shadowToken) headers['x-authplane-shadow-token'] = shadowToken;
  const r = await plane.authenticate(new Request('http://api.local/items', { headers }));
  const outcome = r.ok
    ? `200 subject=${r.principal.subject} via ${r.principal.provider}`
    : `${r.failure.status} ${r.failure.reason}`;
  console.log(`  ${label.padEnd(16)} ${outcome}`);
};

const phases = ['legacy', 'shadow', 'dual', 'target', 'dual'] as const;
for (const [i, mode] of phases.entries()) {
  flags.putConfiguration(flag(mode)); // a flag change: the next request sees it, no restart
  console.log(`\nphase: ${mode}${i === phases.length - 1 ? ' (rollback from target)' : ''}`);
  await show('legacy token', legacyToken, mode === 'shadow' ? targetToken : undefined);
  await show('target token', targetToken);
  if (mode === 'shadow') {
    await plane.migration.flush();
    const { comparisons, agreed, byClass } = plane.migration.report();
    console.log(
      `  shadow: ${comparisons} compared, ${agreed} agreed, divergences ${JSON.stringify(byClass)}`,
    );
  }
}

await plane.close();
await OpenFeature.clearProviders();
await dev.stop();
