import {
  CHANNELS_ENV,
  describeChannel,
  openInvalidationChannels,
  parseChannelSpecs,
} from '../../stores/channels';
import type { InvalidationChannel } from '../../stores/contracts';
import type { ParsedArgs } from '../types';
import { UsageError } from '../types';

/**
 * The invalidation channels a CLI write must reach, and what went wrong reaching them. A channel that
 * cannot be opened does not stop the write (the store is the truth; a key left active would be worse):
 * it is reported afterwards, and the command exits 1.
 *
 * @example
 * ```ts
 * const notify = await openCliChannels(args.values.channel);
 * try { … } finally { await notify.close(); }
 * if (notify.failures.length > 0) return EXIT_CODES.failure;
 * ```
 */
export interface CliChannels {
  /** Every configured channel as one fan-out, or null when none is configured (or none could open). */
  readonly channel: InvalidationChannel | null;
  /** Where the channels are, for messages (no credentials). */
  readonly described: readonly string[];
  /** Errors met opening or publishing; the caller reports them. */
  readonly failures: unknown[];
  close(): Promise<void>;
}

/**
 * Opens the channels named by `--channel` (repeatable), else by `AUTHPLANE_INVALIDATION_CHANNELS`:
 * the same variable the application's `openInvalidationChannels()` reads.
 *
 * @throws UsageError for a malformed channel URL.
 * @example
 * ```ts
 * const notify = await openCliChannels(['redis://127.0.0.1:6379']);
 * ```
 */
export async function openCliChannels(
  option: ParsedArgs['values'][string],
  env: Readonly<Record<string, string | undefined>> = process.env,
): Promise<CliChannels> {
  const given = (Array.isArray(option) ? option : option === undefined ? [] : [option]).filter(
    (v): v is string => typeof v === 'string',
  );
  const raw = given.length > 0 ? given.join(',') : (env[CHANNELS_ENV] ?? '');
  let described: string[];
  try {
    described = parseChannelSpecs(raw).map(describeChannel);
  } catch (err) {
    throw new UsageError(`--channel / ${CHANNELS_ENV}: ${(err as Error).message}`);
  }
  const failures: unknown[] = [];
  let channel: InvalidationChannel | null = null;
  try {
    channel = await openInvalidationChannels({ specs: raw, onError: () => {} });
  } catch (err) {
    failures.push(err);
  }
  return {
    channel,
    described,
    failures,
    async close() {
      await channel?.close().catch(() => {});
    },
  };
}
