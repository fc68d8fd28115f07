// Migration plane overhead: decision throughput in `dual` and `shadow` beside the single provider that
// decides, as ratios (× best peer = × the single-provider plane). Real peers: the dev issuer (oidc-provider)
// mints the target tokens, the legacy adapter verifies HS256 SimpleJWT-style tokens.
import { randomUUID } from 'node:crypto';
import { InMemoryProvider, OpenFeature } from '@openfeature/server-sdk';
import { SignJWT } from 'jose';
import { startDevIssuer } from '../src/dev/index';
import { createIdentityPlane } from '../src/identity/create';
import type { IdentityPlane } from '../src/identity/types';
import { type Contender, measureAll, report } from './harness';

const SECRET = 'bench-legacy-simplejwt-secret-0123456789abcdef';
const LEGACY_TOKENS = 2000;
const TARGET_TOKENS = 100;

async function legacyTokens(): Promise<string[]> {
  const key = new TextEncoder().encode(SECRET);
  const now = Math.floor(Date.now() / 1000);
  return Promise.all(
    Array.from({ length: LEGACY_TOKENS }, (_, i) =>
      new SignJWT({
        token_type: 'access',
        user_id: 1000 + i,
        org_id: 'org_bench',
        scope: 'read',
        jti: randomUUID(),
      })
        .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
        .setIssuedAt(now)
        .setExpirationTime(now + 3600)
        .sign(key),
    ),
  );
}

/**
 * Runs the migration benchmark: `dual` (target and legacy tokens), `shadow` (no paired token, and a paired
 * target token sampled at 10 %), and `dual` driven by an OpenFeature flag, each beside the single-provider
 * plane that decides the same token.
 *
 * @example
 * ```ts
 * await benchMigration(1500);
 * ```
 */
export async function benchMigration(durationMs: number): Promise<void> {
  const dev = await startDevIssuer({ accessTokenTtlSec: 3600 });
  const planes: IdentityPlane[] = [];
  try {
    const target = {
      provider: 'oidc' as const,
      issuer: dev.issuer,
      audience: dev.audience,
      jwksUri: dev.jwksUri,
      allowInsecureRequests: true,
    };
    const legacy = { provider: 'legacy' as const, secret: SECRET };
    const targetTokens = await Promise.all(
      Array.from({ length: TARGET_TOKENS }, () => dev.mintServiceToken({ scope: 'read' })),
    );
    const oldTokens = await legacyTokens();
    await OpenFeature.setProviderAndWait(
      'bench-migration',
      new InMemoryProvider({
        'authplane-migration-mode': { variants: { dual: 'dual' }, defaultVariant: 'dual', disabled: false },
      }),
    );
    const flagClient = OpenFeature.getClient('bench-migration');

    const track = async <P extends IdentityPlane>(p: Promise<P>): Promise<P> => {
      const plane = await p;
      planes.push(plane);
      return plane;
    };
    const targetAlone = await track(createIdentityPlane(target));
    // The same comparison with every token verified (verified-token cache off on the target side).
    const targetUncached = { ...target, tokenCache: { maxEntries: 0 } };
    const targetAloneUncached = await track(createIdentityPlane(targetUncached));
    const dualUncached = await track(
      createIdentityPlane({ provider: 'migration', legacy, target: targetUncached, mode: 'dual' }),
    );
    const legacyAlone = await track(createIdentityPlane(legacy));
    const dual = await track(createIdentityPlane({ provider: 'migration', legacy, target, mode: 'dual' }));
    const dualFlag = await track(
      createIdentityPlane({ provider: 'migration', legacy, target, modeFlag: { client: flagClient } }),
    );
    const dualFlagCached = await track(
      createIdentityPlane({
        provider: 'migration',
        legacy,
        target,
        modeFlag: { client: flagClient, cacheUntilChanged: true },
      }),
    );
    const shadow = await track(
      createIdentityPlane({
        provider: 'migration',
        legacy,
        target,
        mode: 'shadow',
        shadow: { sampleRate: 0.1 },
      }),
    );

    const t = (i: number) => targetTokens[i % targetTokens.length] as string;
    const l = (i: number) => oldTokens[i % oldTokens.length] as string;
    const request = (i: number, paired: boolean) => ({
      headers: paired
        ? { authorization: `Bearer ${l(i)}`, 'x-authplane-shadow-token': t(i) }
        : { authorization: `Bearer ${l(i)}` },
    });
    const mustPass = async (plane: IdentityPlane, token: string) => {
      const r = await plane.verify(token);
      if (!r.ok) throw new Error(`benchmark setup: ${r.failure.reason}`);
    };
    for (const p of [targetAlone, dual, dualFlag, dualFlagCached, targetAloneUncached, dualUncached])
      await mustPass(p, t(0));
    for (const p of [legacyAlone, dual, shadow]) await mustPass(p, l(0));

    const targetRows: Contender[] = [
      { name: 'oidc plane alone (target token)', role: 'peer', run: (i) => targetAlone.verify(t(i)) },
      { name: 'migration dual (target token)', role: 'authplane', run: (i) => dual.verify(t(i)) },
      {
        name: 'migration dual, OpenFeature per request',
        role: 'authplane',
        run: (i) => dualFlag.verify(t(i)),
      },
      {
        name: 'migration dual, OpenFeature cached',
        role: 'authplane',
        run: (i) => dualFlagCached.verify(t(i)),
      },
    ];
    report(
      'Migration: target tokens reused (ES/RS JWT from oidc-provider, verified-token cache on)',
      await measureAll(targetRows, durationMs),
    );
    report(
      'Migration: target tokens, every token verified (verified-token cache off)',
      await measureAll(
        [
          {
            name: 'oidc plane alone (target token)',
            role: 'peer',
            run: (i) => targetAloneUncached.verify(t(i)),
          },
          { name: 'migration dual (target token)', role: 'authplane', run: (i) => dualUncached.verify(t(i)) },
        ],
        durationMs,
      ),
    );

    const legacyRows: Contender[] = [
      {
        name: 'legacy plane alone (authenticate)',
        role: 'peer',
        run: (i) => legacyAlone.authenticate(request(i, false)),
      },
      {
        name: 'migration dual (legacy token)',
        role: 'authplane',
        run: (i) => dual.authenticate(request(i, false)),
      },
      {
        name: 'migration shadow, no paired token',
        role: 'authplane',
        run: (i) => shadow.authenticate(request(i, false)),
      },
      {
        name: 'migration shadow, paired token, 10% sampled',
        role: 'authplane',
        run: (i) => shadow.authenticate(request(i, true)),
      },
    ];
    report('Migration: legacy tokens (HS256 SimpleJWT)', await measureAll(legacyRows, durationMs));
  } finally {
    await Promise.allSettled(planes.map((p) => p.close()));
    await OpenFeature.clearProviders();
    await dev.stop();
  }
}

// `node --import tsx benchmarks/migration.ts` runs it alone.
if (import.meta.url === `file://${process.argv[1]}`)
  await benchMigration(Number(process.env.BENCH_MS ?? 1500));
