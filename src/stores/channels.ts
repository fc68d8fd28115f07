// The configured invalidation channels, read the same way by the application and by the CLI, so that
// every revocation path publishes on every channel some instance listens on.
import { ConfigError } from '../core/errors';
import type { InvalidationChannel } from './contracts';
import { createFanoutChannel } from './fanout';
import type { LivenessOptions } from './liveness';

/** The environment variable listing the channels: comma-separated `redis://…` and `postgres://…` URLs. */
export const CHANNELS_ENV = 'AUTHPLANE_INVALIDATION_CHANNELS';

/**
 * One configured channel. The optional `channel` query parameter of the URL names the Redis pub/sub
 * channel or the PostgreSQL NOTIFY channel (defaults: `authplane:invalidation`, `authplane_invalidation`);
 * it is removed before connecting.
 *
 * @example
 * ```ts
 * const [spec] = parseChannelSpecs('redis://cache:6379?channel=acme:inv'); // { kind: 'redis', url: 'redis://cache:6379', channel: 'acme:inv' }
 * ```
 */
export type ChannelSpec =
  | { readonly kind: 'redis'; readonly url: string; readonly channel?: string }
  | { readonly kind: 'postgres'; readonly connectionString: string; readonly channel?: string };

/**
 * Parses channel URLs (a comma-separated string, as in {@link CHANNELS_ENV}, or a list). Duplicates
 * collapse; an empty value is an empty list.
 *
 * @throws ConfigError for anything but `redis://`, `rediss://`, `postgres://`, `postgresql://` URLs.
 * @example
 * ```ts
 * parseChannelSpecs(process.env.AUTHPLANE_INVALIDATION_CHANNELS ?? '');
 * ```
 */
export function parseChannelSpecs(value: string | readonly string[]): ChannelSpec[] {
  const items = (typeof value === 'string' ? value.split(',') : [...value])
    .map((s) => (typeof s === 'string' ? s.trim() : ''))
    .filter((s) => s !== '');
  const seen = new Set<string>();
  const specs: ChannelSpec[] = [];
  for (const item of items) {
    let url: URL;
    try {
      url = new URL(item);
    } catch {
      throw new ConfigError(CHANNELS_ENV, 'each channel must be a redis:// or postgres:// URL');
    }
    const channel = url.searchParams.get('channel') ?? undefined;
    url.searchParams.delete('channel');
    const bare = url.toString();
    const key = `${bare}#${channel ?? ''}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const named = channel !== undefined && channel !== '' ? { channel } : {};
    if (url.protocol === 'redis:' || url.protocol === 'rediss:')
      specs.push({ kind: 'redis', url: bare, ...named });
    else if (url.protocol === 'postgres:' || url.protocol === 'postgresql:') {
      specs.push({ kind: 'postgres', connectionString: bare, ...named });
    } else {
      throw new ConfigError(CHANNELS_ENV, `unsupported channel scheme "${url.protocol}" (redis:, postgres:)`);
    }
  }
  return specs;
}

/**
 * A channel as shown to people: scheme, host and channel name, never credentials.
 *
 * @example
 * ```ts
 * describeChannel({ kind: 'redis', url: 'redis://:pw@cache:6379' }); // 'redis://cache:6379'
 * ```
 */
export function describeChannel(spec: ChannelSpec): string {
  try {
    const url = new URL(spec.kind === 'redis' ? spec.url : spec.connectionString);
    return `${url.protocol}//${url.host}${spec.channel ? ` (${spec.channel})` : ''}`;
  } catch {
    return spec.kind;
  }
}

/** Options of {@link openInvalidationChannels}. */
export interface OpenChannelsOptions {
  /** Channel URLs; default: {@link CHANNELS_ENV} from `env`. */
  readonly specs?: string | readonly string[];
  /** Where {@link CHANNELS_ENV} is read. Default `process.env`. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** The heartbeat of every channel. */
  readonly liveness?: LivenessOptions;
  readonly onError?: (error: unknown) => void;
}

/**
 * Opens every configured channel (Redis and PostgreSQL drivers load lazily) and returns them as one
 * fan-out channel: publishing sends on each, and it is healthy only while each is. Null when none is
 * configured. Application and CLI read the same {@link CHANNELS_ENV}, so `authplane keys revoke` reaches
 * every instance, whichever channel it listens on.
 *
 * @throws ConfigError for a bad URL; StoreError when a channel cannot be opened (the others are closed).
 * @example
 * ```ts
 * // AUTHPLANE_INVALIDATION_CHANNELS=postgres://db/app,redis://cache:6379
 * const channel = await openInvalidationChannels();
 * const revocation = createCachedRevocationStore({ store, ...(channel ? { channel } : {}) });
 * ```
 */
export async function openInvalidationChannels(
  options: OpenChannelsOptions = {},
): Promise<InvalidationChannel | null> {
  const env = options.env ?? process.env;
  const specs = parseChannelSpecs(options.specs ?? env[CHANNELS_ENV] ?? '');
  if (specs.length === 0) return null;
  const opened: InvalidationChannel[] = [];
  try {
    for (const spec of specs) opened.push(await openOne(spec, options));
  } catch (err) {
    await Promise.allSettled(opened.map((c) => c.close()));
    throw err;
  }
  return createFanoutChannel(opened);
}

async function openOne(spec: ChannelSpec, options: OpenChannelsOptions): Promise<InvalidationChannel> {
  const common = {
    ...(spec.channel !== undefined ? { channel: spec.channel } : {}),
    ...(options.liveness !== undefined ? { liveness: options.liveness } : {}),
    ...(options.onError !== undefined ? { onError: options.onError } : {}),
  };
  if (spec.kind === 'redis') {
    const { createRedisInvalidationChannel } = await import('./redis');
    return createRedisInvalidationChannel({ url: spec.url, ...common });
  }
  const { createPostgresInvalidationChannel } = await import('./postgres/index');
  return createPostgresInvalidationChannel({ connectionString: spec.connectionString, ...common });
}
