import type { DevIssuer } from '../../dev/types';

/**
 * What a plane and a client need to use a running dev issuer, as plain objects: `plane` is the
 * `createIdentityPlane` options, `client` the `createTokenManager` options (without `storage`).
 * Both carry `allowInsecureRequests: true`: the issuer is plain http on loopback.
 *
 * @example
 * ```ts
 * const { plane } = pasteConfig(dev);
 * const identity = await createIdentityPlane(plane);
 * ```
 */
export function pasteConfig(dev: DevIssuer) {
  const { cli } = dev.clients;
  return {
    plane: {
      provider: 'oidc' as const,
      issuer: dev.issuer,
      audience: dev.audience,
      allowInsecureRequests: true,
    },
    client: {
      issuer: dev.issuer,
      clientId: cli.clientId,
      scopes: cli.scopes.join(' '),
      resource: dev.audience,
      allowInsecureRequests: true,
      loginHint: dev.users[0]?.id ?? '',
    },
  };
}

/** A TypeScript object literal on one line: single-quoted strings, unquoted identifier keys. */
function literal(value: Record<string, string | boolean>): string {
  const quote = (s: string) => `'${s.replace(/\\/g, '\\\\').replace(/'/g, "\\'")}'`;
  const entries = Object.entries(value).map(
    ([k, v]) => `${k}: ${typeof v === 'string' ? quote(v) : String(v)}`,
  );
  return `{ ${entries.join(', ')} }`;
}

/**
 * The ready-to-paste TypeScript blocks `authplane dev` prints: one for the API (the plane), one for a
 * CLI or native app (the token manager), each a complete module.
 *
 * @example
 * ```ts
 * for (const line of pasteConfigLines(dev)) io.out(line);
 * ```
 */
export function pasteConfigLines(dev: DevIssuer): string[] {
  const { plane, client } = pasteConfig(dev);
  const { loginHint, ...clientRest } = client;
  const others = dev.users
    .slice(1)
    .map((u) => `'${u.id}'`)
    .join(', ');
  return [
    'Plane (your API), paste into an ESM module ("type": "module"):',
    "  import { createIdentityPlane } from 'authplane';",
    `  const plane = await createIdentityPlane(${literal(plane)});`,
    '',
    'Client (a CLI or native app):',
    "  import { createEncryptedFileStorage, createTokenManager } from 'authplane/client';",
    '  const tokens = createTokenManager({',
    `    ...${literal(clientRest)},`,
    `    loginHint: '${loginHint}', // the dev user to sign in as${others ? ` (or ${others})` : ''}; omit it to pick on the login page`,
    "    storage: createEncryptedFileStorage({ path: '.authplane/session' }),",
    '  });',
  ];
}
