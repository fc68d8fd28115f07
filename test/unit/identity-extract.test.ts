import { createServer, request as httpRequest, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuthRejection } from '../../src/core/failure';
import type { Reason } from '../../src/core/reasons';
import { checkToken, extractCredential } from '../../src/identity/extract';
import type { NodeRequestLike, RequestLike } from '../../src/identity/types';

const TOKEN = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ1MSJ9.c2lnbmF0dXJl';

function reasonOf(fn: () => unknown): Reason {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(AuthRejection);
    return (err as AuthRejection).reason;
  }
  throw new Error('expected an AuthRejection');
}

function messageOf(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    return (err as AuthRejection).message;
  }
  throw new Error('expected an AuthRejection');
}

function web(
  headers: Record<string, string> | [string, string][],
  url = 'https://api.example/items',
): Request {
  return new Request(url, { headers });
}

function node(
  headers: Record<string, string | string[]>,
  url = '/items',
  rawHeaders?: string[],
): NodeRequestLike {
  const raw =
    rawHeaders ??
    Object.entries(headers).flatMap(([k, v]) => (Array.isArray(v) ? v.flatMap((x) => [k, x]) : [k, v]));
  return { headers, rawHeaders: raw, url };
}

// Every rule is checked against both request shapes.
const shapes: Array<[string, (h: Record<string, string>, url?: string) => RequestLike]> = [
  ['Web Request', (h, url) => web(h, url ? `https://api.example${url}` : undefined)],
  ['node request', (h, url) => node(h, url)],
];

describe.each(shapes)('extractCredential (%s)', (_name, make) => {
  it('takes a Bearer token', () => {
    expect(extractCredential(make({ authorization: `Bearer ${TOKEN}` }))).toEqual({
      token: TOKEN,
      source: 'authorization',
    });
  });

  it('accepts the scheme in any case and one or more spaces', () => {
    for (const value of [`bearer ${TOKEN}`, `BEARER ${TOKEN}`, `BeArEr    ${TOKEN}`]) {
      expect(extractCredential(make({ authorization: value })).token).toBe(TOKEN);
    }
  });

  it('accepts every token68 character and trailing padding', () => {
    const token = 'AZaz09-._~+/abc==';
    expect(extractCredential(make({ authorization: `Bearer ${token}` })).token).toBe(token);
  });

  it('refuses a missing credential as credentials_missing', () => {
    expect(reasonOf(() => extractCredential(make({})))).toBe('credentials_missing');
    expect(reasonOf(() => extractCredential(make({ accept: 'application/json' })))).toBe(
      'credentials_missing',
    );
  });

  it('refuses other schemes as credentials_malformed', () => {
    for (const value of ['Basic dXNlcjpwYXNz', `DPoP ${TOKEN}`, `Token ${TOKEN}`, TOKEN, `Bearer:${TOKEN}`]) {
      expect(reasonOf(() => extractCredential(make({ authorization: value })))).toBe('credentials_malformed');
    }
    expect(messageOf(() => extractCredential(make({ authorization: 'Basic dXNlcjpwYXNz' })))).toMatch(
      /Bearer/,
    );
  });

  it('refuses a bad token68 syntax as credentials_malformed', () => {
    for (const value of [
      'Bearer',
      'Bearer ',
      `Bearer\t${TOKEN}`,
      `Bearer ${TOKEN} extra`,
      'Bearer a=b',
      'Bearer =abc',
      'Bearer abc"',
      'Bearer ab;c',
      'Bearer é',
    ]) {
      expect(
        reasonOf(() => extractCredential(make({ authorization: value }))),
        value,
      ).toBe('credentials_malformed');
    }
  });

  it('refuses a token above the size cap (default 8 KiB, configurable)', () => {
    const big = 'a'.repeat(8193);
    expect(reasonOf(() => extractCredential(make({ authorization: `Bearer ${big}` })))).toBe(
      'credentials_malformed',
    );
    expect(extractCredential(make({ authorization: `Bearer ${'a'.repeat(8192)}` })).token).toHaveLength(8192);
    expect(
      reasonOf(() => extractCredential(make({ authorization: `Bearer ${TOKEN}` }), { maxTokenBytes: 10 })),
    ).toBe('credentials_malformed');
    expect(messageOf(() => extractCredential(make({ authorization: `Bearer ${big}` })))).toMatch(
      /8192 bytes/,
    );
  });

  it('refuses several comma-separated credentials as credentials_ambiguous', () => {
    for (const value of [
      `Bearer ${TOKEN}, Bearer other`,
      `Bearer ${TOKEN}, Basic dXNlcg==`,
      `Basic a, Bearer ${TOKEN}`,
    ]) {
      expect(reasonOf(() => extractCredential(make({ authorization: value })))).toBe('credentials_ambiguous');
    }
    // A comma inside what is one credential is a syntax error, not two credentials.
    expect(reasonOf(() => extractCredential(make({ authorization: 'Bearer a,b' })))).toBe(
      'credentials_malformed',
    );
  });

  it('refuses a token in both the header and the query as credentials_ambiguous', () => {
    const req = make({ authorization: `Bearer ${TOKEN}` }, `/items?access_token=${TOKEN}`);
    expect(reasonOf(() => extractCredential(req))).toBe('credentials_ambiguous');
    const encoded = make({ authorization: `Bearer ${TOKEN}` }, '/items?x=1&access%5Ftoken=abc');
    expect(reasonOf(() => extractCredential(encoded))).toBe('credentials_ambiguous');
  });

  it('treats a token only in the query as credentials_missing (RFC 6750 §3.1), saying query tokens are not accepted', () => {
    const req = make({}, `/items?access_token=${TOKEN}`);
    expect(reasonOf(() => extractCredential(req))).toBe('credentials_missing');
    expect(messageOf(() => extractCredential(req))).toMatch(/query string are not accepted/);
    expect(messageOf(() => extractCredential(req))).not.toContain(TOKEN);
    // Other query parameters and fragments do not count.
    expect(reasonOf(() => extractCredential(make({}, '/items?token=x&access_tokens=y')))).toBe(
      'credentials_missing',
    );
  });

  it('parses 60 KB attack headers (runs of spaces, commas, tabs) in linear time', () => {
    const spaces = ' '.repeat(60_000);
    const attacks = [
      `a,b${spaces}c`,
      `Bearer a,b${spaces}c`,
      `Bearer a,${spaces}x,`,
      `a,${' \t'.repeat(30_000)}b`,
      `${'a, '.repeat(20_000)}`,
      `Bearer ${spaces}x`,
      `${'Bearer '.repeat(9_000)}`,
      `x${spaces}`,
    ];
    for (const value of attacks) {
      const started = performance.now();
      const reason = reasonOf(() => extractCredential(make({ authorization: value })));
      expect(['credentials_malformed', 'credentials_ambiguous']).toContain(reason);
      // Generous: a linear parse takes well under a millisecond; the quadratic one took seconds.
      expect(performance.now() - started, value.slice(0, 20)).toBeLessThan(1500);
    }
  });

  it('takes an X-API-Key', () => {
    expect(extractCredential(make({ 'x-api-key': 'ap_live_abc123' }))).toEqual({
      token: 'ap_live_abc123',
      source: 'x-api-key',
    });
  });

  it('refuses a malformed X-API-Key', () => {
    expect(reasonOf(() => extractCredential(make({ 'x-api-key': 'has space' })))).toBe(
      'credentials_malformed',
    );
    expect(reasonOf(() => extractCredential(make({ 'x-api-key': 'k'.repeat(9000) })))).toBe(
      'credentials_malformed',
    );
  });

  it('refuses an X-API-Key with a different Authorization credential as ambiguous', () => {
    expect(
      reasonOf(() =>
        extractCredential(make({ authorization: `Bearer ${TOKEN}`, 'x-api-key': 'ap_live_abc' })),
      ),
    ).toBe('credentials_ambiguous');
    expect(
      reasonOf(() =>
        extractCredential(make({ authorization: 'Basic dXNlcg==', 'x-api-key': 'ap_live_abc' })),
      ),
    ).toBe('credentials_ambiguous');
    expect(reasonOf(() => extractCredential(make({ 'x-api-key': 'k1, k2' })))).toBe('credentials_ambiguous');
    expect(reasonOf(() => extractCredential(make({ 'x-api-key': 'k1' }, '/x?access_token=k1')))).toBe(
      'credentials_ambiguous',
    );
  });

  it('accepts the same key sent as Bearer and as X-API-Key as one credential', () => {
    expect(
      extractCredential(make({ authorization: 'Bearer ap_live_abc', 'x-api-key': 'ap_live_abc' })),
    ).toEqual({
      token: 'ap_live_abc',
      source: 'authorization',
    });
  });

  it('never puts the credential in a message', () => {
    for (const value of [`Basic ${TOKEN}`, `Bearer ${TOKEN} ${TOKEN}`, `Bearer ${TOKEN}, Bearer ${TOKEN}`]) {
      expect(messageOf(() => extractCredential(make({ authorization: value })))).not.toContain(TOKEN);
    }
  });
});

describe('extractCredential: duplicate headers', () => {
  it('a Web Request merges duplicate Authorization headers with a comma: ambiguous', () => {
    const req = web([
      ['authorization', `Bearer ${TOKEN}`],
      ['authorization', 'Bearer other'],
    ]);
    expect(req.headers.get('authorization')).toContain(',');
    expect(reasonOf(() => extractCredential(req))).toBe('credentials_ambiguous');
  });

  it('a Web Request with duplicate X-API-Key headers: ambiguous', () => {
    const req = web([
      ['x-api-key', 'k1'],
      ['x-api-key', 'k2'],
    ]);
    expect(reasonOf(() => extractCredential(req))).toBe('credentials_ambiguous');
  });

  it('node: two Authorization entries in rawHeaders are ambiguous even though headers shows one', () => {
    const req = node({ authorization: `Bearer ${TOKEN}` }, '/', [
      'Authorization',
      `Bearer ${TOKEN}`,
      'authorization',
      'Bearer b',
    ]);
    expect(reasonOf(() => extractCredential(req))).toBe('credentials_ambiguous');
  });

  it('node: an array value in headers (no rawHeaders) is ambiguous', () => {
    const req: NodeRequestLike = { headers: { authorization: [`Bearer ${TOKEN}`, 'Bearer b'] } };
    expect(reasonOf(() => extractCredential(req))).toBe('credentials_ambiguous');
  });

  it('node: headers without rawHeaders still work, and a header set by middleware is seen', () => {
    expect(extractCredential({ headers: { authorization: `Bearer ${TOKEN}` } }).token).toBe(TOKEN);
    const req = node({ authorization: `Bearer ${TOKEN}` }, '/', ['host', 'x']);
    expect(extractCredential(req).token).toBe(TOKEN);
  });

  it('refuses something that is not a request as credentials_malformed', () => {
    for (const value of [null, undefined, 42, 'Bearer x', {}, { headers: null }]) {
      expect(reasonOf(() => extractCredential(value as unknown as RequestLike))).toBe(
        'credentials_malformed',
      );
    }
  });
});

describe('extractCredential against a real node:http server', () => {
  let server: ReturnType<typeof createServer>;
  let port = 0;
  const seen: Array<{ outcome: string; headerValue: unknown; rawCount: number }> = [];

  beforeAll(async () => {
    server = createServer((req: IncomingMessage, res) => {
      let outcome: string;
      try {
        outcome = `ok:${extractCredential(req).token}`;
      } catch (err) {
        outcome = `fail:${(err as AuthRejection).reason}`;
      }
      seen.push({
        outcome,
        headerValue: req.headers.authorization,
        rawCount: req.rawHeaders.filter(
          (_, i) => i % 2 === 0 && req.rawHeaders[i]?.toLowerCase() === 'authorization',
        ).length,
      });
      res.end(outcome);
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });

  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  function send(headers: string[], path = '/items'): Promise<string> {
    return new Promise((resolve, reject) => {
      // A raw header array keeps duplicates on the wire; it replaces the defaults, so Host is added here.
      const raw = ['Host', `127.0.0.1:${port}`, ...headers];
      const req = httpRequest(
        { host: '127.0.0.1', port, path, method: 'GET', headers: raw, agent: false },
        (res) => {
          let body = '';
          res.setEncoding('utf8');
          res.on('data', (chunk) => {
            body += chunk;
          });
          res.on('end', () => resolve(body));
        },
      );
      req.on('error', reject);
      req.end();
    });
  }

  it('sees two Authorization headers through rawHeaders although node keeps only the first in headers', async () => {
    const before = seen.length;
    expect(await send(['Authorization', `Bearer ${TOKEN}`, 'Authorization', 'Bearer second'])).toBe(
      'fail:credentials_ambiguous',
    );
    const record = seen[before];
    expect(record?.headerValue).toBe(`Bearer ${TOKEN}`); // node dropped the second one from headers
    expect(record?.rawCount).toBe(2);
  });

  it('accepts one Authorization header', async () => {
    expect(await send(['Authorization', `Bearer ${TOKEN}`])).toBe(`ok:${TOKEN}`);
  });

  it('refuses two X-API-Key headers, a query token, and a header plus query token', async () => {
    expect(await send(['X-API-Key', 'k1', 'X-API-Key', 'k2'])).toBe('fail:credentials_ambiguous');
    expect(await send([], `/items?access_token=${TOKEN}`)).toBe('fail:credentials_missing');
    expect(await send(['Authorization', `Bearer ${TOKEN}`], `/items?access_token=${TOKEN}`)).toBe(
      'fail:credentials_ambiguous',
    );
    expect(await send([])).toBe('fail:credentials_missing');
  });
});

describe('checkToken', () => {
  it('accepts token68 and refuses whitespace, non-strings and oversize; empty is missing', () => {
    expect(() => checkToken(TOKEN)).not.toThrow();
    expect(reasonOf(() => checkToken(` ${TOKEN}`))).toBe('credentials_malformed');
    expect(reasonOf(() => checkToken(`${TOKEN}\n`))).toBe('credentials_malformed');
    expect(reasonOf(() => checkToken(42))).toBe('credentials_malformed');
    expect(reasonOf(() => checkToken(''))).toBe('credentials_missing');
    expect(reasonOf(() => checkToken('a'.repeat(11), 10))).toBe('credentials_malformed');
  });
});
