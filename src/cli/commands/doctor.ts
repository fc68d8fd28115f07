import { runDoctor } from '../doctor/run';
import { type Command, EXIT_CODES } from '../types';

const USAGE = `Usage: authplane doctor [--config FILE] [--json]

Reads the configuration as the plane would (AUTHPLANE_* variables over --config FILE), then checks:
issuer discovery, the JWKS (reachable, key types fit the algorithms, unique kids), clock skew against
the issuer's Date, introspection credentials, the store (AUTHPLANE_STORE, AUTHPLANE_STORE_SCHEMA:
reachable, migrations applied), each invalidation channel (AUTHPLANE_INVALIDATION_CHANNELS: a round trip), vendor adapters
(flag on, SDK installed) and the CLI session files' permissions.
Each check prints ok / warn / fail with what to do. Exit 0 when nothing fails, 1 otherwise.`;

/**
 * `authplane doctor`: tells whether a configuration can work, before traffic does.
 *
 * @example
 * ```ts
 * await run(['doctor', '--json'], io);
 * ```
 */
export const doctorCommand: Command = {
  name: 'doctor',
  summary: 'Check the configuration, the issuer, stores and channels before traffic does',
  usage: USAGE,
  options: { config: { type: 'string' }, json: { type: 'boolean' } },
  async run(args, io) {
    const config = typeof args.values.config === 'string' ? args.values.config : undefined;
    const checks = await runDoctor({ env: process.env, ...(config ? { configFile: config } : {}) });
    const failed = checks.some((c) => c.status === 'fail');
    if (args.values.json === true) {
      io.out(JSON.stringify({ ok: !failed, checks }));
    } else {
      for (const c of checks) {
        io.out(`${c.status.padEnd(4)}  ${c.name.padEnd(13)} ${c.message}`);
        if (c.fix) io.out(`      ${''.padEnd(13)} -> ${c.fix}`);
      }
    }
    return failed ? EXIT_CODES.failure : EXIT_CODES.ok;
  },
};
