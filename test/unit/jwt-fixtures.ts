// Shared fixtures of the jwt-* unit tests: real keys, jose-signed tokens, hand-crafted attack tokens,
// and a tiny JWKS server on 127.0.0.1 that counts requests and can fail, hang or drop connections.
import { constants, createHmac, KeyObject, sign as nodeSign } from 'node:crypto';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { exportJWK, generateKeyPair, type JWK, SignJWT } from 'jose';

export const ISSUER = 'https://issuer.test';
export const AUDIENCE = 'https://api.test';

export type TestAlg = 'RS256' | 'PS256' | 'ES256' | 'EdDSA';

export interface TestKey {
  readonly alg: TestAlg;
  readonly kid: string;
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  /** Public JWK as a JWKS publishes it (kid, alg, use). */
  readonly jwk: JWK;
}

let counter = 0;

export async function makeKey(alg: TestAlg, kid = `${alg.toLowerCase()}-${++counter}`): Promise<TestKey> {
  const pair = await generateKeyPair(alg, {
    extractable: true,
    ...(alg === 'EdDSA' ? { crv: 'Ed25519' } : {}),
  });
  // jose 6 returns WebCrypto keys; node:crypto (craft) wants KeyObjects.
  const privateKey = KeyObject.from(pair.privateKey);
  const publicKey = KeyObject.from(pair.publicKey);
  const jwk = { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' };
  return { alg, kid, privateKey, publicKey, jwk };
}

export const nowSec = (): number => Math.floor(Date.now() / 1000);

export function baseClaims(): Record<string, unknown> {
  const now = nowSec();
  return {
    iss: ISSUER,
    aud: AUDIENCE,
    sub: 'user_1',
    client_id: 'app_1',
    jti: `jti-${++counter}`,
    iat: now,
    exp: now + 600,
    scope: 'read write',
  };
}

/** A token signed by jose, with RFC 9068 `typ: at+jwt` unless overridden. */
export async function signToken(
  key: TestKey,
  claims: Record<string, unknown> = {},
  header: Record<string, unknown> = {},
): Promise<string> {
  const payload = { ...baseClaims(), ...claims };
  for (const [name, value] of Object.entries(payload)) if (value === undefined) delete payload[name];
  return new SignJWT(payload)
    .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'at+jwt', ...header } as { alg: string })
    .sign(key.privateKey);
}

export const b64 = (value: string | Buffer): string => Buffer.from(value).toString('base64url');

/** A hand-built compact JWS (for headers jose refuses to produce), signed with node:crypto. */
export function craft(
  header: Record<string, unknown>,
  claims: Record<string, unknown>,
  signer: { key: TestKey } | { hmacSecret: Buffer | string } | { none: true },
): string {
  const input = `${b64(JSON.stringify(header))}.${b64(JSON.stringify(claims))}`;
  if ('none' in signer) return `${input}.`;
  if ('hmacSecret' in signer)
    return `${input}.${createHmac('sha256', signer.hmacSecret).update(input).digest('base64url')}`;
  return `${input}.${rawSign(signer.key, input).toString('base64url')}`;
}

function rawSign(key: TestKey, input: string): Buffer {
  const data = Buffer.from(input);
  switch (key.alg) {
    case 'RS256':
      return nodeSign('sha256', data, key.privateKey);
    case 'PS256':
      return nodeSign('sha256', data, {
        key: key.privateKey,
        padding: constants.RSA_PKCS1_PSS_PADDING,
        saltLength: 32,
      });
    case 'ES256':
      return nodeSign('sha256', data, { key: key.privateKey, dsaEncoding: 'ieee-p1363' });
    case 'EdDSA':
      return nodeSign(null, data, key.privateKey);
  }
}

export type ServerMode = 'ok' | 'fail' | 'hang' | 'drop' | 'garbage';

export interface JwksServer {
  readonly url: string;
  readonly requests: number;
  keys: JWK[];
  mode: ServerMode;
  /** Extra latency of each answer in ms (to make concurrent waiters overlap). */
  delayMs: number;
  /** Raw body to serve instead of `{ keys }` (size or shape tests). */
  body: string | null;
  close(): Promise<void>;
}

/** A JWKS endpoint on 127.0.0.1:0 that counts GETs and can be switched to fail, hang or drop. */
export async function startJwksServer(keys: JWK[] = []): Promise<JwksServer> {
  const sockets = new Set<Socket>();
  const hanging = new Set<ServerResponse>();
  let requests = 0;
  const state: JwksServer = {
    url: '',
    get requests() {
      return requests;
    },
    keys,
    mode: 'ok',
    delayMs: 0,
    body: null,
    close: async () => {
      for (const res of hanging) res.destroy();
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  const server: Server = createServer((req, res) => {
    requests++;
    const answer = () => {
      switch (state.mode) {
        case 'fail':
          res.writeHead(500).end('{"error":"boom"}');
          return;
        case 'hang':
          hanging.add(res);
          return;
        case 'drop':
          req.socket.destroy();
          return;
        case 'garbage':
          res.writeHead(200, { 'content-type': 'application/json' }).end('<html>not json</html>');
          return;
        default:
          res
            .writeHead(200, { 'content-type': 'application/json' })
            .end(state.body ?? JSON.stringify({ keys: state.keys }));
      }
    };
    if (state.delayMs > 0) setTimeout(answer, state.delayMs);
    else answer();
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  (state as { url: string }).url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks`;
  return state;
}

/** The reason of a rejected verification (fails the test if it resolved). */
export async function reasonOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (err) {
    const reason = (err as { reason?: unknown }).reason;
    if (typeof reason === 'string') return reason;
    throw err;
  }
  throw new Error('expected a rejection, got a verified token');
}
