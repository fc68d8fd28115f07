import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AuthRejection, type AuthResult } from '../../src/core/failure';
import { freezePrincipal, type Principal } from '../../src/core/principal';
import { REASON_CODES } from '../../src/core/reasons';
import { createPlane } from '../../src/identity/plane';
import { createMemoryRevocationStore, type RevocationStore } from '../../src/identity/revocation';
import type { AdapterContext, IdentityAdapter, NodeRequestLike, RequestLike } from '../../src/identity/types';

const GOOD = 'good.token.value';
const SESSION_TOKEN = 'session.token.value';
const TRACEPARENT = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

function principal(overrides: Partial<Principal> = {}): Principal {
  return freezePrincipal({
    subject: 'user_1',
    providerSubject: 'user_1',
    provider: 'fake',
    kind: 'user',
    orgId: 'org_1',
    roles: ['member'],
    scopes: ['read'],
    sessionId: null,
    expiresAt: null,
    authMethod: 'jwt',
    claims: { sub: 'user_1', jti: 'jti_1' },
    ...overrides,
  });
}

/**
 * An adapter that accepts exactly two known tokens and refuses everything else with a reason, recording
 * what the plane passed it. The plane is under test here, not the adapter.
 */
function fakeAdapter(behaviour: Partial<{ verify: IdentityAdapter['verify'] }> = {}) {
  const calls: Array<{ token: string; context: AdapterContext }> = [];
  let closed = 0;
  const adapter: IdentityAdapter = {
    name: 'fake',
    async verify(token, context) {
      calls.push({ token, context });
      if (behaviour.verify) return behaviour.verify(token, context);
      if (token === GOOD) return principal();
      if (token === SESSION_TOKEN) return principal({ sessionId: 'sess_1', claims: { sub: 'user_1' } });
      throw new AuthRejection('signature_invalid');
    },
    async close() {
      closed++;
    },
  };
  return { adapter, calls, closedCount: () => closed };
}

const bearer = (token: string) =>
  new Request('https://api.example/x', { headers: { authorization: `Bearer ${token}` } });

function failureOf(result: AuthResult) {
  if (result.ok) throw new Error('expected a failure');
  return result.failure;
}

describe('createPlane', () => {
  it('returns a frozen plane named after the adapter', () => {
    const plane = createPlane(fakeAdapter().adapter);
    expect(Object.isFrozen(plane)).toBe(true);
    expect(plane.provider).toBe('fake');
  });

  it('refuses an adapter without verify (programmer error)', () => {
    expect(() => createPlane({ name: 'x' } as unknown as IdentityAdapter)).toThrow(TypeError);
  });

  it('authenticates a Web Request and a node request', async () => {
    const plane = createPlane(fakeAdapter().adapter);
    const web = await plane.authenticate(bearer(GOOD));
    expect(web.ok && web.principal.subject).toBe('user_1');
    const node: NodeRequestLike = {
      headers: { authorization: `Bearer ${GOOD}` },
      rawHeaders: ['authorization', `Bearer ${GOOD}`],
    };
    expect((await plane.authenticate(node)).ok).toBe(true);
  });

  it('passes the adapter-decided reason through, with the provider name', async () => {
    const plane = createPlane(fakeAdapter().adapter, { realm: 'api' });
    const failure = failureOf(await plane.authenticate(bearer('forged.token')));
    expect(failure.reason).toBe('signature_invalid');
    expect(failure.provider).toBe('fake');
    expect(failure.challenge).toContain('realm="api"');
  });

  it('reports extraction failures with no provider (no adapter was reached)', async () => {
    const { adapter, calls } = fakeAdapter();
    const plane = createPlane(adapter);
    const failure = failureOf(await plane.authenticate(new Request('https://api.example/x')));
    expect(failure.reason).toBe('credentials_missing');
    expect(failure.provider).toBeNull();
    expect(calls).toHaveLength(0);
  });

  describe('trace ids', () => {
    it('uses options.traceId first', async () => {
      const { adapter, calls } = fakeAdapter();
      const plane = createPlane(adapter);
      const req = new Request('https://a.example', {
        headers: { authorization: 'Bearer bad', traceparent: TRACEPARENT },
      });
      const failure = failureOf(await plane.authenticate(req, { traceId: 'my-trace' }));
      expect(failure.traceId).toBe('my-trace');
      expect(calls[0]?.context.traceId).toBe('my-trace');
    });

    it('continues the W3C traceparent of a Web or node request', async () => {
      const plane = createPlane(fakeAdapter().adapter);
      const web = new Request('https://a.example', { headers: { traceparent: TRACEPARENT } });
      expect(failureOf(await plane.authenticate(web)).traceId).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
      const node = { headers: { traceparent: TRACEPARENT } };
      expect(failureOf(await plane.authenticate(node)).traceId).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
    });

    it('generates a fresh one otherwise, and for an unsafe caller trace id', async () => {
      const plane = createPlane(fakeAdapter().adapter);
      const a = failureOf(await plane.verify('bad')).traceId;
      const b = failureOf(await plane.verify('bad')).traceId;
      expect(a).toMatch(/^[0-9a-f]{32}$/);
      expect(a).not.toBe(b);
      const unsafe = failureOf(await plane.verify('bad', { traceId: 'x\r\nset-cookie: a=b' })).traceId;
      expect(unsafe).toMatch(/^[0-9a-f]{32}$/);
      const invalid = new Request('https://a.example', {
        headers: { traceparent: 'ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' },
      });
      expect(failureOf(await plane.authenticate(invalid)).traceId).not.toBe(
        '4bf92f3577b34da6a3ce929d0e0e4736',
      );
    });
  });

  describe('verify(token)', () => {
    it('verifies a bare token', async () => {
      const plane = createPlane(fakeAdapter().adapter);
      expect((await plane.verify(GOOD)).ok).toBe(true);
    });

    it('trims nothing: whitespace makes the token malformed, and the adapter is never called', async () => {
      const { adapter, calls } = fakeAdapter();
      const plane = createPlane(adapter);
      for (const token of [` ${GOOD}`, `${GOOD} `, `${GOOD}\n`, `Bearer ${GOOD}`]) {
        expect(failureOf(await plane.verify(token)).reason).toBe('credentials_malformed');
      }
      expect(calls).toHaveLength(0);
    });

    it('applies the size cap', async () => {
      const plane = createPlane(fakeAdapter().adapter, { maxTokenBytes: 16 });
      expect(failureOf(await plane.verify('a'.repeat(17))).reason).toBe('credentials_malformed');
      expect(failureOf(await plane.authenticate(bearer('a'.repeat(17)))).reason).toBe(
        'credentials_malformed',
      );
    });

    it('returns credentials_malformed for a non-string and credentials_missing for an empty string', async () => {
      const plane = createPlane(fakeAdapter().adapter);
      for (const value of [undefined, null, 42, {}, ['x'], Symbol('x')]) {
        expect(failureOf(await plane.verify(value as unknown as string)).reason).toBe(
          'credentials_malformed',
        );
      }
      expect(failureOf(await plane.verify('')).reason).toBe('credentials_missing');
    });
  });

  describe('failing closed', () => {
    it('turns an unexpected adapter error into provider_unavailable (503), never an accept', async () => {
      const plane = createPlane(
        fakeAdapter({
          verify: async () => {
            throw new Error(`boom with ${GOOD}`);
          },
        }).adapter,
      );
      const failure = failureOf(await plane.verify(GOOD));
      expect(failure.reason).toBe('provider_unavailable');
      expect(failure.status).toBe(503);
      expect(failure.message).not.toContain(GOOD);
    });

    it('treats an adapter that returns no principal or throws synchronously as provider_unavailable', async () => {
      const empty = createPlane(
        fakeAdapter({ verify: async () => undefined as unknown as Principal }).adapter,
      );
      expect(failureOf(await empty.verify(GOOD)).reason).toBe('provider_unavailable');
      const sync = createPlane(
        fakeAdapter({
          verify: () => {
            throw new AuthRejection('key_unknown');
          },
        }).adapter,
      );
      expect(failureOf(await sync.verify(GOOD)).reason).toBe('key_unknown');
    });

    it('freezes a principal the adapter left mutable', async () => {
      const mutable: Principal = { ...principal(), roles: ['member'], claims: { sub: 'u' } };
      const plane = createPlane(fakeAdapter({ verify: async () => mutable }).adapter);
      const result = await plane.verify(GOOD);
      expect(result.ok && Object.isFrozen(result.principal) && Object.isFrozen(result.principal.roles)).toBe(
        true,
      );
    });
  });

  describe('abort', () => {
    it('an already aborted signal is provider_unavailable and the adapter is not called', async () => {
      const { adapter, calls } = fakeAdapter();
      const plane = createPlane(adapter);
      const signal = AbortSignal.abort();
      expect(failureOf(await plane.verify(GOOD, { signal })).reason).toBe('provider_unavailable');
      expect(failureOf(await plane.authenticate(bearer(GOOD), { signal })).reason).toBe(
        'provider_unavailable',
      );
      expect(calls).toHaveLength(0);
    });

    it('an abort during verification ends the call even if the adapter ignores the signal', async () => {
      let release: () => void = () => {};
      const plane = createPlane(
        fakeAdapter({
          verify: () =>
            new Promise<Principal>((resolve) => {
              release = () => resolve(principal());
            }),
        }).adapter,
      );
      const controller = new AbortController();
      const pending = plane.verify(GOOD, { signal: controller.signal });
      controller.abort();
      const failure = failureOf(await pending);
      expect(failure.reason).toBe('provider_unavailable');
      expect(failure.retryAfterSec).toBeGreaterThan(0);
      release();
    });

    it('hands the signal to the adapter', async () => {
      const { adapter, calls } = fakeAdapter();
      const controller = new AbortController();
      await createPlane(adapter).verify(GOOD, { signal: controller.signal });
      expect(calls[0]?.context.signal).toBe(controller.signal);
    });
  });

  describe('revocation', () => {
    it('refuses a revoked jti as token_revoked', async () => {
      const plane = createPlane(fakeAdapter().adapter);
      expect((await plane.verify(GOOD)).ok).toBe(true);
      await plane.revoke({ jti: 'jti_1' });
      const failure = failureOf(await plane.verify(GOOD));
      expect(failure.reason).toBe('token_revoked');
      expect(failure.provider).toBe('fake');
    });

    it('refuses every token of a revoked session', async () => {
      const plane = createPlane(fakeAdapter().adapter);
      await plane.revoke({ sessionId: 'sess_1' });
      expect(failureOf(await plane.authenticate(bearer(SESSION_TOKEN))).reason).toBe('token_revoked');
      expect((await plane.verify(GOOD)).ok).toBe(true); // no session: unaffected
    });

    it('honours until: an entry past its expiry no longer refuses', async () => {
      let now = 1_000_000;
      const plane = createPlane(fakeAdapter().adapter, { clock: () => now });
      await plane.revoke({ jti: 'jti_1', until: new Date(now + 60_000) });
      expect(failureOf(await plane.verify(GOOD)).reason).toBe('token_revoked');
      now += 61_000;
      expect((await plane.verify(GOOD)).ok).toBe(true);
    });

    it('skips the store lookup while the store reports itself empty', async () => {
      let lookups = 0;
      const inner = createMemoryRevocationStore();
      const store: RevocationStore = {
        add: (t, u) => inner.add(t, u),
        isRevoked: (l) => {
          lookups++;
          return inner.isRevoked(l);
        },
        close: () => inner.close(),
        isEmpty: () => inner.isEmpty?.() ?? false,
      };
      const plane = createPlane(fakeAdapter().adapter, { revocation: store });
      await plane.verify(GOOD);
      expect(lookups).toBe(0);
      await plane.revoke({ jti: 'other' });
      await plane.verify(GOOD);
      expect(lookups).toBe(1);
    });

    it('fails closed (provider_unavailable) when a shared store is down', async () => {
      const store: RevocationStore = {
        add: async () => {},
        isRevoked: async () => {
          throw new Error('ECONNREFUSED');
        },
        close: async () => {},
      };
      const plane = createPlane(fakeAdapter().adapter, { revocation: store });
      expect(failureOf(await plane.verify(GOOD)).reason).toBe('provider_unavailable');
    });

    it('refuses a revoke target without jti or sessionId (programmer error)', async () => {
      const plane = createPlane(fakeAdapter().adapter);
      await expect(plane.revoke({} as never)).rejects.toThrow(TypeError);
      await expect(plane.revoke({ jti: '' })).rejects.toThrow(TypeError);
    });
  });

  it('close() closes the adapter and the store once, then refuses as provider_unavailable', async () => {
    const { adapter, closedCount } = fakeAdapter();
    let storeClosed = 0;
    const inner = createMemoryRevocationStore();
    const store: RevocationStore = { ...inner, close: async () => void storeClosed++ };
    const plane = createPlane(adapter, { revocation: store });
    await plane.close();
    await plane.close();
    expect(closedCount()).toBe(1);
    expect(storeClosed).toBe(1);
    expect(failureOf(await plane.verify(GOOD)).reason).toBe('provider_unavailable');
  });
});

describe('plane properties (fast-check)', () => {
  const tokenChars = fc.constantFrom(...'ABCXYZabcxyz0189-._~+/= \t\r\n,;"\'\\:é\u0000\u2028'.split(''));
  const token = fc.oneof(
    fc.constant(GOOD),
    fc.string(),
    fc.string({ unit: tokenChars, maxLength: 64 }),
    // Mutations of the accepted token: one character changed, removed or added.
    fc
      .tuple(fc.nat(GOOD.length), fc.string({ unit: tokenChars, maxLength: 2 }))
      .map(([i, s]) => GOOD.slice(0, i) + s + GOOD.slice(i + 1)),
    fc.nat(20_000).map((n) => 'a'.repeat(n)),
  );
  const scheme = fc.constantFrom('Bearer', 'bearer', 'BEARER', 'Basic', 'DPoP', '', 'Bearer:', 'Token');
  const separator = fc.constantFrom(' ', '  ', '\t', '', ', ');
  const authValue = fc.oneof(
    fc.tuple(scheme, separator, token).map(([s, sep, t]) => `${s}${sep}${t}`),
    fc.string(),
    fc.tuple(token, token).map(([a, b]) => `Bearer ${a}, Bearer ${b}`),
  );
  const headerName = fc.constantFrom(
    'authorization',
    'Authorization',
    'x-api-key',
    'X-API-Key',
    'traceparent',
    'accept',
  );
  const rawHeaders = fc.array(fc.tuple(headerName, fc.oneof(authValue, token)), { maxLength: 4 });
  const url = fc.oneof(
    fc.constant('/x'),
    token.map((t) => `/x?access_token=${encodeURIComponent(t)}`),
    fc.string().map((s) => `/${s}`),
  );

  function nodeRequest(pairs: Array<[string, string]>, path: string): NodeRequestLike {
    const headers: Record<string, string> = {};
    for (const [name, value] of pairs) headers[name.toLowerCase()] ??= value; // node keeps the first
    return { headers, rawHeaders: pairs.flat(), url: path };
  }

  function webRequest(pairs: Array<[string, string]>, path: string): Request | null {
    try {
      return new Request(`https://api.example${path.startsWith('/') ? path : `/${path}`}`, {
        headers: pairs,
      });
    } catch {
      return null; // fetch refuses some header values itself; those never reach a server
    }
  }

  // What a header value carries after its scheme: the part that must never be echoed.
  const credentialsOf = (values: string[]) => values.flatMap((v) => [v, v.replace(/^\S+\s+/, '').trim()]);

  function checkResult(result: AuthResult, presented: string[]): void {
    if (result.ok) {
      // Never accept garbage: the only credential the adapter knows is GOOD.
      expect(result.principal.subject).toBe('user_1');
      return;
    }
    const { failure } = result;
    expect(REASON_CODES).toContain(failure.reason);
    expect(failure.traceId).toMatch(/^[\x21-\x7e]+$/);
    for (const t of presented) {
      // Short strings, or a bare scheme word, can occur in any message by chance.
      if (t.length < 8 || /^[A-Za-z]+\s*$/.test(t)) continue;
      expect(failure.message).not.toContain(t);
      if (failure.challenge) expect(failure.challenge).not.toContain(t);
    }
  }

  it('authenticate never throws, always returns a known reason and never leaks the token (node shape)', async () => {
    const plane = createPlane(fakeAdapter().adapter);
    await fc.assert(
      fc.asyncProperty(rawHeaders, url, async (pairs, path) => {
        const result = await plane.authenticate(nodeRequest(pairs, path));
        checkResult(result, credentialsOf(pairs.map(([, v]) => v)));
        if (result.ok) {
          // Accepted only when exactly one well-formed credential equal to GOOD was presented.
          const creds = pairs.filter(([n]) => /^(authorization|x-api-key)$/i.test(n));
          expect(creds.length).toBeGreaterThan(0);
          expect(path.includes('access_token') || path.includes('access%5F')).toBe(false);
        }
      }),
      { numRuns: 400 },
    );
  });

  it('authenticate never throws for Web Requests either', async () => {
    const plane = createPlane(fakeAdapter().adapter);
    await fc.assert(
      fc.asyncProperty(rawHeaders, url, async (pairs, path) => {
        const request = webRequest(pairs, path);
        if (!request) return;
        checkResult(await plane.authenticate(request), credentialsOf(pairs.map(([, v]) => v)));
      }),
      { numRuns: 400 },
    );
  });

  it('verify never throws, accepts only the exact known token, and never leaks it', async () => {
    const plane = createPlane(fakeAdapter().adapter);
    await fc.assert(
      fc.asyncProperty(token, async (t) => {
        const result = await plane.verify(t);
        expect(result.ok).toBe(t === GOOD);
        checkResult(result, [t]);
      }),
      { numRuns: 500 },
    );
  });

  it('neither method throws for arbitrary non-request, non-string input', async () => {
    const plane = createPlane(fakeAdapter().adapter);
    await fc.assert(
      fc.asyncProperty(fc.anything(), fc.anything(), async (input, options) => {
        const a = await plane.authenticate(input as RequestLike, options as never);
        const b = await plane.verify(input as string, options as never);
        for (const result of [a, b]) if (!result.ok) expect(REASON_CODES).toContain(result.failure.reason);
        expect(a.ok).toBe(false);
      }),
      { numRuns: 300 },
    );
  });
});
