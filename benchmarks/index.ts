// `npm run bench`: every figure beside its peers, from one process, printed as ratios.
// BENCH_MS sets how long each contender runs (default 1500 ms); BENCH_ONLY=jwt,http runs only the named parts.
import { benchApiKeys } from './apikeys';
import { benchCliToken } from './cli-token';
import { benchHttp } from './http';
import { benchIntegration } from './integration';
import { benchJwtVerify } from './jwt-verify';
import { benchMigration } from './migration';

const durationMs = Number(process.env.BENCH_MS ?? 1500);
const only = new Set(
  (process.env.BENCH_ONLY ?? '')
    .split(',')
    .map((name) => name.trim())
    .filter(Boolean),
);

/** Each part by the name BENCH_ONLY selects it with; order is the order they run in. */
const parts: ReadonlyArray<readonly [string, () => Promise<unknown>]> = [
  ['jwt', () => benchJwtVerify(durationMs)],
  ['migration', () => benchMigration(durationMs)],
  ['apikeys', () => benchApiKeys(durationMs)],
  ['integration', () => benchIntegration(durationMs)],
  ['cli', () => benchCliToken()],
  ['http', () => benchHttp(Number(process.env.BENCH_HTTP_MS ?? 2000))],
];

const unknown = [...only].filter((name) => !parts.some(([part]) => part === name));
if (unknown.length > 0) {
  throw new Error(
    `BENCH_ONLY names unknown parts: ${unknown.join(', ')} (known: ${parts.map(([p]) => p).join(', ')})`,
  );
}

console.log(
  `authplane benchmarks — node ${process.version}, ${durationMs} ms per contender${(globalThis as { gc?: unknown }).gc ? '' : ' (run with --expose-gc for heap figures)'}`,
);
for (const [name, run] of parts) {
  if (only.size === 0 || only.has(name)) await run();
}
