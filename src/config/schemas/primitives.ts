// Validators every provider schema shares: http(s) URLs, the clock and fetch seams, durations.
import { z } from 'zod';

/** An http(s) URL. */
export const url = z.url({ protocol: /^https?$/ });
/** Test seam shared by every provider: a clock returning epoch milliseconds. */
export const clockFn = z.custom<() => number>((v) => typeof v === 'function');
/** Seam shared by every provider for its HTTP calls (proxies, tests). */
export const fetchFn = z.custom<typeof fetch>((v) => typeof v === 'function');
/** A positive, finite number of seconds. */
export const positiveSeconds = z.number().finite().positive();
