// A loopback fake of the Auth0 endpoints authplane uses, for the REAL auth0 SDK and the adapter:
//   GET  /.well-known/jwks.json                               the tenant JWKS
//   POST /oauth/token (form, client_credentials)              { access_token, token_type, expires_in, scope }
//   GET  /api/v2/users/{id}/organizations?page&per_page&include_totals
//                                                             { organizations, start, limit, total }
//   GET  /api/v2/organizations/{org}/members/{user}/roles?…   { roles, start, limit, total }
// Errors are Auth0's shape: { statusCode, error, message, errorCode }. Tokens are signed by the fake's
// own RSA keys. `fetch` rewrites https://<domain> (and custom domains) to the fake.
import { FakeServer, newRsaKey, rewritingFetch, type SigningKey, signJwt } from './fake-http';

export interface Auth0FakeOptions {
  readonly domain?: string;
  readonly customDomains?: readonly string[];
  readonly audience?: string;
}

export interface Auth0Client {
  readonly clientId: string;
  readonly clientSecret: string;
  readonly scopes: readonly string[];
  readonly orgId?: string;
}

export class Auth0Fake {
  readonly domain: string;
  readonly customDomains: readonly string[];
  readonly audience: string;
  readonly issuer: string;
  readonly server: FakeServer;
  readonly fetch: typeof fetch;
  readonly clients = new Map<string, Auth0Client>();
  /** userId -> orgId -> role names. */
  readonly memberships = new Map<string, Map<string, string[]>>();
  /** Seconds a token from /oauth/token lives. */
  tokenLifetimeSec = 86_400;
  keys: SigningKey[] = [];
  #generation = 0;

  private constructor(options: Auth0FakeOptions) {
    this.domain = options.domain ?? 'acme.auth0.test';
    this.customDomains = options.customDomains ?? [];
    this.audience = options.audience ?? 'https://api.acme.test';
    this.issuer = `https://${this.domain}/`;
    this.server = new FakeServer((req, url, body) =>
      this.#route(req.method ?? 'GET', url, body, req.headers.authorization),
    );
    this.fetch = rewritingFetch([this.domain, ...this.customDomains], () => this.server.origin);
  }

  static async start(options: Auth0FakeOptions = {}): Promise<Auth0Fake> {
    const fake = new Auth0Fake(options);
    await fake.rotate();
    await fake.server.listen();
    return fake;
  }

  get signingKey(): SigningKey {
    return this.keys[0] as SigningKey;
  }

  /** A new key signs from now on; the old ones stay published. */
  async rotate(): Promise<SigningKey> {
    const key = await newRsaKey(`auth0-key-${++this.#generation}`);
    this.keys.unshift(key);
    return key;
  }

  addClient(client: Auth0Client): void {
    this.clients.set(client.clientId, client);
  }

  addMember(userId: string, orgId: string, roles: string[] = []): void {
    const orgs = this.memberships.get(userId) ?? new Map<string, string[]>();
    orgs.set(orgId, roles);
    this.memberships.set(userId, orgs);
  }

  /** An access token as Auth0 issues it (typ JWT, RS256), with overrides. */
  async accessToken(
    claims: Record<string, unknown> = {},
    header: Record<string, unknown> = {},
    key = this.signingKey,
  ): Promise<string> {
    const now = Math.floor(Date.now() / 1000);
    return signJwt(
      key,
      {
        iss: this.issuer,
        sub: 'auth0|user-1',
        aud: [this.audience, `https://${this.domain}/userinfo`],
        iat: now,
        exp: now + 600,
        azp: 'spa-client',
        scope: 'openid profile read',
        ...claims,
      },
      { typ: 'JWT', ...header },
    );
  }

  close(): Promise<void> {
    return this.server.close();
  }

  async #route(method: string, url: URL, body: string, authorization: string | undefined) {
    const path = url.pathname;
    if (method === 'GET' && path === '/.well-known/jwks.json') {
      return { status: 200, body: { keys: this.keys.map((k) => k.publicJwk) } };
    }
    if (method === 'POST' && path === '/oauth/token') return this.#token(new URLSearchParams(body));
    if (path.startsWith('/api/v2/')) {
      if (!(await this.#managementAuthorized(authorization)))
        return error(401, 'Unauthorized', 'Invalid token', 'invalid_token');
      const page = Number(url.searchParams.get('page') ?? 0);
      const perPage = Number(url.searchParams.get('per_page') ?? 50);
      let m = /^\/api\/v2\/users\/([^/]+)\/organizations$/.exec(path);
      if (m && method === 'GET') {
        const userId = decodeURIComponent(m[1] as string);
        const orgs = this.memberships.get(userId);
        if (!orgs) return error(404, 'Not Found', 'The user does not exist.', 'inexistent_user');
        const all = [...orgs.keys()].map((id) => ({ id, name: id.toLowerCase(), display_name: id }));
        return paged('organizations', all, page, perPage);
      }
      m = /^\/api\/v2\/organizations\/([^/]+)\/members\/([^/]+)\/roles$/.exec(path);
      if (m && method === 'GET') {
        const roles = this.memberships
          .get(decodeURIComponent(m[2] as string))
          ?.get(decodeURIComponent(m[1] as string));
        if (!roles) return error(404, 'Not Found', 'The member does not exist.', 'inexistent_member');
        return paged(
          'roles',
          roles.map((name) => ({ id: `rol_${name}`, name, description: name })),
          page,
          perPage,
        );
      }
      return error(404, 'Not Found', 'Not found', 'not_found');
    }
    return error(404, 'Not Found', 'Not found', 'not_found');
  }

  async #token(form: URLSearchParams) {
    if (form.get('grant_type') !== 'client_credentials')
      return {
        status: 403,
        body: { error: 'unauthorized_client', error_description: 'Grant type not allowed' },
      };
    const client = this.clients.get(form.get('client_id') ?? '');
    if (!client || client.clientSecret !== form.get('client_secret'))
      return { status: 401, body: { error: 'access_denied', error_description: 'Unauthorized' } };
    const audience = form.get('audience') ?? '';
    const now = Math.floor(Date.now() / 1000);
    const scope = client.scopes.join(' ');
    const access = await signJwt(
      this.signingKey,
      {
        iss: this.issuer,
        sub: `${client.clientId}@clients`,
        aud: audience,
        iat: now,
        exp: now + this.tokenLifetimeSec,
        azp: client.clientId,
        gty: 'client-credentials',
        scope,
        permissions: client.scopes,
        ...(client.orgId ? { org_id: client.orgId } : {}),
      },
      { typ: 'JWT' },
    );
    return {
      status: 200,
      body: { access_token: access, token_type: 'Bearer', expires_in: this.tokenLifetimeSec, scope },
    };
  }

  async #managementAuthorized(authorization: string | undefined): Promise<boolean> {
    const token = authorization?.startsWith('Bearer ') ? authorization.slice(7) : '';
    const [, payload] = token.split('.');
    if (!payload) return false;
    try {
      const claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as {
        aud?: unknown;
        gty?: unknown;
      };
      return claims.aud === `https://${this.domain}/api/v2/` && claims.gty === 'client-credentials';
    } catch {
      return false;
    }
  }
}

function error(statusCode: number, error: string, message: string, errorCode: string) {
  return { status: statusCode, body: { statusCode, error, message, errorCode } };
}

function paged(name: string, all: unknown[], page: number, perPage: number) {
  const start = page * perPage;
  return {
    status: 200,
    body: { [name]: all.slice(start, start + perPage), start, limit: perPage, total: all.length },
  };
}
