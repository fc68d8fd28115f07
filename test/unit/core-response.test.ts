import { describe, expect, it } from 'vitest';
import {
  AuthRejection,
  bearerChallenge,
  createFailure,
  DEFAULT_MESSAGES,
  failureFromError,
} from '../../src/core/failure';
import { isReason, REASON_CODES, REASONS } from '../../src/core/reasons';
import { TRACE_ID_HEADER, toHttp, toResponse } from '../../src/core/response';
import { newTraceId, parseTraceparent, traceIdFrom } from '../../src/core/trace';

const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736';

describe('toHttp / toResponse', () => {
  it('401 invalid_token: challenge, no-store, trace header, JSON body', async () => {
    const failure = createFailure({ reason: 'token_expired', traceId: TRACE, provider: 'oidc' });
    const http = toHttp(failure);
    expect(http.status).toBe(401);
    expect(http.headers['www-authenticate']).toBe(
      'Bearer error="invalid_token", error_description="The token has expired"',
    );
    expect(http.headers['cache-control']).toBe('no-store');
    expect(http.headers['content-type']).toBe('application/json');
    expect(http.headers[TRACE_ID_HEADER]).toBe(TRACE);
    expect(JSON.parse(http.body)).toEqual({
      error: 'invalid_token',
      reason: 'token_expired',
      trace_id: TRACE,
    });

    const response = toResponse(failure);
    expect(response.status).toBe(401);
    expect(response.headers.get('www-authenticate')).toBe(http.headers['www-authenticate']);
    expect(response.headers.get('x-trace-id')).toBe(TRACE);
    expect(await response.json()).toEqual({
      error: 'invalid_token',
      reason: 'token_expired',
      trace_id: TRACE,
    });
  });

  it('401 credentials_missing: bare challenge (RFC 6750 §3.1: no error code) and body error "unauthorized"', () => {
    const http = toHttp(createFailure({ reason: 'credentials_missing', traceId: TRACE }));
    expect(http.status).toBe(401);
    expect(http.headers['www-authenticate']).toBe('Bearer');
    expect(JSON.parse(http.body).error).toBe('unauthorized');
  });

  it('realm is the first challenge attribute', () => {
    const http = toHttp(createFailure({ reason: 'credentials_missing', traceId: TRACE, realm: 'api' }));
    expect(http.headers['www-authenticate']).toBe('Bearer realm="api"');
  });

  it('400 credentials_ambiguous is invalid_request', () => {
    const http = toHttp(createFailure({ reason: 'credentials_ambiguous', traceId: TRACE }));
    expect(http.status).toBe(400);
    expect(http.headers['www-authenticate']).toMatch(/^Bearer error="invalid_request"/);
  });

  it('403 scope_insufficient carries scope=', async () => {
    const failure = createFailure({
      reason: 'scope_insufficient',
      traceId: TRACE,
      scope: ['sync:write', 'read'],
    });
    const response = toResponse(failure);
    expect(response.status).toBe(403);
    const challenge = response.headers.get('www-authenticate') ?? '';
    expect(challenge).toMatch(/^Bearer error="insufficient_scope"/);
    expect(challenge).toContain('scope="sync:write read"');
    expect((await response.json()).error).toBe('insufficient_scope');
  });

  it('503 provider_unavailable: Retry-After, no challenge, body error temporarily_unavailable', () => {
    const http = toHttp(createFailure({ reason: 'provider_unavailable', traceId: TRACE, retryAfterSec: 7 }));
    expect(http.status).toBe(503);
    expect(http.headers['retry-after']).toBe('7');
    expect(http.headers['www-authenticate']).toBeUndefined();
    expect(JSON.parse(http.body)).toEqual({
      error: 'temporarily_unavailable',
      reason: 'provider_unavailable',
      trace_id: TRACE,
    });
    expect(
      toHttp(createFailure({ reason: 'provider_unavailable', traceId: TRACE })).headers['retry-after'],
    ).toBe('5');
  });

  it('every reason renders with its table status', () => {
    for (const reason of REASON_CODES) {
      const http = toHttp(createFailure({ reason, traceId: TRACE }));
      expect(http.status).toBe(REASONS[reason].status);
      expect(JSON.parse(http.body).reason).toBe(reason);
      expect(() => toResponse(createFailure({ reason, traceId: TRACE }))).not.toThrow();
    }
  });
});

describe('bearerChallenge', () => {
  it('strips characters RFC 6750 forbids in quoted values (quote, backslash, control, non-ASCII)', () => {
    const value = bearerChallenge({
      error: 'invalid_token',
      message: 'a"b\\c\r\nSet-Cookie: x=1\u00e9',
      realm: 'r"e\\alm',
    });
    expect(value).toBe('Bearer realm="realm", error="invalid_token", error_description="abcSet-Cookie: x=1"');
    expect(() => new Headers({ 'www-authenticate': value })).not.toThrow();
  });

  it('omits error_description without an error, and scope when empty', () => {
    expect(bearerChallenge({ error: null, message: 'ignored' })).toBe('Bearer');
    expect(bearerChallenge({ error: 'insufficient_scope', scope: [] })).toBe(
      'Bearer error="insufficient_scope"',
    );
  });
});

describe('failures', () => {
  it('every reason has a non-empty default message and a table entry', () => {
    expect(Object.keys(DEFAULT_MESSAGES).sort()).toEqual([...REASON_CODES].sort());
    for (const reason of REASON_CODES) {
      expect(DEFAULT_MESSAGES[reason].length).toBeGreaterThan(0);
      expect(isReason(reason)).toBe(true);
    }
    expect(isReason('nope')).toBe(false);
    expect(isReason('toString')).toBe(false);
  });

  it('createFailure is frozen and failureFromError keeps a rejection reason but fails closed otherwise', () => {
    const failure = createFailure({ reason: 'token_revoked', traceId: TRACE });
    expect(Object.isFrozen(failure)).toBe(true);
    const kept = failureFromError(new AuthRejection('key_unknown'), { traceId: TRACE, provider: 'oidc' });
    expect(kept.reason).toBe('key_unknown');
    const closed = failureFromError(new Error('secret-token-abc'), { traceId: TRACE, provider: 'oidc' });
    expect(closed.reason).toBe('provider_unavailable');
    expect(closed.message).not.toContain('secret-token-abc');
  });
});

describe('trace ids', () => {
  it('parses a valid traceparent', () => {
    expect(parseTraceparent(`00-${TRACE}-00f067aa0ba902b7-01`)).toBe(TRACE);
    expect(parseTraceparent(` 00-${TRACE}-00f067aa0ba902b7-00 `)).toBe(TRACE);
  });

  it('refuses version ff, all-zero ids, uppercase, wrong lengths and absence', () => {
    expect(parseTraceparent(`ff-${TRACE}-00f067aa0ba902b7-01`)).toBeNull();
    expect(parseTraceparent(`00-${'0'.repeat(32)}-00f067aa0ba902b7-01`)).toBeNull();
    expect(parseTraceparent(`00-${TRACE}-${'0'.repeat(16)}-01`)).toBeNull();
    expect(parseTraceparent(`00-${TRACE.toUpperCase()}-00f067aa0ba902b7-01`)).toBeNull();
    expect(parseTraceparent(`00-${TRACE}0-00f067aa0ba902b7-01`)).toBeNull();
    expect(parseTraceparent('garbage')).toBeNull();
    expect(parseTraceparent(null)).toBeNull();
    expect(parseTraceparent(undefined)).toBeNull();
    expect(parseTraceparent('')).toBeNull();
  });

  it('newTraceId is 32 lowercase hex and traceIdFrom continues or starts a trace', () => {
    expect(newTraceId()).toMatch(/^[0-9a-f]{32}$/);
    expect(newTraceId()).not.toBe(newTraceId());
    expect(traceIdFrom(`00-${TRACE}-00f067aa0ba902b7-01`)).toBe(TRACE);
    expect(traceIdFrom('bad')).toMatch(/^[0-9a-f]{32}$/);
  });
});
