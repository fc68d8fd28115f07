import type { MeterProvider } from '@opentelemetry/api';
import { AuthRejection, type AuthResult, failureFromError } from '../core/failure';
import { freezePrincipal, type Principal } from '../core/principal';
import { extractCredential } from '../identity/extract';
import { createPlane, type PlaneOptions } from '../identity/plane';
import type {
  AdapterContext,
  IdentityAdapter,
  IdentityPlane,
  RequestLike,
  VerifyOptions,
} from '../identity/types';
import { createMemoryIdentityLinkStore } from '../stores/memory';
import { type ControlHealth, type MigrationControlOptions, startControl } from './control/runtime';
import type { FleetReport } from './control/summary';
import { createLinker, type Linked, type LinkOptions } from './links';
import {
  createModeResolver,
  type MigrationMode,
  type ModeDecision,
  type ModeFlagOptions,
  modeAccepts,
  type TenantModes,
} from './modes';
import { createRouter, type RoutingOptions, type Side } from './routing';
import {
  createReportAggregator,
  createShadowRunner,
  type MigrationReport,
  type ShadowOptions,
} from './shadow';
import { migrationInstruments, safely } from './telemetry';

/** `principal.provider` of failures decided by the migration plane itself, and the plane's name. */
export const MIGRATION_PROVIDER_NAME = 'migration';

/**
 * What the migration plane adds to two adapters: modes per tenant, routing, links, shadow comparison.
 *
 * @example
 * ```ts
 * const options: MigrationOptions = { mode: 'legacy', tenants: { orgs: { org_acme: 'dual' } },
 *   routing: { targetIssuers: [issuer] }, shadow: { sampleRate: 0.1 } };
 * ```
 */
export interface MigrationOptions {
  /** Default mode of every tenant. Default `legacy`. */
  readonly mode?: MigrationMode;
  /** Per-org overrides and a percentage rollout. */
  readonly tenants?: TenantModes;
  /** An OpenFeature client (or any client of that shape) driving the modes at runtime. */
  readonly modeFlag?: ModeFlagOptions;
  /** Modes set at runtime in a shared store (`authplane migrate set`), and fleet-wide shadow counters. */
  readonly control?: MigrationControlOptions;
  /** Identity and org links. Default: an in-memory store, no first-sight hook. */
  readonly links?: LinkOptions;
  /** How credentials are routed to one side. */
  readonly routing?: RoutingOptions;
  /** Shadow comparison (only requests of tenants in `shadow` are compared). */
  readonly shadow?: ShadowOptions;
  /** Meter provider for the migration counters (default: the global one). */
  readonly meterProvider?: MeterProvider;
  /** Test seam: epoch milliseconds (link cache, report times). */
  readonly clock?: () => number;
}

/**
 * `plane.migration`: the runtime view of a migration.
 *
 * @example
 * ```ts
 * plane.migration.report().byClass.scopes;
 * await plane.migration.modeOf('org_acme'); // { mode: 'dual', source: 'flag' }
 * ```
 */
export interface MigrationControls {
  /** Divergence and refusal counters since start (or the last `resetReport`), with samples. */
  report(): MigrationReport;
  resetReport(): void;
  /** The mode of a tenant right now, and where it came from. */
  modeOf(orgId: string | null): Promise<ModeDecision>;
  /** Resolves when every queued shadow comparison has run (tests, graceful shutdown). */
  flush(): Promise<void>;
  /** Drops cached identity and org links (after an import). */
  clearLinkCache(): void;
  /** The control store's health (version in use, stale, errors), or null without `control`. */
  control(): ControlHealth | null;
  /**
   * Every instance's shadow comparisons and traffic from the control store (default: the last 7 days),
   * per tenant and class, with readiness verdicts. Rejects without `control`.
   */
  fleetReport(query?: { sinceMs?: number }): Promise<FleetReport>;
}

/**
 * An identity plane running two providers side by side.
 *
 * @example
 * ```ts
 * const plane = await createMigrationPlane(config);
 * const result = await plane.authenticate(req);
 * console.log(plane.migration.report());
 * ```
 */
export interface MigrationPlane extends IdentityPlane {
  readonly migration: MigrationControls;
}

/**
 * The migration adapter: an `IdentityAdapter` that routes each credential to exactly one side, links
 * the identity, and checks the verified tenant's mode. `decorate` turns the plane built around it into
 * a `MigrationPlane` (shadow comparison of requests, `plane.migration`).
 *
 * @example
 * ```ts
 * const adapter = createMigrationAdapter({ legacy, target }, options);
 * const plane = adapter.decorate(createPlane(adapter));
 * ```
 */
export interface MigrationAdapter extends IdentityAdapter {
  readonly sides: { readonly legacy: IdentityAdapter; readonly target: IdentityAdapter };
  decorate(plane: IdentityPlane): MigrationPlane;
  close(): Promise<void>;
}

/**
 * Builds the migration adapter over two adapters (any `IdentityAdapter`: legacy, oidc, auth0, clerk, or
 * your own). Per credential:
 *
 * 1. route by format and unverified issuer to exactly one side (never "try A then B");
 * 2. that side verifies (its refusal is the answer);
 * 3. the identity and org are mapped through the links (`principal.subject`, `principal.orgId` become
 *    internal; `providerSubject` and `provider` stay the side's);
 * 4. the verified tenant's mode is resolved now (flags are read per request) and checked: a legacy
 *    credential in `target`, or a target credential in `legacy`/`shadow`, is `provider_disabled`.
 *
 * @throws ConfigError for invalid modes or rollout.
 * @example
 * ```ts
 * const adapter = createMigrationAdapter({ legacy: legacyAdapter, target: oidcAdapter },
 *   { mode: 'dual', routing: { targetIssuers: ['https://id.example'], legacyMarkerClaim: 'token_type' } });
 * ```
 */
export function createMigrationAdapter(
  sides: { legacy: IdentityAdapter; target: IdentityAdapter },
  options: MigrationOptions = {},
): MigrationAdapter {
  const { legacy, target } = sides;
  if (legacy.name === target.name) {
    throw new TypeError('createMigrationAdapter: legacy and target adapters need different names');
  }
  const clock = options.clock ?? Date.now;
  const aggregator = createReportAggregator(options.shadow?.samples ?? 20, clock);
  const meterProvider = options.meterProvider;
  const control = options.control ? startControl(options.control, { meterProvider, clock }) : null;
  const resolver = createModeResolver({
    mode: options.mode,
    tenants: options.tenants,
    modeFlag: options.modeFlag,
    control: control?.watcher,
    onFlagError: (_org, kind) => {
      aggregator.counters.flagErrors++;
      safely(() =>
        migrationInstruments(meterProvider).flagErrors.add(1, { 'authplane.migration.kind': kind }),
      );
    },
  });
  const route = createRouter(options.routing ?? {});
  const linker = createLinker(
    options.links?.store ?? createMemoryIdentityLinkStore(),
    options.links ?? {},
    clock,
  );
  // The mode each accepted principal was decided under, for the shadow step of authenticate.
  const decidedModes = new WeakMap<Principal, MigrationMode>();
  const shadowConfigured = options.shadow !== undefined;

  const modeOf = (orgId: string | null): MigrationMode | Promise<MigrationMode> => resolver.resolve(orgId);

  const relink = (raw: Principal, linked: Linked): Principal =>
    linked.subject === raw.subject && linked.orgId === raw.orgId && Object.isFrozen(raw)
      ? raw
      : freezePrincipal({ ...raw, subject: linked.subject, orgId: linked.orgId });

  // Links a side's principal; synchronous when the links are cached.
  const linkSide = (raw: Principal): Principal | Promise<Principal> => {
    if (!raw || typeof raw !== 'object' || typeof raw.subject !== 'string') {
      throw new Error('adapter returned no principal'); // fails closed as provider_unavailable
    }
    const linked = linker.link(raw);
    return linked instanceof Promise ? linked.then((l) => relink(raw, l)) : relink(raw, linked);
  };

  // Verification by one side plus linking, without the mode check: shared by verify and the shadow runner.
  const verifySide = async (side: Side, token: string, context: AdapterContext): Promise<Principal> =>
    linkSide(await (side === 'legacy' ? legacy : target).verify(token, context));

  // The mode check of one verified principal; synchronous for static modes and cached links.
  const admit = (side: Side, principal: Principal): Principal | Promise<Principal> => {
    const pending = modeOf(principal.orgId);
    if (typeof pending !== 'string') return pending.then((mode) => check(side, principal, mode));
    return check(side, principal, pending);
  };
  const check = (side: Side, principal: Principal, mode: MigrationMode): Principal => {
    if (!modeAccepts(mode, side)) refuse(side, mode, principal.orgId);
    control?.recorder?.traffic(principal.orgId, side);
    if (shadowConfigured) decidedModes.set(principal, mode);
    return principal;
  };

  const refuse = (side: Side, mode: MigrationMode, orgId: string | null = null): never => {
    control?.recorder?.refusal(orgId, side);
    if (side === 'legacy') aggregator.counters.refusedLegacy++;
    else aggregator.counters.refusedTarget++;
    safely(() =>
      migrationInstruments(meterProvider).refusals.add(1, {
        'authplane.migration.side': side,
        'authplane.migration.mode': mode,
      }),
    );
    throw new AuthRejection(
      'provider_disabled',
      side === 'legacy'
        ? 'This tenant no longer accepts credentials of the legacy provider'
        : 'This tenant does not accept credentials of the new provider yet',
    );
  };

  // With a control store, comparisons also go to the store (batched by the recorder).
  const shadowOptions = control
    ? { ...options.shadow, onEvent: control.onEvent(options.shadow?.onEvent) }
    : (options.shadow ?? {});
  const runner = shadowConfigured
    ? createShadowRunner(shadowOptions, {
        aggregator,
        meterProvider,
        clock,
        async evaluateTarget(token, traceId): Promise<AuthResult> {
          try {
            if (route(token) !== 'target') throw new AuthRejection('issuer_mismatch');
            const principal = await verifySide('target', token, {
              traceId,
              signal: AbortSignal.timeout(10_000),
            });
            return { ok: true, principal, traceId };
          } catch (err) {
            return { ok: false, failure: failureFromError(err, { traceId, provider: target.name }) };
          }
        },
        async isShadow(orgId) {
          return (await modeOf(orgId)) === 'shadow';
        },
      })
    : null;
  const shadowHeader =
    options.shadow?.header === undefined ? 'x-authplane-shadow-token' : (options.shadow.header ?? null);

  const adapter: MigrationAdapter = {
    name: MIGRATION_PROVIDER_NAME,
    sides: Object.freeze({ legacy, target }),

    // Written with .then rather than async/await: every saved promise hop is measurable against an
    // HS256 verification of a few microseconds.
    verify(token: string, context: AdapterContext): Promise<Principal> {
      let side: Side;
      try {
        side = route(token);
      } catch (err) {
        return Promise.reject(err);
      }
      return (side === 'legacy' ? legacy : target).verify(token, context).then((raw) => {
        const principal = linkSide(raw);
        return principal instanceof Promise ? principal.then((p) => admit(side, p)) : admit(side, principal);
      });
    },

    decorate(plane: IdentityPlane): MigrationPlane {
      const controls: MigrationControls = Object.freeze({
        report: () => aggregator.snapshot(),
        resetReport: () => aggregator.reset(),
        modeOf: (orgId: string | null) => resolver.explain(orgId),
        flush: () => runner?.idle() ?? Promise.resolve(),
        clearLinkCache: () => linker.clear(),
        control: () => control?.health() ?? null,
        fleetReport: (query?: { sinceMs?: number }) =>
          control
            ? control.fleetReport(query)
            : Promise.reject(new Error('fleetReport needs the control option (a MigrationControlStore)')),
      });
      if (!runner) return Object.freeze({ ...plane, migration: controls });

      // Offers one finished decision to the shadow runner. Synchronous, never throws: the caller's
      // result is already decided and is returned unchanged.
      const offer = (result: AuthResult, request: RequestLike | null) => {
        try {
          let legacyDecided = false;
          if (result.ok) legacyDecided = decidedModes.get(result.principal) === 'shadow';
          else if (request !== null && result.failure.reason !== 'provider_disabled') {
            legacyDecided = primaryRoutesToLegacy(request, route);
          }
          if (!legacyDecided) return;
          const targetToken =
            request !== null && shadowHeader ? readShadowToken(request, shadowHeader) : null;
          if (targetToken === null && !(result.ok && options.shadow?.exchange)) {
            aggregator.counters.noTargetCredential++;
            return;
          }
          if (!runner.sample()) return;
          runner.offer({
            traceId: result.ok ? result.traceId : result.failure.traceId,
            legacy: result,
            targetToken,
          });
        } catch {
          // Shadow work never affects the request.
        }
      };

      return Object.freeze({
        ...plane,
        migration: controls,
        async authenticate(request: RequestLike, verifyOptions?: VerifyOptions): Promise<AuthResult> {
          const result = await plane.authenticate(request, verifyOptions);
          offer(result, request);
          return result;
        },
        async verify(token: string, verifyOptions?: VerifyOptions): Promise<AuthResult> {
          const result = await plane.verify(token, verifyOptions);
          offer(result, null);
          return result;
        },
        async close(): Promise<void> {
          await runner.close();
          await plane.close();
        },
      });
    },

    async close(): Promise<void> {
      resolver.close();
      await control?.close();
      const results = await Promise.allSettled([legacy.close?.(), target.close?.()]);
      const rejected = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
      if (rejected) throw rejected.reason;
    },
  };
  return Object.freeze(adapter);
}

/**
 * Composes a migration plane from two adapters: `createMigrationAdapter` inside `createPlane` (trace ids,
 * extraction, revocation, telemetry, audit), decorated with `plane.migration` and shadow comparison.
 * `createIdentityPlane({ provider: 'migration', legacy: {...}, target: {...} })` does the same from config.
 *
 * @example
 * ```ts
 * const plane = createMigrationPlane({ legacy: legacyAdapter, target: oidcAdapter }, { mode: 'shadow',
 *   routing: { targetIssuers: [issuer] }, shadow: { header: 'x-new-token' } });
 * ```
 */
export function composeMigrationPlane(
  sides: { legacy: IdentityAdapter; target: IdentityAdapter },
  options: MigrationOptions & PlaneOptions = {},
): MigrationPlane {
  const adapter = createMigrationAdapter(sides, options);
  return adapter.decorate(createPlane(adapter, options));
}

/**
 * Whether a plane is a migration plane (has `plane.migration`).
 *
 * @example
 * ```ts
 * const plane = await createIdentityPlane(config);
 * if (isMigrationPlane(plane)) console.log(plane.migration.report());
 * ```
 */
export function isMigrationPlane(plane: IdentityPlane): plane is MigrationPlane {
  return typeof (plane as Partial<MigrationPlane>).migration?.report === 'function';
}

function primaryRoutesToLegacy(request: RequestLike, route: (token: string) => Side): boolean {
  try {
    return route(extractCredential(request).token) === 'legacy';
  } catch {
    return false;
  }
}

const MAX_SHADOW_TOKEN = 8192;

function readShadowToken(request: RequestLike, header: string): string | null {
  const headers = (request as { headers?: unknown }).headers;
  let value: unknown;
  if (headers && typeof (headers as Headers).get === 'function') value = (headers as Headers).get(header);
  else if (headers && typeof headers === 'object')
    value = (headers as Record<string, unknown>)[header.toLowerCase()];
  if (typeof value !== 'string') return null;
  let token = value.trim();
  if (/^bearer\s+/i.test(token)) token = token.replace(/^bearer\s+/i, '');
  if (token === '' || token.length > MAX_SHADOW_TOKEN || /[\s,]/.test(token)) return null;
  return token;
}
