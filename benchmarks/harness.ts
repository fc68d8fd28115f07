import { monitorEventLoopDelay } from 'node:perf_hooks';

/** One measured contender: a name and an async or sync function verifying the i-th token. */
export interface Contender {
  readonly name: string;
  /** Whether this row is a peer (counted for "best peer") or the physical limit or authplane itself. */
  readonly role: 'limit' | 'peer' | 'authplane' | 'info';
  readonly run: (i: number) => unknown;
}

/** Throughput, latency percentiles and retained heap of one contender. */
export interface Measurement {
  readonly name: string;
  readonly role: Contender['role'];
  readonly opsPerSec: number;
  readonly p50Us: number;
  readonly p99Us: number;
  readonly heapDeltaKb: number;
}

const gc = (globalThis as { gc?: () => void }).gc;

/**
 * Runs a contender sequentially (one call in flight, like one request after another on one core)
 * for `durationMs` after a warm-up, and records every call's latency.
 */
export async function measure(contender: Contender, durationMs: number): Promise<Measurement> {
  for (let i = 0; i < 2000; i++) await contender.run(i);
  gc?.();
  const heapBefore = process.memoryUsage().heapUsed;
  const latencies: number[] = [];
  const loopDelay = monitorEventLoopDelay();
  loopDelay.enable();
  const start = process.hrtime.bigint();
  const deadline = start + BigInt(durationMs) * 1_000_000n;
  let i = 0;
  let now = start;
  while (now < deadline) {
    const before = now;
    const out = contender.run(i++);
    if (out instanceof Promise) await out;
    now = process.hrtime.bigint();
    latencies.push(Number(now - before) / 1000);
  }
  loopDelay.disable();
  const elapsedSec = Number(now - start) / 1e9;
  gc?.();
  const heapDeltaKb = (process.memoryUsage().heapUsed - heapBefore) / 1024;
  latencies.sort((a, b) => a - b);
  const pick = (q: number) =>
    latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0;
  return {
    name: contender.name,
    role: contender.role,
    opsPerSec: i / elapsedSec,
    p50Us: pick(0.5),
    p99Us: pick(0.99),
    heapDeltaKb,
  };
}

/** Prints one table with ratios to the physical limit and to the best peer, all from this one run. */
export function report(title: string, rows: readonly Measurement[]): void {
  const limit = rows.find((r) => r.role === 'limit');
  const bestPeer = rows.filter((r) => r.role === 'peer').sort((a, b) => b.opsPerSec - a.opsPerSec)[0];
  console.log(`\n${title}`);
  console.log(
    `${'contender'.padEnd(44)}${'ops/s'.padStart(10)}${'p50 µs'.padStart(9)}${'p99 µs'.padStart(9)}${'heap Δ KB'.padStart(11)}${'× limit'.padStart(9)}${'× best peer'.padStart(13)}`,
  );
  for (const r of rows) {
    const vsLimit = limit ? (r.opsPerSec / limit.opsPerSec).toFixed(2) : '-';
    const vsPeer = bestPeer ? (r.opsPerSec / bestPeer.opsPerSec).toFixed(2) : '-';
    console.log(
      `${r.name.padEnd(44)}${Math.round(r.opsPerSec).toString().padStart(10)}${r.p50Us.toFixed(1).padStart(9)}${r.p99Us.toFixed(1).padStart(9)}${Math.round(r.heapDeltaKb).toString().padStart(11)}${vsLimit.padStart(9)}${vsPeer.padStart(13)}`,
    );
  }
}
