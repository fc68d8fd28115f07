// A scripted browser for the dev issuer: plain fetch with manual redirects and a cookie jar that
// honours Path (oidc-provider scopes its interaction cookies to /interaction/:uid and /auth/:uid; a
// jar that ignores Path sends the wrong one and the second interaction fails with invalid_request).

interface Cookie {
  name: string;
  value: string;
  host: string;
  path: string;
  /** Epoch ms, or undefined for a session cookie. */
  expiresAt?: number;
}

/**
 * A minimal RFC 6265 cookie jar: host-only cookies, Path matching, Max-Age/Expires, deletion.
 *
 * @example
 * ```ts
 * const jar = new CookieJar();
 * await completeBrowserLogin(url, { login: 'bob', jar }); // a second login reuses the session
 * ```
 */
export class CookieJar {
  readonly #cookies: Cookie[] = [];

  /** Stores the Set-Cookie headers of a response to `url`. */
  store(url: URL, response: Response): void {
    for (const header of response.headers.getSetCookie()) this.#storeOne(url, header);
  }

  /** The Cookie header value for a request to `url`, longest paths first; undefined when none applies. */
  header(url: URL): string | undefined {
    const now = Date.now();
    const matching = this.#cookies
      .filter((c) => c.host === url.hostname && pathMatches(url.pathname, c.path))
      .filter((c) => c.expiresAt === undefined || c.expiresAt > now)
      .sort((a, b) => b.path.length - a.path.length);
    return matching.length ? matching.map((c) => `${c.name}=${c.value}`).join('; ') : undefined;
  }

  #storeOne(url: URL, header: string): void {
    const [pair = '', ...attributes] = header.split(';');
    const eq = pair.indexOf('=');
    if (eq <= 0) return;
    const cookie: Cookie = {
      name: pair.slice(0, eq).trim(),
      value: pair.slice(eq + 1).trim(),
      host: url.hostname,
      path: defaultPath(url.pathname),
    };
    let maxAge: number | undefined;
    for (const attribute of attributes) {
      const [rawKey = '', ...rest] = attribute.split('=');
      const key = rawKey.trim().toLowerCase();
      const value = rest.join('=').trim();
      if (key === 'path' && value.startsWith('/')) cookie.path = value;
      else if (key === 'max-age' && /^-?\d+$/.test(value)) maxAge = Number(value);
      else if (key === 'expires' && !Number.isNaN(Date.parse(value))) cookie.expiresAt = Date.parse(value);
    }
    if (maxAge !== undefined) cookie.expiresAt = Date.now() + maxAge * 1000;
    const existing = this.#cookies.findIndex(
      (c) => c.name === cookie.name && c.host === cookie.host && c.path === cookie.path,
    );
    if (existing >= 0) this.#cookies.splice(existing, 1);
    if (cookie.expiresAt === undefined || cookie.expiresAt > Date.now()) this.#cookies.push(cookie);
  }
}

function defaultPath(requestPath: string): string {
  const slash = requestPath.lastIndexOf('/');
  return slash <= 0 ? '/' : requestPath.slice(0, slash);
}

function pathMatches(requestPath: string, cookiePath: string): boolean {
  if (requestPath === cookiePath) return true;
  if (!requestPath.startsWith(cookiePath)) return false;
  return cookiePath.endsWith('/') || requestPath[cookiePath.length] === '/';
}

/**
 * Options of the scripted user agent.
 *
 * @example
 * ```ts
 * await completeBrowserLogin(url, { login: 'carol', jar: new CookieJar() });
 * ```
 */
export interface UserAgentOptions {
  /** Dev user (id or email) to sign in as; the dev issuer otherwise uses `login_hint` or its first user. */
  login?: string;
  /** Cookie jar to use (pass the same one to keep the issuer session between flows). */
  jar?: CookieJar;
  /** Maximum redirects followed. Default 20. */
  maxRedirects?: number;
}

async function send(jar: CookieJar, url: URL, init: RequestInit = {}): Promise<Response> {
  const headers = new Headers(init.headers);
  const cookie = jar.header(url);
  if (cookie) headers.set('cookie', cookie);
  const response = await fetch(url, {
    ...init,
    headers,
    redirect: 'manual',
    signal: AbortSignal.timeout(5000),
  });
  jar.store(url, response);
  return response;
}

function withLogin(url: URL, login: string | undefined): URL {
  if (login === undefined || !url.pathname.startsWith('/interaction/')) return url;
  const next = new URL(url);
  next.searchParams.set('login', login);
  return next;
}

/**
 * Follows redirects from `start` on the issuer's origin until a redirect leaves it (returned: the
 * client's redirect URI with `code` or `error`) or a page is served (returned as the final response).
 */
async function follow(
  jar: CookieJar,
  start: Response,
  startUrl: URL,
  options: UserAgentOptions,
): Promise<{ left?: URL; response: Response; url: URL }> {
  let response = start;
  let url = startUrl;
  for (let hops = 0; hops <= (options.maxRedirects ?? 20); hops++) {
    const location = response.headers.get('location');
    if (response.status < 300 || response.status >= 400 || !location) return { response, url };
    const next = new URL(location, url);
    await response.body?.cancel();
    if (next.origin !== startUrl.origin) return { left: next, response, url };
    url = withLogin(next, options.login);
    response = await send(jar, url);
  }
  throw new Error(`user agent: more than ${options.maxRedirects ?? 20} redirects`);
}

/**
 * Completes a browser login headlessly against the dev issuer: opens the authorization URL, follows the
 * login and consent interactions and returns the URL the issuer finally redirects to (the client's
 * loopback redirect URI with `code`, `state` and `iss`, or `error`). Nothing listens there: pass the
 * URL to the client's callback handling.
 *
 * @example
 * ```ts
 * const callbackUrl = await completeBrowserLogin(authorizationUrl.href, { login: 'bob' });
 * const tokens = await client.authorizationCodeGrant(config, new URL(callbackUrl), { pkceCodeVerifier, expectedState });
 * ```
 */
export async function completeBrowserLogin(
  authorizationUrl: string,
  options: UserAgentOptions = {},
): Promise<string> {
  const jar = options.jar ?? new CookieJar();
  const url = new URL(authorizationUrl);
  const result = await follow(jar, await send(jar, url), url, options);
  if (result.left) return result.left.href;
  const text = await result.response.text();
  throw new Error(`user agent: login ended on a page (HTTP ${result.response.status}): ${snippet(text)}`);
}

/** Hidden/visible `<input name value>` pairs of an HTML page, entity-decoded. */
function formInputs(html: string): Record<string, string> {
  const inputs: Record<string, string> = {};
  for (const [tag] of html.matchAll(/<input\b[^>]*>/gi)) {
    const name = /\bname="([^"]*)"/i.exec(tag)?.[1];
    const value = /\bvalue="([^"]*)"/i.exec(tag)?.[1];
    if (name !== undefined && value !== undefined) inputs[decodeEntities(name)] = decodeEntities(value);
  }
  return inputs;
}

function formAction(html: string, base: URL): URL {
  const action = /<form\b[^>]*\baction="([^"]*)"/i.exec(html)?.[1];
  return new URL(action ? decodeEntities(action) : base.pathname, base);
}

function decodeEntities(value: string): string {
  return value
    .replace(/&#x([0-9a-f]+);/gi, (_, hex: string) => String.fromCodePoint(Number.parseInt(hex, 16)))
    .replace(/&#(\d+);/g, (_, dec: string) => String.fromCodePoint(Number(dec)))
    .replace(/&quot;/g, '"')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&amp;/g, '&');
}

function snippet(html: string): string {
  return html
    .replace(/<[^>]+>/g, ' ')
    .replace(/\s+/g, ' ')
    .trim()
    .slice(0, 200);
}

/**
 * Plays the user's side of the device flow against the dev issuer: opens `verification_uri_complete`,
 * confirms the code (POST xsrf + user_code + confirm=yes), signs in and consents, and resolves once the
 * success page is served. Throws when the issuer re-renders the code form (wrong, expired or used code).
 *
 * @example
 * ```ts
 * const da = await client.initiateDeviceAuthorization(config, { scope: 'openid offline_access read' });
 * const polling = client.pollDeviceAuthorizationGrant(config, da);
 * await approveDeviceCode(da.verification_uri_complete!, { login: 'carol' });
 * const tokens = await polling;
 * ```
 */
export async function approveDeviceCode(
  verificationUriComplete: string,
  options: UserAgentOptions = {},
): Promise<void> {
  const jar = options.jar ?? new CookieJar();
  const start = new URL(verificationUriComplete);
  const page = await send(jar, start);
  const html = await page.text();
  const inputs = formInputs(html);
  if (!inputs.xsrf || !inputs.user_code) {
    throw new Error(
      `user agent: no device form at the verification URI (HTTP ${page.status}): ${snippet(html)}`,
    );
  }
  const action = formAction(html, start);
  const body = new URLSearchParams({ xsrf: inputs.xsrf, user_code: inputs.user_code, confirm: 'yes' });
  const confirmed = await send(jar, action, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body,
  });
  const result = await follow(jar, confirmed, action, options);
  if (result.left) throw new Error(`user agent: device flow redirected away to ${result.left.origin}`);
  const text = await result.response.text();
  if (result.response.status !== 200 || text.includes('op.deviceInputForm')) {
    throw new Error(`user agent: device approval failed (HTTP ${result.response.status}): ${snippet(text)}`);
  }
}
