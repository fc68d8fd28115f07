// The plane's telemetry read back through the OpenTelemetry SDK's in-memory exporters, and the audit hook.
import { metrics, trace } from '@opentelemetry/api';
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
import { afterEach, describe, expect, it } from 'vitest';
import { AuthRejection } from '../../src/core/failure';
import { freezePrincipal, type Principal } from '../../src/core/principal';
import { createPlane } from '../../src/identity/plane';
import { createMemoryRevocationStore } from '../../src/identity/revocation';
import type { IdentityAdapter } from '../../src/identity/types';
import { type AuditEvent, createAuditor } from '../../src/telemetry/audit';
import { recordJwksFetch } from '../../src/telemetry/metrics';
import { looksLikeCredential, sanitizeDetails } from '../../src/telemetry/redact';

const GOOD = 'good.token.value';
const TRACEPARENT = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

const alice: Principal = freezePrincipal({
  subject: 'alice',
  providerSubject: 'alice',
  provider: 'test',
  kind: 'user',
  orgId: 'org_a',
  roles: ['admin'],
  scopes: ['read'],
  sessionId: null,
  expiresAt: null,
  authMethod: 'jwt',
  claims: { sub: 'alice', email: 'alice@example.test' },
});

/** Accepts GOOD, reports an outage for 'down.token.value', refuses anything else. */
const adapter: IdentityAdapter = {
  name: 'test',
  async verify(token) {
    if (token === GOOD) return alice;
    if (token === 'down.token.value')
      throw new AuthRejection('provider_unavailable', undefined, { retryAfterSec: 7 });
    throw new AuthRejection('signature_invalid');
  },
};

function sdk() {
  const metricExporter = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
  const reader = new PeriodicExportingMetricReader({
    exporter: metricExporter,
    exportIntervalMillis: 3_600_000,
  });
  const meterProvider = new MeterProvider({ readers: [reader] });
  const spanExporter = new InMemorySpanExporter();
  const tracerProvider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(spanExporter)] });
  return {
    meterProvider,
    tracerProvider,
    spans: () => spanExporter.getFinishedSpans(),
    /** Every data point of one metric, as { attributes, value }. */
    async points(name: string) {
      await reader.forceFlush();
      const all = metricExporter.getMetrics().at(-1);
      const metric = all?.scopeMetrics.flatMap((s) => s.metrics).find((m) => m.descriptor.name === name);
      return (metric?.dataPoints ?? []).map((p) => ({ attributes: p.attributes, value: p.value }));
    },
  };
}

const bearer = (token: string, headers: Record<string, string> = {}) =>
  new Request('https://api.example/x', { headers: { authorization: `Bearer ${token}`, ...headers } });

afterEach(() => {
  trace.disable();
  metrics.disable();
});

describe('plane telemetry', () => {
  it('a revocation the store cannot hold is an error and a metric, and the earlier ones stay', async () => {
    const otel = sdk();
    const revocation = createMemoryRevocationStore({ maxEntries: 2 });
    const plane = createPlane(adapter, { telemetry: otel, revocation });
    await plane.revoke({ jti: 'stolen' });
    await plane.revoke({ jti: 'second' });
    await expect(plane.revoke({ jti: 'third' })).rejects.toMatchObject({ code: 'store_full' });
    await expect(plane.revoke({ sessionId: 'fourth' })).rejects.toMatchObject({ code: 'store_full' });
    expect(await revocation.isRevoked({ jti: 'stolen' })).toBe(true);
    const failures = await otel.points('authplane.revocation.failures');
    expect(failures).toEqual([{ attributes: { 'error.type': 'store_full' }, value: 2 }]);
  });

  it('counts decisions by provider, outcome and reason, and records their latency', async () => {
    const otel = sdk();
    const plane = createPlane(adapter, { telemetry: otel });
    await plane.authenticate(bearer(GOOD));
    await plane.authenticate(bearer(GOOD));
    await plane.authenticate(bearer('bad.token.value'));
    await plane.authenticate(new Request('https://api.example/x'));
    await plane.verify('down.token.value');

    const decisions = await otel.points('authplane.decisions');
    const count = (outcome: string, reason: string) =>
      decisions.find(
        (p) =>
          p.attributes['authplane.outcome'] === outcome &&
          p.attributes['authplane.reason'] === reason &&
          p.attributes['authplane.provider'] === 'test',
      )?.value;
    expect(count('success', 'none')).toBe(2);
    expect(count('failure', 'signature_invalid')).toBe(1);
    expect(count('failure', 'credentials_missing')).toBe(1);
    expect(count('failure', 'provider_unavailable')).toBe(1);

    const latency = await otel.points('authplane.decision.duration');
    const total = latency.reduce((n, p) => n + (p.value as { count: number }).count, 0);
    expect(total).toBe(5);
  });

  it('wraps each decision in a span whose trace id is the decision’s, continuing traceparent', async () => {
    const otel = sdk();
    const plane = createPlane(adapter, { telemetry: otel });
    const ok = await plane.authenticate(bearer(GOOD, { traceparent: TRACEPARENT }));
    const bad = await plane.authenticate(bearer('bad.token.value'));
    const down = await plane.verify('down.token.value');
    const [first, second, third] = otel.spans();

    expect(ok.ok && ok.traceId).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
    expect(first?.name).toBe('authplane.authenticate');
    expect(first?.spanContext().traceId).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
    expect(first?.parentSpanContext?.spanId).toBe('00f067aa0ba902b7');
    expect(first?.attributes).toMatchObject({
      'authplane.provider': 'test',
      'authplane.outcome': 'success',
      'authplane.reason': 'none',
    });

    // Without traceparent the span starts the trace, and the failure carries its trace id.
    expect(bad.ok).toBe(false);
    if (!bad.ok) expect(second?.spanContext().traceId).toBe(bad.failure.traceId);
    expect(second?.attributes).toMatchObject({
      'authplane.outcome': 'failure',
      'authplane.reason': 'signature_invalid',
    });
    expect(second?.status.code).toBe(0); // a refused credential is not a span error

    expect(third?.name).toBe('authplane.verify');
    if (!down.ok) expect(third?.spanContext().traceId).toBe(down.failure.traceId);
    expect(third?.status.code).toBe(2); // an outage is
  });

  it('uses the global providers when an SDK is installed after the plane was created, and does nothing before', async () => {
    const plane = createPlane(adapter);
    const before = await plane.authenticate(bearer(GOOD));
    expect(before.ok).toBe(true);

    const otel = sdk();
    trace.setGlobalTracerProvider(otel.tracerProvider);
    metrics.setGlobalMeterProvider(otel.meterProvider);
    await plane.authenticate(bearer(GOOD));
    expect(otel.spans()).toHaveLength(1);
    const decisions = await otel.points('authplane.decisions');
    expect(decisions.map((p) => p.value)).toEqual([1]);
  });

  it('records JWKS fetches and their outcome', async () => {
    const otel = sdk();
    recordJwksFetch({ ok: true, trigger: 'initial', durationMs: 12 }, otel);
    recordJwksFetch({ ok: false, trigger: 'unknown_kid', error: 'timeout', durationMs: 5000 }, otel);
    recordJwksFetch('failure', otel);
    const points = await otel.points('authplane.jwks.fetches');
    expect(points).toEqual(
      expect.arrayContaining([
        { attributes: { 'authplane.outcome': 'success', 'authplane.jwks.trigger': 'initial' }, value: 1 },
        {
          attributes: {
            'authplane.outcome': 'failure',
            'authplane.jwks.trigger': 'unknown_kid',
            'error.type': 'timeout',
          },
          value: 1,
        },
        { attributes: { 'authplane.outcome': 'failure' }, value: 1 },
      ]),
    );
  });
});

describe('audit events', () => {
  it('emits auth.succeeded and auth.failed with a principal summary, never claims', async () => {
    const events: AuditEvent[] = [];
    const plane = createPlane(adapter, {
      audit: (e) => void events.push(e),
      clock: () => Date.UTC(2030, 0, 1),
    });
    const ok = await plane.authenticate(bearer(GOOD));
    const bad = await plane.authenticate(bearer('bad.token.value'));
    expect(events).toEqual([
      {
        type: 'auth.succeeded',
        time: '2030-01-01T00:00:00.000Z',
        traceId: ok.ok ? ok.traceId : '',
        provider: 'test',
        principal: { subject: 'alice', kind: 'user', provider: 'test', orgId: 'org_a', authMethod: 'jwt' },
        orgId: 'org_a',
        reason: null,
      },
      {
        type: 'auth.failed',
        time: '2030-01-01T00:00:00.000Z',
        traceId: bad.ok ? '' : bad.failure.traceId,
        provider: 'test',
        principal: null,
        orgId: null,
        reason: 'signature_invalid',
        status: 401,
      },
    ]);
    expect(JSON.stringify(events)).not.toContain('alice@example.test');
  });

  it('swallows hook errors and rejections: the decision never changes', async () => {
    const throwing = createPlane(adapter, {
      audit: () => {
        throw new Error('sink down');
      },
    });
    const rejecting = createPlane(adapter, { audit: async () => Promise.reject(new Error('sink down')) });
    expect((await throwing.authenticate(bearer(GOOD))).ok).toBe(true);
    expect((await rejecting.authenticate(bearer(GOOD))).ok).toBe(true);
    const refused = await throwing.authenticate(bearer('bad.token.value'));
    expect(!refused.ok && refused.failure.reason).toBe('signature_invalid');
  });

  it('records privileged actions through plane.audit, with sanitized details', async () => {
    const events: AuditEvent[] = [];
    const plane = createPlane(adapter, { audit: (e) => void events.push(e) });
    const result = await plane.authenticate(bearer(GOOD));
    if (!result.ok) throw new Error('expected a principal');
    const event = plane.audit.privileged({
      action: 'execution.start',
      principal: result.principal,
      orgId: 'org_a',
      target: 'ex_42',
      traceId: result.traceId,
      details: {
        runner: 'eu-1',
        attempts: 2,
        apiKey: 'whatever',
        note: 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJl',
        nested: { no: 'objects' },
      },
    });
    expect(events.at(-1)).toBe(event);
    expect(event).toMatchObject({
      type: 'privileged',
      action: 'execution.start',
      outcome: 'succeeded',
      orgId: 'org_a',
      target: 'ex_42',
      traceId: result.traceId,
      principal: { subject: 'alice', kind: 'user' },
      details: { runner: 'eu-1', attempts: 2, apiKey: '[redacted]', note: '[redacted]' },
    });
    expect(event.details).not.toHaveProperty('nested');
    expect(() => plane.audit.privileged({ action: 'has spaces', principal: null })).toThrow(TypeError);
  });

  it('is a no-op without a hook, and createAuditor works without a plane', () => {
    expect(createAuditor().enabled).toBe(false);
    const events: AuditEvent[] = [];
    const auditor = createAuditor((e) => void events.push(e));
    auditor.privileged({ action: 'apikey.create', principal: alice, target: 'key_1', outcome: 'attempted' });
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ type: 'privileged', orgId: 'org_a', outcome: 'attempted' });
  });
});

describe('redaction helpers', () => {
  it('recognises credentials and leaves ordinary identifiers alone', () => {
    expect(looksLikeCredential('eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0.sig')).toBe(true);
    expect(looksLikeCredential('Bearer abc')).toBe(true);
    expect(looksLikeCredential('ap_live_Q2x4bW9ZR3pKc0t5TnBmV0VrUmFBdWZ0')).toBe(true);
    expect(looksLikeCredential('2f1c8a8e-3b1d-4c7e-9a1f-0c6d2b7e9f10')).toBe(false);
    expect(looksLikeCredential('execution.start')).toBe(false);
    expect(looksLikeCredential('x'.repeat(64))).toBe(false);
    expect(looksLikeCredential('the run of execution ex_42 finished at 12:00 for org_acme')).toBe(false);
    expect(sanitizeDetails({ password: 'x', ok: true, long: 'y'.repeat(400) })).toEqual({
      password: '[redacted]',
      ok: true,
      long: 'y'.repeat(256),
    });
  });

  it('finds credentials inside free text: API keys, hex secrets, Slack and GitHub tokens', () => {
    const shapes = [
      'rotated ap_live_Q2x4bW9ZR3pKc0t5_TnBmV0VrUmFBdWZ0 for bob',
      'key=ap_test_abcdefghijklmnop_qrstuvwxyz',
      'webhook secret 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08 set',
      'bot xoxb-123456789012-1234567890123-AbCdEfGhIjKlMnOpQrStUvWx installed',
      'xoxp-1234-5678-abcdefgh',
      'xoxa-2-abcdefghijk',
      'xoxr-refresh-abcdefghijk',
      'pushed with ghp_abcdefghijklmnopqrstuvwxyz0123456789',
      'gho_16C7e42F292c6912E7710c838347Ae178B4a',
      'ghu_abcdefghijklmnop ghs_abcdefghijklmnop',
      'ghr_1B4a2e77838347a7E420ce178F2E7c6912E169246c34E1ccbF66C46812d16D5B1A9Dc86A1498',
      'github_pat_11ABCDEFG0abcdefghijkl_mnopqrstuvwxyz',
      'note: eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0.sig inside',
    ];
    for (const text of shapes) {
      expect(looksLikeCredential(text), text).toBe(true);
      expect(sanitizeDetails({ note: text })?.note, text).toBe('[redacted]');
    }
    const auditor = createAuditor();
    const event = auditor.privileged({
      action: 'apikey.create',
      principal: null,
      target: 'ghp_abcdefghijklmnopqrstuvwxyz0123456789',
      details: { note: shapes[0], slack: shapes[3] },
    });
    expect(JSON.stringify(event)).not.toMatch(/ap_live_|xoxb-|ghp_/);
  });

  it('checks a 60 KB id or detail in linear time, and redacts a value too long to vouch for', () => {
    const auditor = createAuditor(() => {});
    const attacks = [
      'eyJ'.repeat(20_000),
      `eyJ${'a'.repeat(60_000)}`,
      `${'a'.repeat(60_000)}.`,
      `Bearer${' '.repeat(60_000)}`,
      '0'.repeat(31).concat(' ').repeat(2_000),
      'xoxb-'.repeat(12_000),
    ];
    for (const value of attacks) {
      const started = performance.now();
      const event = auditor.privileged({
        action: 'apikey.create',
        principal: null,
        target: value,
        details: { [value]: 1, note: value },
      });
      expect(performance.now() - started, value.slice(0, 12)).toBeLessThan(1500);
      expect(event.target).toBe('[redacted]');
      expect(event.details?.note).toBe('[redacted]');
    }
  });
});
