// `authplane token` with a valid session: wall time of the whole process beside `node -e 0`.
// Prefers the built CLI (dist/cli.js, what users run); falls back to tsx on the sources, which adds
// the TypeScript loader's start-up and is reported as such.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createEncryptedFileStorage, createTokenManager } from '../src/client/index';
import { startDevIssuer } from '../src/dev/index';
import { approveDeviceCode } from '../test/peers/user-agent';

const root = fileURLToPath(new URL('../', import.meta.url));

/** Median and p95 wall time of one command, in ms. */
export interface WallTime {
  readonly name: string;
  readonly medianMs: number;
  readonly p95Ms: number;
}

function time(name: string, args: string[], env: NodeJS.ProcessEnv, runs: number): WallTime {
  const samples: number[] = [];
  for (let i = 0; i < runs + 2; i++) {
    const start = process.hrtime.bigint();
    const res = spawnSync(process.execPath, args, { cwd: root, env, encoding: 'utf8' });
    const ms = Number(process.hrtime.bigint() - start) / 1e6;
    if (res.status !== 0) throw new Error(`${name} exited ${res.status}: ${res.stderr.trim()}`);
    if (i >= 2) samples.push(ms); // two warm-up runs (disk cache)
  }
  samples.sort((a, b) => a - b);
  const at = (q: number) => samples[Math.min(samples.length - 1, Math.floor(q * samples.length))] ?? 0;
  return { name, medianMs: at(0.5), p95Ms: at(0.95) };
}

/**
 * Logs in once against a dev issuer (device flow, headless), then times `authplane token` (which
 * reads and decrypts the session and prints the token, no network) against `node -e 0`.
 *
 * @example
 * ```ts
 * await benchCliToken({ runs: 20 });
 * ```
 */
export async function benchCliToken(options: { runs?: number; cli?: string } = {}): Promise<WallTime[]> {
  const runs = options.runs ?? 20;
  const built = options.cli ?? join(root, 'dist', 'cli.js');
  const useBuilt = existsSync(built);
  const dev = await startDevIssuer();
  const dir = await mkdtemp(join(tmpdir(), 'authplane-bench-'));
  try {
    const sessionFile = join(dir, 'session');
    const manager = createTokenManager({
      issuer: dev.issuer,
      clientId: dev.clients.cli.clientId,
      scopes: 'openid offline_access profile email read',
      allowInsecureRequests: true,
      storage: createEncryptedFileStorage({ path: sessionFile }),
    });
    await manager.login({
      flow: 'device',
      onCode: ({ verificationUriComplete }) => void approveDeviceCode(verificationUriComplete as string),
    });
    const env = {
      ...process.env,
      XDG_CONFIG_HOME: dir,
      AUTHPLANE_ISSUER: dev.issuer,
      AUTHPLANE_ALLOW_INSECURE_REQUESTS: 'true',
      AUTHPLANE_SESSION_FILE: sessionFile,
    };
    const cliArgs = useBuilt ? [built, 'token'] : ['--import', 'tsx', 'src/cli/index.ts', 'token'];
    const rows = [
      time('node -e 0', ['-e', '0'], env, runs),
      time(
        useBuilt ? 'authplane token (dist/cli.js)' : 'authplane token (tsx, dist absent)',
        cliArgs,
        env,
        runs,
      ),
    ];
    console.log(`\nauthplane token with a valid session — wall time of the process, ${runs} runs`);
    console.log(`${'command'.padEnd(40)}${'median ms'.padStart(11)}${'p95 ms'.padStart(9)}`);
    for (const r of rows) {
      console.log(
        `${r.name.padEnd(40)}${r.medianMs.toFixed(1).padStart(11)}${r.p95Ms.toFixed(1).padStart(9)}`,
      );
    }
    const [node, token] = rows as [WallTime, WallTime];
    console.log(
      `authplane token: ${token.medianMs.toFixed(1)} ms total, ${(token.medianMs - node.medianMs).toFixed(1)} ms above node itself (target: <= 150 ms total)`,
    );
    return rows;
  } finally {
    await rm(dir, { recursive: true, force: true });
    await dev.stop();
  }
}
