import { AuthRejection } from '../../src/core/failure';
import type { Principal } from '../../src/core/principal';

/**
 * Options of {@link createActiveCheck}.
 *
 * @example
 * ```ts
 * const options: ActiveCheckOptions = { isActive: (p) => users.isActive(p.subject), cacheSec: 10, timeoutMs: 1000 };
 * ```
 */
export interface ActiveCheckOptions {
  /** `false` = deactivated (`subject_inactive`); a throw or a timeout = `provider_unavailable`. */
  readonly isActive: (principal: Principal) => boolean | Promise<boolean>;
  /** Seconds an answer is reused per subject; 0 asks every time. */
  readonly cacheSec: number;
  /** Deadline of one call, in ms. */
  readonly timeoutMs: number;
  /** Largest number of subjects remembered. Default 10 000. */
  readonly maxEntries?: number;
  readonly clock?: () => number;
}

/**
 * The user-state check of the legacy adapter: asks `isActive(principal)` once per subject per
 * `cacheSec` (concurrent requests of one subject share one call), within `timeoutMs`. A deactivated
 * user is refused as Django refuses them (`subject_inactive`, 401); an unanswered hook fails closed
 * (`provider_unavailable`, 503), never an accept. Only `true` is active.
 *
 * @example
 * ```ts
 * const check = createActiveCheck({ isActive, cacheSec: 10, timeoutMs: 1000 });
 * await check(principal); // throws AuthRejection('subject_inactive') for a deactivated user
 * ```
 */
export function createActiveCheck(options: ActiveCheckOptions): (principal: Principal) => Promise<void> {
  const clock = options.clock ?? Date.now;
  const ttlMs = options.cacheSec * 1000;
  const maxEntries = options.maxEntries ?? 10_000;
  const answers = new Map<string, { active: boolean; until: number }>();
  const inflight = new Map<string, Promise<boolean>>();

  const ask = (principal: Principal): Promise<boolean> => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new AuthRejection('provider_unavailable', 'The user-state hook did not answer in time')),
        options.timeoutMs,
      );
    });
    const call = Promise.resolve()
      .then(() => options.isActive(principal))
      .then(
        (answer) => answer === true,
        (cause: unknown) => {
          throw new AuthRejection('provider_unavailable', 'The user-state hook failed', { cause });
        },
      );
    return Promise.race([call, deadline]).finally(() => clearTimeout(timer));
  };

  return async (principal: Principal): Promise<void> => {
    const key = `${principal.provider}\u0000${principal.providerSubject}`;
    const now = clock();
    const cached = answers.get(key);
    let active: boolean;
    if (cached && cached.until > now) {
      active = cached.active;
    } else {
      let pending = inflight.get(key);
      if (!pending) {
        pending = ask(principal).finally(() => inflight.delete(key));
        inflight.set(key, pending);
      }
      active = await pending;
      if (ttlMs > 0) {
        if (answers.size >= maxEntries) answers.delete(answers.keys().next().value as string);
        answers.set(key, { active, until: clock() + ttlMs });
      }
    }
    if (!active) throw new AuthRejection('subject_inactive');
  };
}
