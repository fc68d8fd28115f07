// Redaction: representative scenarios (valid, expired, forged, missing scope, cross-org, API-key-shaped
// garbage, opaque tokens, query tokens, duplicate headers, privileged actions) run through every
// framework adapter against the real dev issuer, while everything observable is captured: audit events,
// spans and metrics (OpenTelemetry in-memory exporters), responses, console output and the issuer's
// logger. No token, key or secret — nor any 16-character piece of one, nor a signature — may appear.
import { randomBytes } from 'node:crypto';
import {
  AggregationTemporality,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
} from '@opentelemetry/sdk-metrics';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { exportJWK, generateKeyPair, importJWK, type JWK, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DevIssuer, startDevIssuer } from '../../src/dev/index';
import { createAuthorizer } from '../../src/identity/authorizer';
import { createIdentityPlane } from '../../src/identity/create';
import type { IdentityPlane } from '../../src/identity/types';
import type { AuditEvent } from '../../src/telemetry/audit';
import { bearer, FRAMEWORKS, send } from './http-servers';

const captured: string[] = [];
const audit: AuditEvent[] = [];
const metricExporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
const reader = new PeriodicExportingMetricReader({
  exporter: metricExporter,
  exportIntervalMillis: 3_600_000,
});
const meterProvider = new MeterProvider({ readers: [reader] });
const spanExporter = new InMemorySpanExporter();
const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spanExporter)] });

let dev: DevIssuer;
let plane: IdentityPlane;
const secrets: Record<string, string> = {};

async function signWith(jwk: JWK, alg: 'ES256', claims: Record<string, unknown>, kid: string) {
  const now = Math.floor(Date.now() / 1000);
  return new SignJWT({
    iss: dev.issuer,
    aud: dev.audience,
    sub: 'alice',
    client_id: 'authplane-cli',
    scope: 'read',
    org_id: 'org_acme',
    iat: now,
    exp: now + 300,
    ...claims,
  })
    .setProtectedHeader({ alg, kid, typ: 'at+jwt' })
    .sign(await importJWK(jwk, alg));
}

beforeAll(async () => {
  const log = (level: string) => (message: string) => void captured.push(`dev.${level}: ${message}`);
  dev = await startDevIssuer({
    logger: { debug: log('debug'), info: log('info'), warn: log('warn'), error: log('error') },
  });
  plane = await createIdentityPlane({
    provider: 'oidc',
    issuer: dev.issuer,
    audience: dev.audience,
    algorithms: ['RS256', 'ES256', 'EdDSA'],
    allowInsecureRequests: true,
    audit: (event) => void audit.push(event),
    telemetry: { meterProvider, tracerProvider },
  });
  const issuerKey = dev.signingKeys().find((k) => k.alg === 'ES256') as JWK;
  const attacker = await generateKeyPair('ES256', { extractable: true });
  const past = Math.floor(Date.now() / 1000) - 900;
  secrets.valid = await dev.mintServiceToken({ scope: 'read' });
  secrets.validEdDSA = await dev.mintServiceToken({ scope: 'read sync:write', alg: 'EdDSA' });
  secrets.expired = await signWith(
    issuerKey,
    'ES256',
    { iat: past - 300, exp: past },
    issuerKey.kid as string,
  );
  secrets.forged = await signWith(
    await exportJWK(attacker.privateKey),
    'ES256',
    { roles: ['admin'] },
    issuerKey.kid as string,
  );
  secrets.user = await signWith(issuerKey, 'ES256', { roles: ['admin'] }, issuerKey.kid as string);
  secrets.opaque = await dev.mintOpaqueToken({ scope: 'read' });
  secrets.apiKey = `ap_live_${randomBytes(24).toString('base64url')}`;
  secrets.clientSecret = dev.clients.service.clientSecret;
  // Shapes an application pastes into free text: hex secrets and Slack/GitHub tokens.
  secrets.hexSecret = randomBytes(32).toString('hex');
  secrets.slackBot = `xoxb-${randomBytes(6).readUIntBE(0, 6)}-${randomBytes(12).toString('base64url')}`;
  secrets.slackUser = `xoxp-${randomBytes(16).toString('hex')}`;
  secrets.githubPat = `ghp_${randomBytes(27).toString('base64url').replace(/[-_]/g, 'x')}`;
  secrets.githubApp = `ghs_${randomBytes(27).toString('base64url').replace(/[-_]/g, 'x')}`;
});

afterAll(async () => {
  await plane?.close();
  await dev?.stop();
});

/** Where a secret (or a 16+ character piece of it, or its signature) shows up in `text`, or null. */
function leak(text: string, secret: string): string | null {
  if (text.includes(secret)) return 'the whole value';
  const signature = secret.split('.')[2];
  if (signature && signature.length >= 16 && text.includes(signature)) return 'its signature';
  for (let i = 0; i + 16 <= secret.length; i++) {
    if (text.includes(secret.slice(i, i + 16))) return `a piece at offset ${i}`;
  }
  return null;
}

describe('no credential appears in any telemetry, audit event, response or log', () => {
  it('runs every scenario through every adapter and finds nothing', async () => {
    const consoleMethods = ['log', 'info', 'warn', 'error', 'debug'] as const;
    const originals = consoleMethods.map((m) => console[m]);
    for (const m of consoleMethods) {
      console[m] = (...args: unknown[]) => void captured.push(`console.${m}: ${args.map(String).join(' ')}`);
    }
    let responses = 0;
    try {
      for (const [, start] of FRAMEWORKS) {
        const server = await start(plane, createAuthorizer({ isMember: async () => false }));
        const scenarios: Array<{ path: string; method?: string; headers: string[]; status: number }> = [
          { path: '/items', headers: bearer(secrets.valid as string), status: 200 },
          { path: '/items', headers: bearer(secrets.user as string), status: 200 },
          { path: '/items', headers: bearer(secrets.expired as string), status: 401 },
          { path: '/items', headers: bearer(secrets.forged as string), status: 401 },
          { path: '/sync', method: 'POST', headers: bearer(secrets.valid as string), status: 403 },
          { path: '/orgs/org_globex/reports', headers: bearer(secrets.valid as string), status: 403 },
          { path: '/orgs/org_globex/reports', headers: bearer(secrets.user as string), status: 403 },
          { path: '/items', headers: bearer(secrets.apiKey as string), status: 401 },
          { path: '/items', headers: ['X-API-Key', secrets.apiKey as string], status: 401 },
          { path: '/items', headers: bearer(secrets.opaque as string), status: 401 },
          { path: `/items?access_token=${secrets.valid}`, headers: [], status: 401 },
          {
            path: `/items?access_token=${secrets.valid}`,
            headers: bearer(secrets.valid as string),
            status: 400,
          },
          {
            path: '/items',
            headers: [...bearer(secrets.valid as string), ...bearer(secrets.validEdDSA as string)],
            status: 400,
          },
          {
            path: '/items',
            headers: [
              'Authorization',
              `Basic ${Buffer.from(`x:${secrets.clientSecret}`).toString('base64')}`,
            ],
            status: 401,
          },
        ];
        try {
          for (const s of scenarios) {
            const res = await send(`${server.url}${s.path}`, { method: s.method, headers: s.headers });
            expect(res.status, `${s.path}`).toBe(s.status);
            captured.push(`response ${res.status} ${JSON.stringify(res.headers)} ${res.body}`);
            responses++;
          }
        } finally {
          await server.close();
        }
      }
      // Bare verifications, and a privileged action an application records carelessly.
      for (const token of Object.values(secrets)) {
        const result = await plane.verify(token);
        captured.push(JSON.stringify(result.ok ? { ok: true, traceId: result.traceId } : result.failure));
      }
      plane.audit.privileged({
        action: 'apikey.create',
        principal: null,
        target: secrets.apiKey,
        details: {
          key: secrets.apiKey,
          note: secrets.valid,
          header: `Bearer ${secrets.opaque}`,
          secret: secrets.clientSecret,
          // Credentials inside free text, under names that say nothing.
          memo: `rotated ${secrets.apiKey} for bob`,
          webhook: `signing with ${secrets.hexSecret} from now on`,
          bot: `installed ${secrets.slackBot} in #ops`,
          user: `on behalf of ${secrets.slackUser}`,
          pushed: `by ${secrets.githubPat} at 12:00`,
          app: `${secrets.githubApp}`,
        },
      });
    } finally {
      consoleMethods.forEach((m, i) => {
        console[m] = originals[i] as (typeof console)[typeof m];
      });
    }

    await reader.forceFlush();
    const spans = spanExporter.getFinishedSpans();
    expect(responses).toBeGreaterThan(40);
    expect(spans.length).toBeGreaterThan(40);
    expect(audit.some((e) => e.type === 'authz.denied')).toBe(true);
    expect(audit.some((e) => e.type === 'auth.failed')).toBe(true);
    expect(audit.some((e) => e.type === 'auth.succeeded')).toBe(true);

    const everything = [
      ...captured,
      JSON.stringify(audit),
      JSON.stringify(
        spans.map((s) => ({
          name: s.name,
          attributes: s.attributes,
          events: s.events,
          status: s.status,
          links: s.links,
          resource: s.resource.attributes,
        })),
      ),
      JSON.stringify(metricExporter.getMetrics()),
    ].join('\n');

    for (const [name, secret] of Object.entries(secrets)) {
      expect(leak(everything, secret), `${name} leaked`).toBeNull();
      // The detector itself finds a piece of the secret, or its signature, when one is there.
      expect(leak(`${everything} …${secret.slice(3, 20)}…`, secret)).not.toBeNull();
    }
    const signature = (secrets.valid as string).split('.')[2] as string;
    expect(leak(`x${signature}x`, secrets.valid as string)).toBe('its signature');
  });

  it('feeds JWKS fetches into authplane.jwks.fetches through createIdentityPlane', async () => {
    await reader.forceFlush();
    const metric = metricExporter
      .getMetrics()
      .at(-1)
      ?.scopeMetrics.flatMap((s) => s.metrics)
      .find((m) => m.descriptor.name === 'authplane.jwks.fetches');
    const ok = metric?.dataPoints.find((p) => p.attributes['authplane.outcome'] === 'success');
    expect(ok?.value).toBeGreaterThanOrEqual(1);
  });
});
