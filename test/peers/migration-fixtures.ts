// Real peers for the migration tests: the dev issuer (oidc-provider) as target, HS256 SimpleJWT-style
// tokens for the legacy adapter, and user tokens from a headless auth-code login.
import { randomUUID } from 'node:crypto';
import { SignJWT } from 'jose';
import * as oidc from 'openid-client';
import type { DevIssuer } from '../../src/dev/index';
import { completeBrowserLogin } from './user-agent';

/** The legacy HS256 secret (test only, 32+ bytes). */
export const LEGACY_SECRET = 'legacy-simplejwt-secret-for-tests-0123456789';

/** Legacy users and how they map: legacy user_id -> dev issuer login -> internal subject. */
export const PEOPLE = {
  alice: { legacyId: 101, team: 'team_7', subject: 'usr_alice', roles: ['admin'] },
  bob: { legacyId: 102, team: 'team_7', subject: 'usr_bob', roles: ['member'] },
  carol: { legacyId: 201, team: 'team_9', subject: 'usr_carol', roles: ['admin'] },
} as const;

/** legacy team id -> target (internal) org id. */
export const TEAMS = { team_7: 'org_acme', team_9: 'org_globex' } as const;

/** The links file both tests import (CSV, as `authplane migrate import-links` reads it). */
export function linksCsv(): string {
  const rows = ['type,provider,external_id,internal_id'];
  for (const [login, p] of Object.entries(PEOPLE)) {
    rows.push(`user,legacy,${p.legacyId},${p.subject}`);
    rows.push(`user,oidc,${login},${p.subject}`);
  }
  for (const [team, org] of Object.entries(TEAMS)) rows.push(`org,legacy,${team},${org}`);
  return `${rows.join('\n')}\n`;
}

/** A SimpleJWT-style access token (`token_type: access`, `user_id`, `jti`, `exp`, team in `team_id`). */
export async function legacyToken(
  who: keyof typeof PEOPLE,
  options: { expiresInSec?: number; roles?: readonly string[]; scope?: string; secret?: string } = {},
): Promise<string> {
  const p = PEOPLE[who];
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({
    token_type: 'access',
    user_id: p.legacyId,
    team_id: p.team,
    roles: [...(options.roles ?? p.roles)],
    scope: options.scope ?? 'read sync:write',
    jti: randomUUID(),
  })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setIssuedAt(now - 5)
    .setExpirationTime(now + (options.expiresInSec ?? 600))
    .sign(new TextEncoder().encode(options.secret ?? LEGACY_SECRET));
}

/** The legacy side of the migration config. */
export const legacyConfig = {
  provider: 'legacy',
  secret: LEGACY_SECRET,
  claims: { org: 'team_id' },
} as const;

/** The target side of the migration config, for a dev issuer. */
export function targetConfig(dev: DevIssuer) {
  return {
    provider: 'oidc' as const,
    issuer: dev.issuer,
    audience: dev.audience,
    jwksUri: dev.jwksUri,
    allowInsecureRequests: true,
  };
}

/** A real user access token (RFC 9068 JWT) from the dev issuer: auth code + PKCE, headless login. */
export async function targetUserToken(
  dev: DevIssuer,
  login: string,
  scope = 'openid read sync:write',
): Promise<string> {
  const cli = await oidc.discovery(new URL(dev.issuer), dev.clients.cli.clientId, undefined, oidc.None(), {
    execute: [oidc.allowInsecureRequests],
  });
  const pkceCodeVerifier = oidc.randomPKCECodeVerifier();
  const url = oidc.buildAuthorizationUrl(cli, {
    redirect_uri: dev.clients.cli.redirectUri.replace('127.0.0.1', '127.0.0.1:53682'),
    scope,
    resource: dev.audience,
    code_challenge: await oidc.calculatePKCECodeChallenge(pkceCodeVerifier),
    code_challenge_method: 'S256',
    login_hint: login,
  });
  const callback = await completeBrowserLogin(url.href, { login });
  const tokens = await oidc.authorizationCodeGrant(cli, new URL(callback), {
    pkceCodeVerifier,
    idTokenExpected: true,
  });
  return tokens.access_token;
}

/** A Web request carrying a bearer credential and, optionally, the shadow header. */
export function requestWith(token: string, shadowToken?: string): Request {
  const headers: Record<string, string> = { authorization: `Bearer ${token}` };
  if (shadowToken) headers['x-authplane-shadow-token'] = shadowToken;
  return new Request('https://api.example.test/items', { headers });
}
