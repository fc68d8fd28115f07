// Issuer checks: discovery, JWKS (reachable, key types fit the algorithms, kids), clock skew against the
// issuer's Date header, introspection credentials.
import { type DoctorCheck, type DoctorContext, fail, ok, warn, why } from './types';

// Which JWK key type (and curve) each JWS algorithm needs.
const KEY_FOR_ALG: Readonly<Record<string, { kty: string; crv?: string }>> = {
  RS256: { kty: 'RSA' },
  RS384: { kty: 'RSA' },
  RS512: { kty: 'RSA' },
  PS256: { kty: 'RSA' },
  PS384: { kty: 'RSA' },
  PS512: { kty: 'RSA' },
  ES256: { kty: 'EC', crv: 'P-256' },
  ES384: { kty: 'EC', crv: 'P-384' },
  ES512: { kty: 'EC', crv: 'P-521' },
  EdDSA: { kty: 'OKP', crv: 'Ed25519' },
};

const MAX_SKEW_WARN_SEC = 5;

/**
 * Runs the issuer checks for an OIDC configuration; nothing for providers without an issuer.
 *
 * @example
 * ```ts
 * const results = await checkIssuer(context);
 * ```
 */
export async function checkIssuer(ctx: DoctorContext): Promise<DoctorCheck[]> {
  const issuer = typeof ctx.config.issuer === 'string' ? ctx.config.issuer : undefined;
  const provider = ctx.config.provider ?? 'oidc';
  if (provider !== 'oidc') return [];
  if (!issuer) return [fail('issuer', 'no issuer configured', 'set AUTHPLANE_ISSUER')];
  const out: DoctorCheck[] = [];
  const wellKnown = `${issuer.replace(/\/$/, '')}/.well-known/openid-configuration`;
  let discovery: Record<string, unknown> | null = null;
  let started = 0;
  let response: Response | null = null;
  try {
    started = ctx.now();
    response = await ctx.fetch(wellKnown);
    if (!response.ok) throw Object.assign(new Error('status'), { code: `HTTP ${response.status}` });
    discovery = (await response.json()) as Record<string, unknown>;
    if (discovery.issuer !== issuer) {
      out.push(
        fail(
          'discovery',
          `the issuer publishes "${String(discovery.issuer)}", not the configured "${issuer}"`,
          'set AUTHPLANE_ISSUER to the exact issuer of the tokens (trailing slash included)',
        ),
      );
    } else out.push(ok('discovery', `${wellKnown} answers with a matching issuer`));
  } catch (err) {
    out.push(
      fail(
        'discovery',
        `${wellKnown} is not usable (${why(err)})`,
        'check AUTHPLANE_ISSUER and that the issuer is reachable from here',
      ),
    );
  }
  if (response) out.push(clockSkew(ctx, response, started));

  const jwksUri =
    typeof ctx.config.jwksUri === 'string'
      ? ctx.config.jwksUri
      : typeof discovery?.jwks_uri === 'string'
        ? discovery.jwks_uri
        : null;
  if (jwksUri) out.push(await checkJwks(ctx, jwksUri));
  else if (discovery) out.push(fail('jwks', 'no jwks_uri in discovery', 'set AUTHPLANE_JWKS_URI'));

  const introspection = ctx.config.introspection as
    | { endpoint?: string; clientId?: string; clientSecret?: string }
    | undefined;
  if (introspection?.clientId) {
    const endpoint =
      introspection.endpoint ??
      (typeof discovery?.introspection_endpoint === 'string' ? discovery.introspection_endpoint : undefined);
    out.push(
      await checkIntrospection(ctx, endpoint, introspection.clientId, introspection.clientSecret ?? ''),
    );
  }
  return out;
}

function clockSkew(ctx: DoctorContext, response: Response, started: number): DoctorCheck {
  const date = Date.parse(response.headers.get('date') ?? '');
  if (!Number.isFinite(date))
    return warn('clock', 'the issuer sends no Date header', 'compare clocks by hand (NTP)');
  // Date has a one-second resolution: compare with the middle of the request.
  const local = (started + ctx.now()) / 2;
  const skewSec = Math.abs(local - date) / 1000 - 0.5;
  const tolerance = typeof ctx.config.clockToleranceSec === 'number' ? ctx.config.clockToleranceSec : 30;
  if (skewSec > tolerance) {
    return fail(
      'clock',
      `this clock and the issuer's differ by ~${Math.round(skewSec)} s`,
      'synchronise the clock (NTP); tokens will look expired or not yet valid',
    );
  }
  if (skewSec > MAX_SKEW_WARN_SEC) {
    return warn(
      'clock',
      `this clock and the issuer's differ by ~${Math.round(skewSec)} s`,
      'synchronise the clock (NTP)',
    );
  }
  return ok('clock', 'within a few seconds of the issuer');
}

async function checkJwks(ctx: DoctorContext, jwksUri: string): Promise<DoctorCheck> {
  let keys: Array<Record<string, unknown>>;
  try {
    const response = await ctx.fetch(jwksUri);
    if (!response.ok) throw Object.assign(new Error('status'), { code: `HTTP ${response.status}` });
    const body = (await response.json()) as { keys?: unknown };
    if (!Array.isArray(body.keys)) throw Object.assign(new Error('shape'), { code: 'no keys array' });
    keys = body.keys.filter((k): k is Record<string, unknown> => Boolean(k) && typeof k === 'object');
  } catch (err) {
    return fail('jwks', `${jwksUri} is not usable (${why(err)})`, 'check AUTHPLANE_JWKS_URI / the issuer');
  }
  const signing = keys.filter((k) => k.use === undefined || k.use === 'sig');
  if (signing.length === 0)
    return fail('jwks', 'the JWKS has no signing key', 'publish at least one signing key');
  const kids = signing.map((k) => k.kid);
  if (kids.some((kid) => typeof kid !== 'string' || kid === '')) {
    return warn('jwks', 'a key has no kid: tokens cannot name it', 'give every published key a kid');
  }
  if (new Set(kids).size !== kids.length)
    return fail('jwks', 'two keys share a kid', 'give every key a unique kid');
  const algorithms = Array.isArray(ctx.config.algorithms)
    ? (ctx.config.algorithms as string[])
    : ['RS256', 'ES256', 'EdDSA', 'PS256'];
  const fitting = algorithms.filter((alg) =>
    signing.some((k) => {
      const need = KEY_FOR_ALG[alg];
      return (
        need !== undefined &&
        k.kty === need.kty &&
        (need.crv === undefined || k.crv === need.crv) &&
        (k.alg === undefined || k.alg === alg)
      );
    }),
  );
  if (fitting.length === 0) {
    return fail(
      'jwks',
      `no published key fits the allowed algorithms (${algorithms.join(', ')})`,
      'set AUTHPLANE_ALGORITHMS to what the issuer signs with',
    );
  }
  return ok('jwks', `${signing.length} signing key(s), kids unique; fits ${fitting.join(', ')}`);
}

async function checkIntrospection(
  ctx: DoctorContext,
  endpoint: string | undefined,
  clientId: string,
  clientSecret: string,
): Promise<DoctorCheck> {
  if (!endpoint)
    return fail('introspection', 'no introspection endpoint', 'set AUTHPLANE_INTROSPECTION_ENDPOINT');
  try {
    const response = await ctx.fetch(endpoint, {
      method: 'POST',
      headers: {
        'content-type': 'application/x-www-form-urlencoded',
        authorization: `Basic ${Buffer.from(`${encodeURIComponent(clientId)}:${encodeURIComponent(clientSecret)}`).toString('base64')}`,
      },
      body: new URLSearchParams({ token: 'authplane-doctor-probe' }),
    });
    if (response.status === 401 || response.status === 403) {
      return fail(
        'introspection',
        `the issuer refuses the introspection credentials (HTTP ${response.status})`,
        'check AUTHPLANE_INTROSPECTION_CLIENT_ID / _SECRET',
      );
    }
    if (!response.ok) {
      return fail(
        'introspection',
        `introspection answers HTTP ${response.status}`,
        'check AUTHPLANE_INTROSPECTION_ENDPOINT',
      );
    }
    const body = (await response.json()) as { active?: unknown };
    if (body.active !== false)
      return warn(
        'introspection',
        'a made-up token was not reported inactive',
        'check the endpoint is an RFC 7662 introspection endpoint',
      );
    return ok('introspection', 'credentials accepted');
  } catch (err) {
    return fail(
      'introspection',
      `${endpoint} is not usable (${why(err)})`,
      'check AUTHPLANE_INTROSPECTION_ENDPOINT',
    );
  }
}
