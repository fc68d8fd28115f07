// A loopback fake of the Clerk Backend API endpoints authplane uses, for the REAL @clerk/backend SDK:
//   GET  /v1/jwks                                   { keys: [...] } (Bearer secret key required)
//   POST /api_keys/verify     { secret }            an `api_key` object, or 404 (no /v1 prefix)
//   POST /m2m_tokens/verify   { token }             a `machine_to_machine_token` object, or 404 (no /v1)
//   GET  /v1/users/{id}/organization_memberships?limit&offset
//                                                   { data: [organization_membership…], total_count }
// Errors are Clerk's shape: { errors: [{ code, message, long_message }] }, with Content-Type exactly
// application/json. Session tokens (claims v2) are signed by the fake's own RSA keys. Every request is
// logged with its headers and body (`log`), and `hang(path)` leaves matching requests unanswered,
// recording when the client closes their connection (`hung`).
import type { IncomingHttpHeaders } from 'node:http';
import { FakeServer, newRsaKey, type SigningKey, signJwt } from './fake-http';

export const CLERK_FAKE_SECRET = 'sk_test_fake_secret_for_tests_only';
/** Accepted on the M2M endpoints only, as Clerk's machine secret keys are. */
export const CLERK_FAKE_MACHINE_SECRET = 'ak_fake_machine_secret_for_tests_only';
export const CLERK_FAKE_ISSUER = 'https://clerk.acme.test';

export interface ClerkApiKey {
  id: string;
  subject: string;
  scopes: string[];
  revoked?: boolean;
  expired?: boolean;
  expiration?: number | null;
}

export interface ClerkM2m {
  id: string;
  subject: string;
  scopes: string[];
  revoked?: boolean;
  expired?: boolean;
  expiration?: number | null;
}

export interface ClerkSessionOptions {
  sub?: string;
  azp?: string;
  orgId?: string | null;
  role?: string;
  /** Org permissions `org:<feature>:<permission>` (encoded as v2 `fea`, `o.per`, `o.fpm`). */
  permissions?: string[];
  exp?: number;
  iat?: number;
  nbf?: number;
  extra?: Record<string, unknown>;
  header?: Record<string, unknown>;
  key?: SigningKey;
}

/** One request as the fake received it. */
export interface ClerkFakeRequest {
  readonly method: string;
  readonly path: string;
  readonly search: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

/** A request left unanswered by `hang`. */
export interface ClerkFakeHang {
  readonly path: string;
  /** Set when the client closed the connection (aborted the request). */
  closedAt: number | null;
}

export class ClerkFake {
  readonly server: FakeServer;
  readonly log: ClerkFakeRequest[] = [];
  readonly hung: ClerkFakeHang[] = [];
  #hangs = new Set<string>();
  readonly apiKeys = new Map<string, ClerkApiKey>();
  readonly m2mTokens = new Map<string, ClerkM2m>();
  /** userId -> memberships. */
  readonly memberships = new Map<string, { orgId: string; role: string; permissions: string[] }[]>();
  keys: SigningKey[] = [];
  #generation = 0;

  private constructor() {
    this.server = new FakeServer((req, url, body) => {
      const method = req.method ?? 'GET';
      this.log.push({ method, path: url.pathname, search: url.search, headers: req.headers, body });
      if ([...this.#hangs].some((prefix) => url.pathname.startsWith(prefix))) {
        const hang: ClerkFakeHang = { path: url.pathname, closedAt: null };
        this.hung.push(hang);
        req.socket.once('close', () => {
          hang.closedAt = Date.now();
        });
        // Never answered: only the client (or close()) ends the connection.
        return new Promise<never>(() => {});
      }
      return this.#route(method, url, body, req.headers.authorization);
    });
  }

  /** Leaves requests whose path starts with `pathPrefix` unanswered until `unhang()`. */
  hang(pathPrefix: string): void {
    this.#hangs.add(pathPrefix);
  }

  unhang(): void {
    this.#hangs.clear();
  }

  static async start(): Promise<ClerkFake> {
    const fake = new ClerkFake();
    await fake.rotate();
    await fake.server.listen();
    return fake;
  }

  get apiUrl(): string {
    return this.server.origin;
  }

  get signingKey(): SigningKey {
    return this.keys[0] as SigningKey;
  }

  async rotate(): Promise<SigningKey> {
    const key = await newRsaKey(`ins_key_${++this.#generation}`);
    this.keys.unshift(key);
    return key;
  }

  /** The instance public key as PEM (what the dashboard shows as "JWT public key"). */
  async publicPem(): Promise<string> {
    const { createPublicKey } = await import('node:crypto');
    return createPublicKey({ key: this.signingKey.publicJwk as never, format: 'jwk' })
      .export({ type: 'spki', format: 'pem' })
      .toString();
  }

  /** A v2 session token as Clerk issues it. */
  async sessionToken(options: ClerkSessionOptions = {}): Promise<string> {
    const now = Math.floor(Date.now() / 1000);
    const claims: Record<string, unknown> = {
      azp: options.azp ?? 'https://app.acme.test',
      exp: options.exp ?? now + 60,
      iat: options.iat ?? now - 1,
      nbf: options.nbf ?? now - 1,
      iss: CLERK_FAKE_ISSUER,
      sid: 'sess_123',
      sub: options.sub ?? 'user_1',
      sts: 'active',
      v: 2,
      ...options.extra,
    };
    if (options.orgId !== null) {
      const perms = options.permissions ?? [];
      const features = [...new Set(perms.map((p) => p.split(':')[1] as string))];
      const names = [...new Set(perms.map((p) => p.split(':')[2] as string))];
      const fpm = features.map((feature) => {
        let mask = 0n;
        names.forEach((name, i) => {
          if (perms.includes(`org:${feature}:${name}`)) mask |= 1n << BigInt(i);
        });
        return mask.toString();
      });
      claims.o = {
        id: options.orgId ?? 'org_1',
        rol: (options.role ?? 'org:member').replace(/^org:/, ''),
        slg: 'acme',
        ...(names.length > 0 ? { per: names.join(','), fpm: fpm.join(',') } : {}),
      };
      if (features.length > 0) claims.fea = features.map((f) => `o:${f}`).join(',');
    }
    return signJwt(options.key ?? this.signingKey, claims, { typ: 'JWT', ...options.header });
  }

  addMember(userId: string, orgId: string, role: string, permissions: string[] = []): void {
    const list = this.memberships.get(userId) ?? [];
    list.push({ orgId, role, permissions });
    this.memberships.set(userId, list);
  }

  close(): Promise<void> {
    return this.server.close();
  }

  async #route(method: string, url: URL, body: string, authorization: string | undefined) {
    const path = url.pathname;
    const machine = path.startsWith('/m2m_tokens') && authorization === `Bearer ${CLERK_FAKE_MACHINE_SECRET}`;
    if (authorization !== `Bearer ${CLERK_FAKE_SECRET}` && !machine) {
      return clerkError(401, 'authentication_invalid', 'Unauthorized request');
    }
    if (method === 'GET' && path === '/v1/jwks')
      return { status: 200, body: { keys: this.keys.map((k) => k.publicJwk) } };
    if (method === 'POST' && path === '/api_keys/verify') {
      const secret = (JSON.parse(body || '{}') as { secret?: string }).secret ?? '';
      const key = this.apiKeys.get(secret);
      if (!key) return clerkError(404, 'resource_not_found', 'API key not found');
      return { status: 200, body: apiKeyJson(key) };
    }
    if (method === 'POST' && path === '/m2m_tokens/verify') {
      const token = (JSON.parse(body || '{}') as { token?: string }).token ?? '';
      const m2m = this.m2mTokens.get(token);
      if (!m2m) return clerkError(404, 'resource_not_found', 'Machine token not found');
      return { status: 200, body: m2mJson(m2m) };
    }
    const m = /^\/v1\/users\/([^/]+)\/organization_memberships$/.exec(path);
    if (m && method === 'GET') {
      const userId = decodeURIComponent(m[1] as string);
      const list = this.memberships.get(userId);
      if (!list) return clerkError(404, 'resource_not_found', 'User not found');
      const limit = Number(url.searchParams.get('limit') ?? 10);
      const offset = Number(url.searchParams.get('offset') ?? 0);
      return {
        status: 200,
        body: {
          data: list.slice(offset, offset + limit).map((x, i) => membershipJson(userId, x, offset + i)),
          total_count: list.length,
        },
      };
    }
    return clerkError(404, 'resource_not_found', 'Not found');
  }
}

export function clerkError(status: number, code: string, message: string) {
  return {
    status,
    body: { errors: [{ code, message, long_message: message }], clerk_trace_id: 'trace_fake' },
  };
}

function apiKeyJson(key: ClerkApiKey) {
  const now = Date.now();
  return {
    object: 'api_key',
    id: key.id,
    type: 'api_key',
    name: 'ci key',
    subject: key.subject,
    scopes: key.scopes,
    claims: null,
    revoked: key.revoked ?? false,
    revocation_reason: null,
    expired: key.expired ?? false,
    expiration: key.expiration ?? null,
    created_by: 'user_1',
    description: null,
    last_used_at: null,
    created_at: now,
    updated_at: now,
  };
}

function m2mJson(m2m: ClerkM2m) {
  const now = Date.now();
  return {
    object: 'machine_to_machine_token',
    id: m2m.id,
    subject: m2m.subject,
    scopes: m2m.scopes,
    claims: null,
    revoked: m2m.revoked ?? false,
    revocation_reason: null,
    expired: m2m.expired ?? false,
    expiration: m2m.expiration ?? null,
    created_at: now,
    updated_at: now,
  };
}

function membershipJson(
  userId: string,
  m: { orgId: string; role: string; permissions: string[] },
  i: number,
) {
  const now = Date.now();
  return {
    object: 'organization_membership',
    id: `orgmem_${i}`,
    role: m.role,
    role_name: m.role,
    permissions: m.permissions,
    public_metadata: {},
    private_metadata: {},
    created_at: now,
    updated_at: now,
    organization: {
      object: 'organization',
      id: m.orgId,
      name: m.orgId,
      slug: m.orgId,
      image_url: '',
      has_image: false,
      created_at: now,
      updated_at: now,
      public_metadata: {},
      private_metadata: {},
      max_allowed_memberships: 5,
      admin_delete_enabled: true,
      members_count: 1,
    },
    public_user_data: {
      identifier: `${userId}@acme.test`,
      first_name: 'A',
      last_name: 'B',
      image_url: '',
      has_image: false,
      user_id: userId,
    },
  };
}
