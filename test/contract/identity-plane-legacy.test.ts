// The IdentityPlane contract against the legacy adapter: SimpleJWT-style access tokens signed with a
// shared secret (HS256) and with an RSA key (RS256). Static keys, so no outage check applies.
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { type JWTPayload, SignJWT } from 'jose';
import { createIdentityPlane } from '../../src/identity/create';
import { identityPlaneContract } from './identity-plane.contract';

const ISSUER = 'legacy-api';
const AUDIENCE = 'web';
const ORG = 'org_contract';

type Signer = (claims: JWTPayload, forged?: boolean) => Promise<string>;

function claims(extra: JWTPayload = {}): JWTPayload {
  const now = Math.floor(Date.now() / 1000);
  return {
    token_type: 'access',
    user_id: 42,
    jti: randomUUID(),
    iat: now,
    exp: now + 600,
    iss: ISSUER,
    aud: AUDIENCE,
    org_id: ORG,
    scope: 'read write',
    roles: ['admin'],
    ...extra,
  };
}

function mintWith(sign: Signer) {
  return {
    valid: (o: { scopes?: readonly string[]; roles?: readonly string[] } = {}) =>
      sign(claims({ scope: (o.scopes ?? ['read', 'write']).join(' '), roles: [...(o.roles ?? ['admin'])] })),
    expired: () =>
      sign(claims({ iat: Math.floor(Date.now() / 1000) - 7200, exp: Math.floor(Date.now() / 1000) - 3600 })),
    forged: () => sign(claims(), true),
    wrongAudience: () => sign(claims({ aud: 'another-app' })),
    otherOrg: () => sign(claims({ org_id: 'org_elsewhere' })),
  };
}

identityPlaneContract(
  'legacy (HS256 shared secret)',
  async () => {
    const secret = new TextEncoder().encode('legacy-contract-signing-key-0123456789abcdef');
    const attacker = new TextEncoder().encode('not-the-legacy-signing-key-0123456789abcdef');
    const plane = await createIdentityPlane({
      provider: 'legacy',
      secret: new TextDecoder().decode(secret),
      issuer: ISSUER,
      audience: AUDIENCE,
    });
    const sign: Signer = (payload, forged) =>
      new SignJWT(payload).setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).sign(forged ? attacker : secret);
    return {
      provider: 'legacy',
      plane,
      orgId: ORG,
      authorizationServers: [],
      mint: mintWith(sign),
      close: () => plane.close(),
    };
  },
  { outage: false },
);

identityPlaneContract(
  'legacy (RS256 public key)',
  async () => {
    const pair = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const attacker = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const plane = await createIdentityPlane({
      provider: 'legacy',
      publicKey: pair.publicKey.export({ type: 'spki', format: 'pem' }).toString(),
      issuer: ISSUER,
      audience: AUDIENCE,
    });
    const sign: Signer = (payload, forged) =>
      new SignJWT(payload)
        .setProtectedHeader({ alg: 'RS256', typ: 'JWT' })
        .sign(forged ? attacker.privateKey : pair.privateKey);
    return { provider: 'legacy', plane, orgId: ORG, mint: mintWith(sign), close: () => plane.close() };
  },
  { outage: false },
);
