import type { MeterProvider } from '@opentelemetry/api';
import { parseApiKey } from '../apikeys/format';
import type { ApiKeys } from '../apikeys/keys';
import { withDeadline } from '../core/deadline';
import { ConfigError } from '../core/errors';
import { AuthRejection, type AuthResult, failureFromError } from '../core/failure';
import { freezePrincipal, type Principal } from '../core/principal';
import { bindTenantGate, type TenantGate, type TenantRefusal } from '../core/tenant-gate';
import { rethrowDecidedBy } from '../identity/api-key-routing';
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
import { createLinker, type Linked, type LinkIdentity, type LinkOptions } from './links';
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
  /**
   * Shadow comparison of the requests of tenants in `shadow` (on by default: a tenant in `shadow` is
   * compared with these defaults when the option is absent).
   */
  readonly shadow?: ShadowOptions;
  /**
   * The tenant of a credential that carries no org (SimpleJWT's default tokens carry none), e.g. from
   * the user's directory entry: its mode is then checked at verification, as for a credential with that
   * org. An external org id is mapped through the org links. Null: no tenant (the default mode applies).
   * Deadline `links.hookTimeoutMs`; a failure or a late answer is `provider_unavailable`.
   */
  readonly tenantOf?: (principal: Principal) => string | null | Promise<string | null>;
  /**
   * API keys (a `createApiKeys` service) verified through this plane, under the same tenant modes and
   * links as tokens. Keys of the authplane shape belong to `apiKeysSide`; legacy keys (its
   * `legacyVerifier`) belong to the legacy side and their owner is linked as a legacy user.
   */
  readonly apiKeys?: ApiKeys;
  /** The side authplane-issued API keys belong to. Default `target`: authplane is the new system. */
  readonly apiKeysSide?: Side;
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
  /** The same adapter (same modes, links, report) verifying `keys`' credentials too. */
  withApiKeys(keys: ApiKeys): MigrationAdapter;
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
 *    credential in `target`, or a target credential in `legacy`/`shadow`, is `provider_disabled`. A
 *    credential without an org is checked against its `tenantOf` tenant when that hook finds one;
 * 5. the accepted principal is bound to the modes: wherever the org the request acts on becomes known
 *    (`authorize({ orgId })`, `createAuthorizer`, `requireOrg` in every framework adapter), that
 *    tenant's mode is checked again for the credential's side.
 *
 * API keys (`apiKeys`) take the same steps: authplane keys as `apiKeysSide`, legacy keys as legacy.
 * A failure names the side that refused (`failure.provider` is that side's adapter name).
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
  const apiKeysSide = options.apiKeysSide ?? 'target';
  if (apiKeysSide !== 'legacy' && apiKeysSide !== 'target') {
    throw new ConfigError('apiKeysSide', 'must be "legacy" or "target"');
  }
  const tenantOf = options.tenantOf;
  if (tenantOf !== undefined && typeof tenantOf !== 'function') {
    throw new ConfigError('tenantOf', 'must be a function');
  }
  const hookTimeoutMs = options.links?.hookTimeoutMs ?? 2000;
  const clock = options.clock ?? Date.now;
  const aggregator = createReportAggregator(options.shadow?.samples ?? 20, clock);
  const meterProvider = options.meterProvider;
  const control = options.control ? startControl(options.control, { meterProvider, clock }) : null;
  const resolver = createModeResolver({
    control: control?.watcher,
    mode: options.mode,
    tenants: options.tenants,
    modeFlag: options.modeFlag,
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
  // Accepted principals decided under `shadow`, for the shadow step of authenticate. Only those are
  // recorded: no WeakMap entry on the hot path of any other mode.
  const shadowDecided = new WeakSet<Principal>();
  const sideName = (side: Side): string => (side === 'legacy' ? legacy.name : target.name);

  // The one place a tenant's mode is resolved (static config, flags; a store can plug in here).
  const modeOf = (orgId: string | null): MigrationMode | Promise<MigrationMode> => resolver.resolve(orgId);

  const relink = (raw: Principal, linked: Linked): Principal =>
    linked.subject === raw.subject && linked.orgId === raw.orgId && Object.isFrozen(raw)
      ? raw
      : freezePrincipal({ ...raw, subject: linked.subject, orgId: linked.orgId });

  // Links a side's principal; synchronous when the links are cached. `as` is the identity to link
  // when it is not the principal's own (a legacy key's owner); `internal` skips linking (authplane
  // keys are issued to internal owners and orgs).
  const linkSide = (raw: Principal, as?: LinkIdentity | 'internal'): Principal | Promise<Principal> => {
    if (!raw || typeof raw !== 'object' || typeof raw.subject !== 'string') {
      throw new Error('adapter returned no principal'); // fails closed as provider_unavailable
    }
    if (as === 'internal') return Object.isFrozen(raw) ? raw : freezePrincipal(raw);
    const linked = linker.link(raw, as);
    return linked instanceof Promise ? linked.then((l) => relink(raw, l)) : relink(raw, linked);
  };

  // Verification by one side plus linking, without the mode check: shared by verify and the shadow runner.
  const verifySide = async (side: Side, token: string, context: AdapterContext): Promise<Principal> =>
    linkSide(await (side === 'legacy' ? legacy : target).verify(token, context));

  // A refusal by a tenant's mode, counted; its provider is the side's adapter.
  const refusal = (side: Side, mode: MigrationMode, orgId: string | null): TenantRefusal => {
    control?.recorder?.refusal(orgId, side);
    if (side === 'legacy') aggregator.counters.refusedLegacy++;
    else aggregator.counters.refusedTarget++;
    safely(() =>
      migrationInstruments(meterProvider).refusals.add(1, {
        'authplane.migration.side': side,
        'authplane.migration.mode': mode,
      }),
    );
    return {
      provider: sideName(side),
      message:
        side === 'legacy'
          ? 'This tenant no longer accepts credentials of the legacy provider'
          : 'This tenant does not accept credentials of the new provider yet',
    };
  };
  const verdict = (side: Side, mode: MigrationMode, orgId: string | null): TenantRefusal | null =>
    modeAccepts(mode, side) ? null : refusal(side, mode, orgId);

  // One gate per side, shared by every principal of that side: the mode of the org a request acts on.
  const gateOf = (side: Side): TenantGate =>
    Object.freeze({
      admit(orgId: string) {
        const mode = modeOf(orgId);
        return typeof mode === 'string'
          ? verdict(side, mode, orgId)
          : mode.then((m) => verdict(side, m, orgId));
      },
      admitNow(orgId: string) {
        const mode = modeOf(orgId);
        return typeof mode === 'string' ? verdict(side, mode, orgId) : undefined;
      },
    });
  const gates: Readonly<Record<Side, TenantGate>> = { legacy: gateOf('legacy'), target: gateOf('target') };

  // The mode check of one verified principal; synchronous for static modes and cached links.
  const admit = (side: Side, principal: Principal): Principal | Promise<Principal> => {
    if (principal.orgId === null && tenantOf) return admitOrgless(side, principal);
    const pending = modeOf(principal.orgId);
    if (typeof pending !== 'string') return pending.then((mode) => check(side, principal, mode));
    return check(side, principal, pending);
  };
  const check = (side: Side, principal: Principal, mode: MigrationMode): Principal => {
    const refused = verdict(side, mode, principal.orgId);
    if (refused) rethrowDecidedBy(new AuthRejection('provider_disabled', refused.message), refused.provider);
    control?.recorder?.traffic(principal.orgId, side);
    if (mode === 'shadow') shadowDecided.add(principal);
    bindTenantGate(principal, gates[side]);
    return principal;
  };
  // A credential without an org whose tenant the `tenantOf` hook knows: that tenant's mode decides.
  const admitOrgless = async (side: Side, principal: Principal): Promise<Principal> => {
    let tenant: string | null;
    try {
      const answer = await withDeadline('tenantOf', hookTimeoutMs, () =>
        (tenantOf as NonNullable<typeof tenantOf>)(principal),
      );
      tenant = typeof answer === 'string' && answer !== '' ? answer : null;
      if (tenant !== null) tenant = await linker.linkOrg(principal, sideName(side), tenant);
    } catch (err) {
      if (err instanceof AuthRejection) throw err;
      throw new AuthRejection('provider_unavailable', 'The tenant lookup is unavailable', { cause: err });
    }
    return check(side, principal, await modeOf(tenant));
  };

  // With a control store, comparisons also go to the store (batched by the recorder).
  const shadowOptions = control
    ? { ...options.shadow, onEvent: control.onEvent(options.shadow?.onEvent) }
    : (options.shadow ?? {});
  const runner = createShadowRunner(shadowOptions, {
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
  });
  const shadowHeader =
    options.shadow?.header === undefined ? 'x-authplane-shadow-token' : (options.shadow.header ?? null);

  // Verifies a credential with the side `route` picked (or the key service), links it, admits it.
  // Written with .then rather than async/await: every saved promise hop is measurable against an
  // HS256 verification of a few microseconds.
  const verifyWith = (keys: ApiKeys | null, token: string, context: AdapterContext): Promise<Principal> => {
    let side: Side;
    let verified: Promise<Principal>;
    let as: LinkIdentity | 'internal' | undefined;
    try {
      if (keys?.matches(token)) {
        // Authplane keys are ours (apiKeysSide); any other key shape reached the legacy key verifier.
        const ours = parseApiKey(token) !== null;
        side = ours ? apiKeysSide : 'legacy';
        verified = keys
          .verifyPrincipal(token)
          .catch((err) => rethrowDecidedBy(err, ours ? keys.provider : legacy.name));
        if (!ours)
          return verified.then((raw) =>
            linkAdmit(side, raw, { provider: legacy.name, providerSubject: raw.subject }),
          );
        as = 'internal';
      } else {
        side = route(token);
        const adapter = side === 'legacy' ? legacy : target;
        verified = adapter.verify(token, context).catch((err) => rethrowDecidedBy(err, adapter.name));
      }
    } catch (err) {
      return Promise.reject(err);
    }
    return verified.then((raw) => linkAdmit(side, raw, as));
  };
  const linkAdmit = (
    side: Side,
    raw: Principal,
    as: LinkIdentity | 'internal' | undefined,
  ): Principal | Promise<Principal> => {
    const principal = linkSide(raw, as);
    return principal instanceof Promise ? principal.then((p) => admit(side, p)) : admit(side, principal);
  };

  const closeSides = async (): Promise<void> => {
    resolver.close();
    await control?.close();
    const results = await Promise.allSettled([legacy.close?.(), target.close?.()]);
    const rejected = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
    if (rejected) throw rejected.reason;
  };

  const build = (keys: ApiKeys | null): MigrationAdapter => {
    const adapter: MigrationAdapter = {
      name: MIGRATION_PROVIDER_NAME,
      sides: Object.freeze({ legacy, target }),

      verify(token: string, context: AdapterContext): Promise<Principal> {
        return verifyWith(keys, token, context);
      },

      withApiKeys(next: ApiKeys): MigrationAdapter {
        if (keys) throw new ConfigError('apiKeys', 'the migration plane already verifies an API key service');
        return build(next);
      },

      decorate(plane: IdentityPlane): MigrationPlane {
        const controls: MigrationControls = Object.freeze({
          report: () => explainReport(aggregator.snapshot(), shadowHeader, options.shadow),
          resetReport: () => aggregator.reset(),
          modeOf: (orgId: string | null) => resolver.explain(orgId),
          flush: () => runner.idle(),
          clearLinkCache: () => linker.clear(),
          control: () => control?.health() ?? null,
          fleetReport: (query?: { sinceMs?: number }) =>
            control
              ? control.fleetReport(query)
              : Promise.reject(new Error('fleetReport needs the control option (a MigrationControlStore)')),
        });

        // Offers one finished decision to the shadow runner. Synchronous, never throws: the caller's
        // result is already decided and is returned unchanged.
        const offer = (result: AuthResult, request: RequestLike | null) => {
          try {
            if (result.ok) {
              if (!shadowDecided.has(result.principal)) return;
              aggregator.counters.shadowRequests++;
            } else if (
              request === null ||
              result.failure.reason === 'provider_disabled' ||
              !primaryRoutesToLegacy(request, route)
            ) {
              return;
            }
            const targetToken =
              request !== null && shadowHeader ? readShadowToken(request, shadowHeader) : null;
            if (targetToken === null && !(result.ok && options.shadow?.exchange)) {
              // A refused legacy credential's tenant is unknown: only accepted ones are counted here.
              if (result.ok) aggregator.counters.noTargetCredential++;
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

      close: closeSides,
    };
    return Object.freeze(adapter);
  };
  return build(options.apiKeys ?? null);
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

/**
 * The report with `why` filled when nothing was compared: the user sees what is missing (no tenant in
 * shadow, no target credential, sampling, a full queue) instead of a silent row of zeros.
 */
function explainReport(
  report: MigrationReport,
  header: string | null,
  shadow: ShadowOptions | undefined,
): MigrationReport {
  if (report.comparisons > 0) return report;
  const causes: string[] = [];
  const { shadowRequests } = report;
  if (shadowRequests === 0) {
    causes.push(
      'no request was accepted for a tenant in shadow mode (move a tenant to shadow with tenants.orgs, a rollout or the mode flag)',
    );
  }
  if (report.skipped.noTargetCredential > 0) {
    const where = header ? `the ${header} header` : 'no header (shadow.header is null)';
    causes.push(
      `${report.skipped.noTargetCredential} shadow-mode request(s) carried no target credential: clients send it in ${where}${shadow?.exchange ? '; the exchange hook returned none' : ', or configure shadow.exchange'}`,
    );
  }
  if (report.skipped.sampledOut > 0)
    causes.push(`${report.skipped.sampledOut} left out by shadow.sampleRate`);
  if (report.dropped.queueFull + report.dropped.closed > 0)
    causes.push(`${report.dropped.queueFull + report.dropped.closed} dropped (queue full or plane closed)`);
  if (report.skipped.unattributed > 0)
    causes.push(`${report.skipped.unattributed} refused legacy credential(s) of no tenant in shadow`);
  if (report.errors > 0) causes.push(`${report.errors} comparison(s) failed`);
  if (causes.length === 0) causes.push('comparisons are still queued (await plane.migration.flush())');
  return { ...report, why: `Nothing compared: ${causes.join('; ')}.` };
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
