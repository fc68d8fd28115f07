// `npm run bench`: every figure beside its peers, from one process, printed as ratios.
// BENCH_MS sets how long each contender runs (default 1500 ms).
import { benchApiKeys } from './apikeys';
import { benchCliToken } from './cli-token';
import { benchHttp } from './http';
import { benchIntegration } from './integration';
import { benchJwtVerify } from './jwt-verify';
import { benchMigration } from './migration';

const durationMs = Number(process.env.BENCH_MS ?? 1500);

console.log(
  `authplane benchmarks — node ${process.version}, ${durationMs} ms per contender${(globalThis as { gc?: unknown }).gc ? '' : ' (run with --expose-gc for heap figures)'}`,
);
await benchJwtVerify(durationMs);
await benchMigration(durationMs);
await benchApiKeys(durationMs);
await benchIntegration(durationMs);
await benchCliToken();
await benchHttp(Number(process.env.BENCH_HTTP_MS ?? 2000));
