import { type Counter, type MeterProvider, metrics, ValueType } from '@opentelemetry/api';

const WEAK_ATTRIBUTES = Object.freeze({
  'authplane.provider': 'legacy',
  'authplane.legacy.weak_secret': true,
});

const counters = new WeakMap<MeterProvider, Counter>();

function counter(meterProvider: MeterProvider | undefined): Counter {
  const provider = meterProvider ?? metrics.getMeterProvider();
  let found = counters.get(provider);
  if (found) return found;
  found = provider.getMeter('authplane').createCounter('authplane.legacy.weak_secret', {
    description:
      'Legacy tokens verified with an HMAC secret shorter than 32 bytes (allowWeakSecret): rotate the key',
    valueType: ValueType.INT,
  });
  counters.set(provider, found);
  return found;
}

/**
 * The loud start-up warning of `allowWeakSecret`: a Node process warning (stderr by default, code
 * `AUTHPLANE_WEAK_SECRET`) naming the field and its length, never the secret, plus one data point
 * of `authplane.legacy.weak_secret` with the attribute `authplane.legacy.weak_secret=true`.
 *
 * @internal
 * @example
 * ```ts
 * warnWeakSecret('secret', 17);
 * ```
 */
export function warnWeakSecret(path: string, bytes: number, meterProvider?: MeterProvider): void {
  process.emitWarning(
    `authplane legacy adapter: ${path}secret is ${bytes} bytes, below the 32 bytes HS256 needs. ` +
      'It is accepted only because allowWeakSecret is true: rotate to a 32-byte random key ' +
      '(add it to secrets, sign with it, drop the old one once its tokens have expired).',
    { code: 'AUTHPLANE_WEAK_SECRET', type: 'SecurityWarning' },
  );
  try {
    counter(meterProvider).add(1, { ...WEAK_ATTRIBUTES, 'authplane.legacy.event': 'startup' });
  } catch {
    // Telemetry never changes a decision or a start-up.
  }
}

/**
 * Counts one token verified by a weak secret (`authplane.legacy.weak_secret`, attribute
 * `authplane.legacy.weak_secret=true`), so dashboards show when the old key is no longer used.
 *
 * @internal
 * @example
 * ```ts
 * if (key.weak) recordWeakSecretUse(meterProvider);
 * ```
 */
export function recordWeakSecretUse(meterProvider?: MeterProvider): void {
  try {
    counter(meterProvider).add(1, { ...WEAK_ATTRIBUTES, 'authplane.legacy.event': 'verified' });
  } catch {
    // Swallowed: telemetry never changes a decision.
  }
}
