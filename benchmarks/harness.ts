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
async function measureOnce(
  contender: Contender,
  durationMs: number,
  offset: number,
): Promise<{ ops: number; latencies: number[]; heapDeltaKb: number }> {
  gc?.();
  const heapBefore = process.memoryUsage().heapUsed;
  const latencies: number[] = [];
  const start = process.hrtime.bigint();
  const deadline = start + BigInt(durationMs) * 1_000_000n;
  let i = offset;
  let now = start;
  while (now < deadline) {
    const before = now;
    const out = contender.run(i++);
    if (out instanceof Promise) await out;
    now = process.hrtime.bigint();
    latencies.push(Number(now - before) / 1000);
  }
  const heapDeltaKb = (process.memoryUsage().heapUsed - heapBefore) / 1024;
  return { ops: (i - offset) / (Number(now - start) / 1e9), latencies, heapDeltaKb };
}

/**
 * Measures every contender in interleaved rounds (A B C, A B C, …) and keeps each one's median round,
 * so a burst of load on a shared machine hits all contenders alike and the ratios stay meaningful.
 */
export async function measureAll(
  contenders: readonly Contender[],
  durationMs: number,
  rounds = 5,
): Promise<Measurement[]> {
  for (const c of contenders) for (let i = 0; i < 2000; i++) await c.run(i);
  const perRound = Math.max(100, Math.floor(durationMs / rounds));
  const samples = contenders.map(() => [] as Awaited<ReturnType<typeof measureOnce>>[]);
  for (let r = 0; r < rounds; r++) {
    for (const [k, c] of contenders.entries()) samples[k]?.push(await measureOnce(c, perRound, r * 100_000));
  }
  return contenders.map((c, k) => {
    const runs = [...(samples[k] ?? [])].sort((a, b) => a.ops - b.ops);
    const median = runs[Math.floor(runs.length / 2)];
    const latencies = runs.flatMap((run) => run.latencies).sort((a, b) => a - b);
    const pick = (q: number) =>
      latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))] ?? 0;
    return {
      name: c.name,
      role: c.role,
      opsPerSec: median?.ops ?? 0,
      p50Us: pick(0.5),
      p99Us: pick(0.99),
      heapDeltaKb: Math.max(...runs.map((run) => run.heapDeltaKb)),
    };
  });
}

/** Prints one table with ratios to the physical limit and to the best peer, all from this one run. */
export function report(title: string, rows: readonly Measurement[]): void {
  const limit = rows.find((r) => r.role === 'limit');
  const bestPeer = rows.filter((r) => r.role === 'peer').sort((a, b) => b.opsPerSec - a.opsPerSec)[0];
  console.log(`\n${title}`);
  console.log(
    `${'contender'.padEnd(44)}${'ops/s'.padStart(10)}${'p50 µs'.padStart(9)}${'p99 µs'.padStart(9)}${'max heap Δ KB'.padStart(15)}${'× limit'.padStart(9)}${'× best peer'.padStart(13)}`,
  );
  for (const r of rows) {
    const vsLimit = limit ? (r.opsPerSec / limit.opsPerSec).toFixed(2) : '-';
    const vsPeer = bestPeer ? (r.opsPerSec / bestPeer.opsPerSec).toFixed(2) : '-';
    console.log(
      `${r.name.padEnd(44)}${Math.round(r.opsPerSec).toString().padStart(10)}${r.p50Us.toFixed(1).padStart(9)}${r.p99Us.toFixed(1).padStart(9)}${Math.round(r.heapDeltaKb).toString().padStart(15)}${vsLimit.padStart(9)}${vsPeer.padStart(13)}`,
    );
  }
}

/** One contender alone (for figures with no peer to interleave with). */
export async function measure(contender: Contender, durationMs: number): Promise<Measurement> {
  const [row] = await measureAll([contender], durationMs);
  if (!row) throw new Error('no measurement');
  return row;
}
