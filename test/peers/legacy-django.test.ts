// Every credential the real Django legacy stack produced (SimpleJWT HS256 / RS256 / binary key / short
// key, django-allauth headless, djangorestframework-api-key), run through the plane: authplane must agree
// with what Django answered (accept, or a 401), for the reason Django had. The drf-api-key table is read
// from django.sqlite3 and from the same rows loaded into PostgreSQL.
import { createServer, type Server, type Socket } from 'node:net';
import {
  AggregationTemporality,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
} from '@opentelemetry/sdk-metrics';
import Database from 'better-sqlite3';
import { SignJWT } from 'jose';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createDrfApiKeyVerifier,
  createLegacyAdapter,
  type DrfApiKeyVerifier,
} from '../../providers/legacy/index';
import { type ApiKeys, createApiKeys } from '../../src/apikeys/keys';
import { loadConfig } from '../../src/config/env';
import { ConfigError } from '../../src/core/errors';
import type { AuthResult } from '../../src/core/failure';
import { createIdentityPlane } from '../../src/identity/create';
import type { IdentityPlane } from '../../src/identity/types';
import { createMemoryApiKeyStore } from '../../src/stores/memory';
import {
  copyDjangoDatabase,
  type DjangoFixtures,
  type DjangoVerdict,
  everyCredential,
  FIXTURE_NOW_MS,
  FIXTURES_PRESENT,
  loadFixtures,
  SKIP_NOTE,
} from './django-fixtures';
import { DATABASE_URL, dropSchema, testSchema } from './pg-helpers';

const TABLE = 'legacyapi_userapikey';
const describeFixtures = FIXTURES_PRESENT ? describe : describe.skip;
const fx = (FIXTURES_PRESENT ? loadFixtures() : null) as DjangoFixtures;
const clock = () => FIXTURE_NOW_MS;
const outcome = (r: AuthResult) => (r.ok ? 'ok' : r.failure.reason);
const apiKeyRequest = (key: string, scheme = 'Api-Key') =>
  new Request('https://api.example.test/items', { headers: { authorization: `${scheme} ${key}` } });

/** Agreement with Django: 200 <-> accepted, 401 <-> refused with a 401. */
function agrees(result: AuthResult, django: DjangoVerdict): boolean {
  if (django.status === 200) return result.ok;
  return !result.ok && result.failure.status === django.status;
}

interface Case {
  readonly path: string;
  readonly plane: 'hs' | 'rs' | 'short' | 'binary' | 'both';
  readonly expected: string;
  readonly django?: DjangoVerdict;
  readonly scheme?: 'Api-Key' | 'Bearer';
}

function cases(): Case[] {
  const k = fx.apikeys;
  const key = (name: string, expected: string): Case => ({
    path: `apikeys.${name}.key`,
    plane: 'hs',
    expected,
    ...(k[name]?.django ? { django: k[name].django } : {}),
    scheme: 'Api-Key',
  });
  return [
    key('valid', 'ok'),
    key('valid_bob', 'ok'),
    key('revoked', 'api_key_revoked'),
    key('expired', 'api_key_expired'),
    key('future_expiry', 'ok'),
    // drf-api-key does not look at the owner's is_active: Django accepted it, and so do we.
    key('inactive_owner', 'ok'),
    key('pbkdf2_untouched', 'ok'),
    key('pbkdf2_upgraded_by_django', 'ok'),
    key('wrong_secret', 'api_key_invalid'),
    key('unknown_prefix', 'api_key_invalid'),
    { path: 'hs256.access', plane: 'hs', expected: 'ok', django: fx.hs256.django.access },
    {
      path: 'hs256.refresh',
      plane: 'hs',
      expected: 'token_type_mismatch',
      django: fx.hs256.django.refresh_as_access,
    },
    { path: 'hs256.refreshed_access', plane: 'hs', expected: 'ok' },
    { path: 'hs256.bob_access', plane: 'hs', expected: 'ok' },
    {
      path: 'hs256.carol_access',
      plane: 'hs',
      expected: 'subject_inactive',
      django: fx.hs256.django.carol_after_deactivation,
    },
    {
      path: 'hs256.allauth.access',
      plane: 'hs',
      expected: 'algorithm_not_allowed',
      django: fx.hs256.allauth.django_simplejwt_view as DjangoVerdict,
    },
    {
      path: 'hs256.allauth.access',
      plane: 'both',
      expected: 'ok',
      django: fx.hs256.allauth.django as DjangoVerdict,
    },
    { path: 'hs256.allauth.refresh', plane: 'both', expected: 'token_type_mismatch' },
    { path: 'hs256.expiring_access', plane: 'hs', expected: 'token_expired' },
    { path: 'hs256.other_secret_access', plane: 'hs', expected: 'signature_invalid' },
    { path: 'short.access', plane: 'short', expected: 'ok', django: fx.short.django },
    { path: 'binary.access', plane: 'binary', expected: 'ok', django: fx.binary.django },
    { path: 'rs256.access', plane: 'rs', expected: 'ok', django: fx.rs256.django.access },
    {
      path: 'rs256.refresh',
      plane: 'rs',
      expected: 'token_type_mismatch',
      django: fx.rs256.django.refresh_as_access,
    },
    { path: 'rs256.bob_access', plane: 'rs', expected: 'ok' },
    { path: 'rs256.rotated_access', plane: 'rs', expected: 'ok', django: fx.rs256.django.rotated_access },
    { path: 'rs256.rotated_refresh', plane: 'rs', expected: 'token_type_mismatch' },
    { path: 'rs256.expiring_access', plane: 'rs', expected: 'token_expired' },
  ];
}

function credentialAt(path: string): string {
  let value: unknown = fx;
  for (const part of path.split('.')) value = (value as Record<string, unknown>)[part];
  if (typeof value !== 'string') throw new Error(`no credential at ${path}`);
  return value;
}

describeFixtures(`Django legacy stack: every fixture credential agrees with Django${SKIP_NOTE}`, () => {
  let sqlitePath: string;
  let users: Database.Database;
  let drf: DrfApiKeyVerifier;
  let keys: ApiKeys;
  const planes: Partial<Record<Case['plane'], IdentityPlane>> = {};

  beforeAll(async () => {
    sqlitePath = copyDjangoDatabase();
    users = new Database(sqlitePath, { readonly: true });
    const isActive = (p: { providerSubject: string }) =>
      (
        users.prepare('SELECT is_active FROM auth_user WHERE id = ?').get(Number(p.providerSubject)) as
          | { is_active: number }
          | undefined
      )?.is_active === 1;
    drf = createDrfApiKeyVerifier({ database: `sqlite:${sqlitePath}`, table: TABLE, clock });
    keys = createApiKeys({ store: createMemoryApiKeyStore(), prefix: 'ap_live', clock, ...drf });
    const common = { provider: 'legacy' as const, clock, apiKeys: keys, apiKeySchemes: ['Api-Key'] };
    planes.hs = await createIdentityPlane({
      ...common,
      preset: 'simplejwt',
      secret: fx.secrets.default,
      isActive,
    });
    planes.rs = await createIdentityPlane({
      ...common,
      preset: 'simplejwt',
      publicKey: fx.secrets.rs256_public_pem,
      issuer: 'https://legacy.example',
      audience: 'https://api.legacy.example',
    });
    planes.short = await createIdentityPlane({
      ...common,
      preset: 'simplejwt',
      secret: fx.secrets.short,
      allowWeakSecret: true,
    });
    planes.binary = await createIdentityPlane({
      ...common,
      preset: 'simplejwt',
      secret: fx.secrets.binary_b64,
      secretEncoding: 'base64',
    });
    planes.both = await createIdentityPlane({
      ...common,
      verifiers: [
        { preset: 'simplejwt', secret: fx.secrets.default },
        { preset: 'allauth-headless', publicKey: fx.secrets.rs256_public_pem },
      ],
    });
  });

  afterAll(async () => {
    for (const plane of Object.values(planes)) await plane?.close();
    await keys?.close();
    await drf?.close();
    users?.close();
  });

  it('covers every credential of the fixtures', () => {
    const covered = new Set(cases().map((c) => c.path));
    const missing = [...everyCredential(fx).keys()].filter((path) => !covered.has(path));
    expect(missing).toEqual([]);
  });

  it.each(FIXTURES_PRESENT ? cases().map((c) => [`${c.path} on the ${c.plane} plane`, c] as const) : [])(
    '%s: %s',
    async (_name, c) => {
      const credential = credentialAt(c.path);
      const plane = planes[c.plane] as IdentityPlane;
      const result = await plane.authenticate(
        c.scheme
          ? apiKeyRequest(credential, c.scheme)
          : new Request('https://api.example.test/items', {
              headers: { authorization: `Bearer ${credential}` },
            }),
      );
      expect(outcome(result)).toBe(c.expected);
      if (c.django) expect(agrees(result, c.django)).toBe(true);
      if (!result.ok) {
        expect(result.failure.status).toBe(401);
        expect(JSON.stringify(result.failure)).not.toContain(credential);
      }
    },
  );

  it('maps SimpleJWT, allauth and drf-api-key principals as Django knew them', async () => {
    const rs = await (planes.rs as IdentityPlane).verify(fx.rs256.access);
    expect(rs.ok && rs.principal).toMatchObject({
      subject: String(fx.users.alice),
      provider: 'legacy',
      kind: 'user',
      orgId: 'team_1',
      roles: ['admin'],
      scopes: ['read', 'write'],
      authMethod: 'jwt',
    });
    const allauth = await (planes.both as IdentityPlane).verify(fx.hs256.allauth.access);
    expect(allauth.ok && allauth.principal).toMatchObject({ subject: '10', provider: 'legacy' });
    expect(allauth.ok && allauth.principal.sessionId).toMatch(/^raHXW1/);
    const key = await (planes.hs as IdentityPlane).authenticate(
      apiKeyRequest(fx.apikeys.valid_bob?.key as string),
    );
    expect(key.ok && key.principal).toMatchObject({
      subject: String(fx.users.bob),
      providerSubject: fx.apikeys.valid_bob?.prefix,
      kind: 'api_key',
      provider: 'legacy',
      authMethod: 'api_key',
    });
    // The stored hash (and the `id` column that embeds it) never leaves the table.
    const hash = String(fx.apikeys.valid_bob?.id).split('.')[1] as string;
    expect(JSON.stringify(key)).not.toContain(hash.slice(10, 40));
  });

  it('accepts a drf key as Bearer too (Django answered 401: drf-api-key reads only its own scheme)', async () => {
    const django = fx.apikeys._django_bearer_scheme as unknown as DjangoVerdict;
    expect(django.status).toBe(401);
    // Deliberate leniency, documented: the key is valid, Bearer is the plane's standard scheme, and
    // clients moving to authplane keys send Bearer. Every refusal reason stays the same under Bearer.
    const hs = planes.hs as IdentityPlane;
    expect(outcome(await hs.authenticate(apiKeyRequest(fx.apikeys.valid?.key as string, 'Bearer')))).toBe(
      'ok',
    );
    expect(outcome(await hs.authenticate(apiKeyRequest(fx.apikeys.revoked?.key as string, 'Bearer')))).toBe(
      'api_key_revoked',
    );
  });

  it('rotation: the old and the new secret both verify, a third secret does not', async () => {
    const plane = await createIdentityPlane({
      provider: 'legacy',
      preset: 'simplejwt',
      secret: fx.secrets.other,
      secrets: [fx.secrets.default],
      clock,
    });
    expect(outcome(await plane.verify(fx.hs256.access))).toBe('ok');
    expect(outcome(await plane.verify(fx.hs256.other_secret_access))).toBe('ok');
    const forged = await new SignJWT({ token_type: 'access', user_id: '10', jti: 'x' })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setIssuedAt(FIXTURE_NOW_MS / 1000 - 10)
      .setExpirationTime(FIXTURE_NOW_MS / 1000 + 100)
      .sign(new TextEncoder().encode('a-third-secret-that-is-long-enough-000000'));
    expect(outcome(await plane.verify(forged))).toBe('signature_invalid');
    await plane.close();
  });

  it('rotation from HS256 to RS256: each key stays pinned to its type (no HS token signed with the public key)', async () => {
    const plane = await createIdentityPlane({
      provider: 'legacy',
      preset: 'simplejwt',
      secret: fx.secrets.default,
      secrets: [{ publicKey: fx.secrets.rs256_public_pem }],
      algorithms: ['HS256', 'RS256'],
      clock,
    });
    expect(outcome(await plane.verify(fx.hs256.access))).toBe('ok');
    expect(outcome(await plane.verify(fx.rs256.access))).toBe('ok');
    const confused = await new SignJWT({ token_type: 'access', user_id: '10', jti: 'x' })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setIssuedAt(FIXTURE_NOW_MS / 1000 - 10)
      .setExpirationTime(FIXTURE_NOW_MS / 1000 + 100)
      .sign(new TextEncoder().encode(fx.secrets.rs256_public_pem));
    expect(outcome(await plane.verify(confused))).toBe('signature_invalid');
    await plane.close();
  });

  it('the binary SIGNING_KEY: as bytes, base64, base64url and hex; a bad encoding is a ConfigError', async () => {
    const bytes = Buffer.from(fx.secrets.binary_b64, 'base64');
    expect(bytes.toString('utf8')).not.toBe(bytes.toString('latin1')); // really not UTF-8
    for (const config of [
      { secret: new Uint8Array(bytes) },
      { secret: bytes },
      { secret: bytes.toString('base64url'), secretEncoding: 'base64url' as const },
      { secret: bytes.toString('hex'), secretEncoding: 'hex' as const },
    ]) {
      const plane = await createIdentityPlane({ provider: 'legacy', preset: 'simplejwt', clock, ...config });
      expect(outcome(await plane.verify(fx.binary.access))).toBe('ok');
      expect(outcome(await plane.verify(fx.hs256.access))).toBe('signature_invalid');
      await plane.close();
    }
    // Read as UTF-8, the same string is another key: that is why the encoding must be said.
    const asText = await createIdentityPlane({ provider: 'legacy', secret: fx.secrets.binary_b64, clock });
    expect(outcome(await asText.verify(fx.binary.access))).toBe('signature_invalid');
    await asText.close();
    for (const [secret, secretEncoding] of [
      [`${fx.secrets.binary_b64}!`, 'base64'],
      ['abc', 'hex'],
      ['a+b/', 'base64url'],
    ] as const) {
      const err = await createIdentityPlane({ provider: 'legacy', secret, secretEncoding }).catch(
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).path).toBe('secret');
      expect((err as ConfigError).message).not.toContain(secret);
    }
    // The environment says it too.
    const fromEnv = loadConfig({
      AUTHPLANE_PROVIDER: 'legacy',
      AUTHPLANE_LEGACY_SECRET: fx.secrets.binary_b64,
      AUTHPLANE_LEGACY_SECRET_ENCODING: 'base64',
      AUTHPLANE_LEGACY_PRESET: 'simplejwt',
      AUTHPLANE_LEGACY_PREVIOUS_SECRET: bytes.toString('base64'),
    });
    const envPlane = await createIdentityPlane({ ...fromEnv, clock } as never);
    expect(outcome(await (envPlane as IdentityPlane).verify(fx.binary.access))).toBe('ok');
    await (envPlane as IdentityPlane).close();
  });

  it('a short secret is a ConfigError; allowWeakSecret warns loudly at start-up and counts every use', async () => {
    const err = await createIdentityPlane({ provider: 'legacy', secret: fx.secrets.short }).catch(
      (e: unknown) => e,
    );
    expect(err).toBeInstanceOf(ConfigError);
    expect((err as ConfigError).path).toBe('secret');
    expect((err as ConfigError).message).toContain('allowWeakSecret');
    expect((err as ConfigError).message).not.toContain(fx.secrets.short);

    const warnings: Error[] = [];
    const onWarning = (w: Error) => warnings.push(w);
    process.on('warning', onWarning);
    const exporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
    const reader = new PeriodicExportingMetricReader({ exporter, exportIntervalMillis: 3_600_000 });
    const meterProvider = new MeterProvider({ readers: [reader] });
    try {
      const plane = await createIdentityPlane({
        provider: 'legacy',
        preset: 'simplejwt',
        secret: fx.secrets.short,
        allowWeakSecret: true,
        clock,
        telemetry: { meterProvider },
      });
      expect(outcome(await plane.verify(fx.short.access))).toBe('ok');
      expect(outcome(await plane.verify(fx.short.access))).toBe('ok');
      await new Promise((r) => setImmediate(r)); // warnings are emitted on the next tick
      const weak = warnings.find((w) => (w as Error & { code?: string }).code === 'AUTHPLANE_WEAK_SECRET');
      expect(weak?.message).toContain('17 bytes');
      expect(weak?.message).not.toContain(fx.secrets.short);
      await reader.forceFlush();
      const metric = exporter
        .getMetrics()
        .at(-1)
        ?.scopeMetrics.flatMap((s) => s.metrics)
        .find((m) => m.descriptor.name === 'authplane.legacy.weak_secret');
      const points = (metric?.dataPoints ?? []).map((p) => ({ attributes: p.attributes, value: p.value }));
      expect(points).toContainEqual({
        attributes: {
          'authplane.provider': 'legacy',
          'authplane.legacy.weak_secret': true,
          'authplane.legacy.event': 'verified',
        },
        value: 2,
      });
      await plane.close();
    } finally {
      process.off('warning', onWarning);
      await meterProvider.shutdown();
    }
  });

  it('a private key passed as publicKey is a ConfigError (PEM and JWK), never silently used', async () => {
    const { createPrivateKey } = await import('node:crypto');
    const jwk = createPrivateKey(fx.secrets.rs256_private_pem).export({ format: 'jwk' });
    for (const publicKey of [fx.secrets.rs256_private_pem, jwk as Record<string, unknown>]) {
      const err = await createIdentityPlane({ provider: 'legacy', publicKey }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ConfigError);
      expect((err as ConfigError).path).toBe('publicKey');
      expect((err as ConfigError).message).toContain('PRIVATE');
    }
    expect(() =>
      createLegacyAdapter({
        provider: 'legacy',
        verifiers: [
          {
            preset: 'allauth-headless',
            publicKey: [fx.secrets.rs256_public_pem, fx.secrets.rs256_private_pem],
          },
        ],
      }),
    ).toThrow(/verifiers\.0\.publicKey\.1/);
  });

  it('side-level allowWeakSecret and requireJti apply to every verifier that does not say otherwise', async () => {
    expect(() =>
      createLegacyAdapter({
        provider: 'legacy',
        verifiers: [{ preset: 'simplejwt', secret: fx.secrets.short }],
      }),
    ).toThrow(/verifiers\.0\.secret/);
    const weak = createLegacyAdapter({
      provider: 'legacy',
      allowWeakSecret: true,
      clock,
      verifiers: [
        { preset: 'simplejwt', secret: fx.secrets.short },
        { preset: 'allauth-headless', publicKey: fx.secrets.rs256_public_pem },
      ],
    });
    expect((await weak.verify(fx.short.access, { traceId: 't' })).subject).toBe('10');
    const noJti = await new SignJWT({ token_type: 'access', user_id: '10' })
      .setProtectedHeader({ alg: 'HS256' })
      .setExpirationTime(FIXTURE_NOW_MS / 1000 + 100)
      .sign(new TextEncoder().encode(fx.secrets.default));
    const strict = await createIdentityPlane({
      provider: 'legacy',
      clock,
      verifiers: [{ preset: 'simplejwt', secret: fx.secrets.default }],
    });
    expect(outcome(await strict.verify(noJti))).toBe('claims_invalid');
    const relaxed = await createIdentityPlane({
      provider: 'legacy',
      clock,
      requireJti: false,
      verifiers: [{ preset: 'simplejwt', secret: fx.secrets.default }],
    });
    expect(outcome(await relaxed.verify(noJti))).toBe('ok');
    await strict.close();
    await relaxed.close();
  });

  it('tokenType may be a list; presets set leeway 0 (SimpleJWT LEEWAY) while explicit fields win', async () => {
    const sliding = await new SignJWT({ token_type: 'sliding', user_id: '10', jti: 's1' })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setIssuedAt(FIXTURE_NOW_MS / 1000 - 10)
      .setExpirationTime(FIXTURE_NOW_MS / 1000 + 100)
      .sign(new TextEncoder().encode(fx.secrets.default));
    const accessOnly = await createIdentityPlane({
      provider: 'legacy',
      preset: 'simplejwt',
      secret: fx.secrets.default,
      clock,
    });
    expect(outcome(await accessOnly.verify(sliding))).toBe('token_type_mismatch');
    const both = await createIdentityPlane({
      provider: 'legacy',
      preset: 'simplejwt',
      secret: fx.secrets.default,
      tokenType: ['access', 'sliding'],
      clock,
    });
    expect(outcome(await both.verify(sliding))).toBe('ok');
    expect(outcome(await both.verify(fx.hs256.access))).toBe('ok');
    expect(outcome(await both.verify(fx.hs256.refresh))).toBe('token_type_mismatch');
    // expiring_access expired at 1796219209: one second later SimpleJWT refuses it, and so does the preset.
    const justAfter = () => 1_796_219_210_000;
    const strict = await createIdentityPlane({
      provider: 'legacy',
      preset: 'simplejwt',
      secret: fx.secrets.default,
      clock: justAfter,
    });
    expect(outcome(await strict.verify(fx.hs256.expiring_access))).toBe('token_expired');
    const lenient = await createIdentityPlane({
      provider: 'legacy',
      secret: fx.secrets.default,
      clock: justAfter,
    });
    expect(outcome(await lenient.verify(fx.hs256.expiring_access))).toBe('ok'); // no preset: 5 s default
    for (const p of [accessOnly, both, strict, lenient]) await p.close();
  });

  it('several verifiers on one side are routed by token shape or issuer, never tried in turn', async () => {
    const plane = await createIdentityPlane({
      provider: 'legacy',
      clock,
      verifiers: [
        {
          preset: 'simplejwt',
          publicKey: fx.secrets.rs256_public_pem,
          issuer: 'https://legacy.example',
          audience: 'https://api.legacy.example',
        },
        { preset: 'allauth-headless', publicKey: fx.secrets.rs256_public_pem },
        { preset: 'simplejwt', secret: fx.secrets.default },
      ],
    });
    expect(outcome(await plane.verify(fx.rs256.access))).toBe('ok');
    expect(outcome(await plane.verify(fx.hs256.allauth.access))).toBe('ok');
    expect(outcome(await plane.verify(fx.hs256.access))).toBe('ok');
    // A SimpleJWT token claiming an unknown issuer goes nowhere; one without a known shape neither.
    const stranger = await new SignJWT({ user_id: '10', jti: 'x', iss: 'https://elsewhere.example' })
      .setProtectedHeader({ alg: 'HS256' })
      .setExpirationTime(FIXTURE_NOW_MS / 1000 + 100)
      .sign(new TextEncoder().encode(fx.secrets.default));
    expect(outcome(await plane.verify(stranger))).toBe('issuer_mismatch');
    const shapeless = await new SignJWT({ user_id: '10', jti: 'x' })
      .setProtectedHeader({ alg: 'HS256' })
      .setExpirationTime(FIXTURE_NOW_MS / 1000 + 100)
      .sign(new TextEncoder().encode(fx.secrets.default));
    expect(outcome(await plane.verify(shapeless))).toBe('token_type_mismatch');
    await plane.close();
    // Key fields beside verifiers are ambiguous: refused.
    const err = await createIdentityPlane({
      provider: 'legacy',
      secret: fx.secrets.default,
      verifiers: [{ secret: fx.secrets.other }],
    } as never).catch((e: unknown) => e);
    expect((err as ConfigError).path).toBe('secret');
  });
});

describeFixtures(`Django legacy stack: the isActive hook${SKIP_NOTE}`, () => {
  it('refuses a user deactivated in Django at once after the cache, fails closed on a slow or broken hook', async () => {
    const path = copyDjangoDatabase();
    const db = new Database(path);
    let now = FIXTURE_NOW_MS;
    let calls = 0;
    const plane = await createIdentityPlane({
      provider: 'legacy',
      preset: 'simplejwt',
      secret: fx.secrets.default,
      clock: () => now,
      isActiveCacheSec: 10,
      isActive: (p) => {
        calls++;
        return (
          (
            db.prepare('SELECT is_active FROM auth_user WHERE id = ?').get(Number(p.providerSubject)) as {
              is_active: number;
            }
          ).is_active === 1
        );
      },
    });
    const results = await Promise.all([1, 2, 3].map(() => plane.verify(fx.hs256.access)));
    expect(results.map(outcome)).toEqual(['ok', 'ok', 'ok']);
    expect(calls).toBe(1); // concurrent requests share one call, later ones the cached answer
    db.prepare('UPDATE auth_user SET is_active = 0 WHERE id = 10').run();
    expect(outcome(await plane.verify(fx.hs256.access))).toBe('ok'); // within isActiveCacheSec
    now += 11_000;
    const refused = await plane.verify(fx.hs256.access);
    expect(!refused.ok && [refused.failure.reason, refused.failure.status, refused.failure.error]).toEqual([
      'subject_inactive',
      401,
      'invalid_token',
    ]);
    await plane.close();
    db.close();

    const stalled = await createIdentityPlane({
      provider: 'legacy',
      secret: fx.secrets.default,
      clock,
      isActiveTimeoutMs: 100,
      isActive: () => new Promise<boolean>(() => {}),
    });
    const started = Date.now();
    const slow = await stalled.verify(fx.hs256.access);
    expect(outcome(slow)).toBe('provider_unavailable');
    expect(Date.now() - started).toBeLessThan(3000);
    const broken = await createIdentityPlane({
      provider: 'legacy',
      secret: fx.secrets.default,
      clock,
      isActive: () => {
        throw new Error('directory down');
      },
    });
    const down = await broken.verify(fx.hs256.access);
    expect(!down.ok && [down.failure.reason, down.failure.status]).toEqual(['provider_unavailable', 503]);
    // Only `true` is active: a hook answering 'yes' or 1 is not trusted.
    const sloppy = await createIdentityPlane({
      provider: 'legacy',
      secret: fx.secrets.default,
      clock,
      isActive: () => 1 as unknown as boolean,
    });
    expect(outcome(await sloppy.verify(fx.hs256.access))).toBe('subject_inactive');
    for (const p of [stalled, broken, sloppy]) await p.close();
  });
});

describeFixtures(`Django legacy stack: drf-api-key from SQLite and PostgreSQL${SKIP_NOTE}`, () => {
  const verdicts = () =>
    Object.entries(fx.apikeys)
      .filter(([name]) => !name.startsWith('_'))
      .map(([name, k]) => [name, k.key, k.django] as const);
  const expected: Record<string, string> = {
    valid: 'ok',
    valid_bob: 'ok',
    revoked: 'api_key_revoked',
    expired: 'api_key_expired',
    future_expiry: 'ok',
    inactive_owner: 'ok',
    pbkdf2_untouched: 'ok',
    pbkdf2_upgraded_by_django: 'ok',
    wrong_secret: 'api_key_invalid',
    unknown_prefix: 'api_key_invalid',
  };

  async function runAll(drf: DrfApiKeyVerifier) {
    const keys = createApiKeys({ store: createMemoryApiKeyStore(), prefix: 'ap_live', clock, ...drf });
    const plane = await createIdentityPlane({
      provider: 'legacy',
      secret: fx.secrets.default,
      clock,
      apiKeys: keys,
      apiKeySchemes: ['Api-Key'],
    });
    const seen: Record<string, string> = {};
    for (const [name, key, django] of verdicts()) {
      const result = await plane.authenticate(apiKeyRequest(key));
      seen[name] = outcome(result);
      if (django) expect(agrees(result, django), name).toBe(true);
    }
    await plane.close();
    await keys.close();
    return seen;
  }

  let schema: string;
  let pool: pg.Pool;

  beforeAll(async () => {
    schema = testSchema('drf');
    pool = new pg.Pool({ connectionString: DATABASE_URL, max: 2 });
    await pool.query(`CREATE SCHEMA "${schema}"`);
    // The columns Django's migration gives the model on PostgreSQL.
    await pool.query(`CREATE TABLE "${schema}".${TABLE} (
      id varchar(150) PRIMARY KEY, prefix varchar(8) NOT NULL UNIQUE, hashed_key varchar(150) NOT NULL,
      created timestamptz NOT NULL, name varchar(50) NOT NULL, revoked boolean NOT NULL,
      expiry_date timestamptz NULL, user_id integer NOT NULL)`);
    const source = new Database(copyDjangoDatabase(), { readonly: true });
    const rows = source.prepare(`SELECT * FROM ${TABLE}`).all() as Array<Record<string, unknown>>;
    source.close();
    const utc = (v: unknown) => (v === null ? null : `${String(v)}Z`);
    for (const r of rows) {
      await pool.query(`INSERT INTO "${schema}".${TABLE} VALUES ($1,$2,$3,$4,$5,$6,$7,$8)`, [
        r.id,
        r.prefix,
        r.hashed_key,
        utc(r.created),
        r.name,
        r.revoked === 1,
        utc(r.expiry_date),
        r.user_id,
      ]);
    }
    expect(rows.length).toBe(Object.keys(expected).length - 2 + 1); // 8 fixture keys + one extra revoked row
  });

  afterAll(async () => {
    await pool?.end();
    if (schema) await dropSchema(schema);
  });

  it('SQLite (sqlite:<path> and a better-sqlite3 Database): every key gets the verdict Django gave', async () => {
    const byPath = createDrfApiKeyVerifier({
      database: `sqlite:${copyDjangoDatabase()}`,
      table: TABLE,
      clock,
    });
    expect(await runAll(byPath)).toEqual(expected);
    await byPath.close();
    const db = new Database(copyDjangoDatabase(), { readonly: true });
    const byHandle = createDrfApiKeyVerifier({ database: db, table: TABLE, clock });
    expect(await runAll(byHandle)).toEqual(expected);
    await byHandle.close();
    expect(db.open).toBe(true); // a handle passed in belongs to its owner
    db.close();
  });

  it('PostgreSQL (a pg.Pool and a postgres:// URL): the same rows, the same verdicts', async () => {
    const byPool = createDrfApiKeyVerifier({ database: pool, table: `${schema}.${TABLE}`, clock });
    expect(await runAll(byPool)).toEqual(expected);
    const byUrl = createDrfApiKeyVerifier({
      database: DATABASE_URL as string,
      table: `${schema}.${TABLE}`,
      clock,
    });
    expect(await runAll(byUrl)).toEqual(expected);
    await byUrl.close();
  });

  it('a PBKDF2 key: cached after success, yet a revocation in Django still takes effect at once; rehash as Django does', async () => {
    const path = copyDjangoDatabase();
    const writer = new Database(path);
    const drf = createDrfApiKeyVerifier({ database: `sqlite:${path}`, table: TABLE, clock, rehash: true });
    const keys = createApiKeys({ store: createMemoryApiKeyStore(), prefix: 'ap_live', clock, ...drf });
    const key = fx.apikeys.pbkdf2_untouched?.key as string;
    const prefix = key.slice(0, 8);
    const hashOf = () =>
      writer.prepare(`SELECT hashed_key, id FROM ${TABLE} WHERE prefix = ?`).get(prefix) as {
        hashed_key: string;
        id: string;
      };
    expect(hashOf().hashed_key).toMatch(/^pbkdf2_sha256\$/);
    // Concurrent first uses share one PBKDF2 run.
    const first = await Promise.all([1, 2, 3].map(() => keys.verify(key)));
    expect(first.map(outcome)).toEqual(['ok', 'ok', 'ok']);
    await new Promise((r) => setTimeout(r, 50));
    const upgraded = hashOf();
    expect(upgraded.hashed_key).toMatch(/^sha512\$\$[0-9a-f]{128}$/);
    expect(upgraded.id).toBe(`${prefix}.${upgraded.hashed_key}`); // drf-api-key derives id from the hash
    expect(outcome(await keys.verify(key))).toBe('ok');
    // The wrong secret for that prefix is refused; a revocation is seen at once.
    expect(outcome(await keys.verify(`${prefix}.${'z'.repeat(32)}`))).toBe('api_key_invalid');
    writer.prepare(`UPDATE ${TABLE} SET revoked = 1 WHERE prefix = ?`).run(prefix);
    expect(outcome(await keys.verify(key))).toBe('api_key_revoked');
    await keys.close();
    await drf.close();

    // Without rehash a cached PBKDF2 success still re-reads revoked and expiry every time.
    const path2 = copyDjangoDatabase();
    const writer2 = new Database(path2);
    const drf2 = createDrfApiKeyVerifier({ database: `sqlite:${path2}`, table: TABLE, clock });
    const keys2 = createApiKeys({ store: createMemoryApiKeyStore(), prefix: 'ap_live', clock, ...drf2 });
    expect(outcome(await keys2.verify(key))).toBe('ok');
    writer2.prepare(`UPDATE ${TABLE} SET expiry_date = '2026-01-01 00:00:00' WHERE prefix = ?`).run(prefix);
    expect(outcome(await keys2.verify(key))).toBe('api_key_expired');
    expect(
      (
        writer2.prepare(`SELECT hashed_key FROM ${TABLE} WHERE prefix = ?`).get(prefix) as {
          hashed_key: string;
        }
      ).hashed_key,
    ).toMatch(/^pbkdf2/);
    await keys2.close();
    await drf2.close();
    writer.close();
    writer2.close();
  });

  it('a flood of wrong secrets for a PBKDF2 prefix is bounded: never an accept, 503 beyond the queue', async () => {
    const drf = createDrfApiKeyVerifier({
      database: `sqlite:${copyDjangoDatabase()}`,
      table: TABLE,
      clock,
      pbkdf2Queue: 1,
    });
    const keys = createApiKeys({ store: createMemoryApiKeyStore(), prefix: 'ap_live', clock, ...drf });
    const prefix = String(fx.apikeys.pbkdf2_untouched?.key).slice(0, 8);
    const flood = await Promise.all(
      [0, 1, 2, 3, 4, 5].map((i) => keys.verify(`${prefix}.${String(i).repeat(32)}`)),
    );
    const reasons = flood.map(outcome);
    expect(reasons).not.toContain('ok');
    expect(reasons.filter((r) => r === 'api_key_invalid').length).toBe(3); // 2 running + 1 queued
    expect(reasons.filter((r) => r === 'provider_unavailable').length).toBe(3);
    expect(outcome(await keys.verify(fx.apikeys.pbkdf2_untouched?.key as string))).toBe('ok');
    await keys.close();
    await drf.close();
  });

  it('a database that is down, stalled or missing is provider_unavailable (503), never a 401 or an accept', async () => {
    const key = fx.apikeys.valid?.key as string;
    const sockets: Socket[] = [];
    const stall: Server = createServer((socket) => sockets.push(socket)); // accepts, never answers: a paused peer
    await new Promise<void>((r) => stall.listen(0, '127.0.0.1', r));
    const port = (stall.address() as { port: number }).port;
    const closed: Server = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const closedPort = (closed.address() as { port: number }).port;
    await new Promise<void>((r) => closed.close(() => r()));
    const stalledPool = new pg.Pool({ connectionString: `postgres://postgres@127.0.0.1:${port}/test` });
    stalledPool.on('error', () => {});
    try {
      for (const database of [
        `postgres://postgres@127.0.0.1:${closedPort}/test`,
        `postgres://postgres@127.0.0.1:${port}/test`,
        stalledPool, // a pool passed in, with no timeouts of its own
        'sqlite:/nonexistent/django.sqlite3',
      ]) {
        const drf = createDrfApiKeyVerifier({ database, table: TABLE, timeoutMs: 300, clock });
        const keys = createApiKeys({ store: createMemoryApiKeyStore(), prefix: 'ap_live', clock, ...drf });
        const started = Date.now();
        const result = await keys.verify(key);
        expect(!result.ok && [result.failure.reason, result.failure.status]).toEqual([
          'provider_unavailable',
          503,
        ]);
        expect(Date.now() - started).toBeLessThan(3000);
        expect(JSON.stringify(result)).not.toContain(key);
        await keys.close();
        void drf.close().catch(() => {}); // a stalled pool ends once the peer lets go (finally below)
      }
    } finally {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((r) => stall.close(() => r()));
      await stalledPool.end().catch(() => {});
    }
  });

  it('refuses bad table and column names and databases at construction', () => {
    for (const options of [
      { database: 'mysql://x', table: TABLE },
      { database: 'sqlite:x', table: 'api_userapikey; DROP TABLE auth_user' },
      { database: 'sqlite:x', ownerColumn: 'user_id" OR 1=1 --' },
      { database: 42 as never },
    ]) {
      expect(() => createDrfApiKeyVerifier(options as never)).toThrow(ConfigError);
    }
  });
});

describe('Api-Key scheme and a configurable key header', () => {
  it('reads Authorization: Api-Key only when configured, the custom header, and refuses ambiguity', async () => {
    const seen: string[] = [];
    const keys = createApiKeys({
      store: createMemoryApiKeyStore(),
      prefix: 'ap_live',
      isLegacyKey: (c) => /^[A-Za-z0-9]{8}\.[A-Za-z0-9]{32}$/.test(c),
      legacyVerifier: async (key) => {
        seen.push(key);
        return key.startsWith('GoodGood')
          ? {
              subject: 'u1',
              providerSubject: 'GoodGood',
              provider: 'legacy',
              kind: 'api_key',
              orgId: null,
              roles: [],
              scopes: [],
              sessionId: null,
              expiresAt: null,
              authMethod: 'api_key',
              claims: {},
            }
          : { reason: 'api_key_revoked' };
      },
    });
    const good = `GoodGood.${'a'.repeat(32)}`;
    const secret = 'legacy-simplejwt-secret-for-tests-0123456789';
    const off = await createIdentityPlane({ provider: 'legacy', secret, apiKeys: keys });
    const on = await createIdentityPlane({
      provider: 'legacy',
      secret,
      apiKeys: keys,
      apiKeySchemes: ['Api-Key'],
      apiKeyHeader: 'X-Legacy-Key',
    });
    const req = (headers: Record<string, string>) => new Request('https://api.example.test/x', { headers });
    expect(outcome(await off.authenticate(req({ authorization: `Api-Key ${good}` })))).toBe(
      'credentials_malformed',
    );
    expect(outcome(await on.authenticate(req({ authorization: `Api-Key ${good}` })))).toBe('ok');
    expect(outcome(await on.authenticate(req({ authorization: `api-key   ${good}` })))).toBe('ok');
    expect(outcome(await on.authenticate(req({ 'x-legacy-key': good })))).toBe('ok');
    // node:http requests: rawHeaders, with duplicates seen.
    expect(
      outcome(await on.authenticate({ headers: {}, rawHeaders: ['X-Legacy-Key', good], url: '/x' })),
    ).toBe('ok');
    expect(
      outcome(
        await on.authenticate({
          headers: {},
          rawHeaders: ['X-Legacy-Key', good, 'x-legacy-key', good],
          url: '/x',
        }),
      ),
    ).toBe('credentials_ambiguous');
    expect(
      outcome(
        await on.authenticate(
          req({ authorization: `Api-Key ${good}`, 'x-legacy-key': `Bad00000.${'a'.repeat(32)}` }),
        ),
      ),
    ).toBe('credentials_ambiguous');
    expect(
      outcome(await on.authenticate(req({ authorization: `Api-Key ${good}`, 'x-legacy-key': good }))),
    ).toBe('ok');
    // The legacy verifier's reason reaches the client; a 60 KB value never reaches the verifier.
    expect(outcome(await on.authenticate(req({ authorization: `Api-Key Revoked0.${'a'.repeat(32)}` })))).toBe(
      'api_key_revoked',
    );
    const before = seen.length;
    expect(outcome(await on.authenticate(req({ authorization: `Api-Key ${'a'.repeat(60_000)}` })))).toBe(
      'credentials_malformed',
    );
    expect(outcome(await on.authenticate(req({ authorization: `Api-Key ${good} extra` })))).toBe(
      'credentials_malformed',
    );
    expect(seen.length).toBe(before);
    for (const bad of [['Bearer'], ['Api Key'], []]) {
      const err = await createIdentityPlane({
        provider: 'legacy',
        secret,
        apiKeySchemes: bad,
      } as never).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(ConfigError);
    }
    await off.close();
    await on.close();
    await keys.close();
  });

  it('the legacyVerifier contract: a past expiresAt is refused whatever the hook says; unknown reasons are api_key_invalid', async () => {
    const principal = (expiresAt: Date | null) => ({
      subject: 'u1',
      providerSubject: 'k1',
      provider: 'legacy',
      kind: 'api_key' as const,
      orgId: null,
      roles: [],
      scopes: [],
      sessionId: null,
      expiresAt,
      authMethod: 'api_key' as const,
      claims: {},
    });
    let answer: unknown;
    const keys = createApiKeys({
      store: createMemoryApiKeyStore(),
      prefix: 'ap_live',
      isLegacyKey: () => true,
      legacyVerifier: async () => answer as never,
    });
    answer = principal(new Date(Date.now() - 1000));
    expect(outcome(await keys.verify('legacy-key-1'))).toBe('api_key_expired');
    answer = principal(new Date(Number.NaN));
    expect(outcome(await keys.verify('legacy-key-1'))).toBe('api_key_expired');
    answer = principal(new Date(Date.now() + 60_000));
    expect(outcome(await keys.verify('legacy-key-1'))).toBe('ok');
    answer = { reason: 'api_key_expired' };
    expect(outcome(await keys.verify('legacy-key-1'))).toBe('api_key_expired');
    answer = { reason: 'provider_unavailable' }; // not a refusal a hook may choose
    expect(outcome(await keys.verify('legacy-key-1'))).toBe('api_key_invalid');
    answer = null;
    expect(outcome(await keys.verify('legacy-key-1'))).toBe('api_key_invalid');
    await keys.close();
  });
});
