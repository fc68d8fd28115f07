import { parseArgs } from 'node:util';
import pkg from '../../package.json' with { type: 'json' };
import { AuthplaneError, ConfigError } from '../core/errors';
import { dbCommand } from './commands/db';
import { devCommand } from './commands/dev';
import { doctorCommand } from './commands/doctor';
import { keysCommand } from './commands/keys';
import { loginCommand } from './commands/login';
import { logoutCommand } from './commands/logout';
import { migrateCommand } from './commands/migrate';
import { statusCommand } from './commands/status';
import { storeFailureMessage } from './commands/store';
import { tokenCommand } from './commands/token';
import { whoamiCommand } from './commands/whoami';
import { type CliIO, type Command, EXIT_CODES, UsageError } from './types';

/**
 * Every sub-command; add `login`, `keys`, `migrate` here, each from its own file in ./commands.
 *
 * @example
 * ```ts
 * await run(['keys', 'list'], io, [...COMMANDS, keysCommand]);
 * ```
 */
export const COMMANDS: readonly Command[] = [
  devCommand,
  keysCommand,
  dbCommand,
  loginCommand,
  logoutCommand,
  statusCommand,
  tokenCommand,
  whoamiCommand,
  migrateCommand,
  doctorCommand,
];

function helpText(commands: readonly Command[]): string {
  const width = Math.max(...commands.map((c) => c.name.length)) + 2;
  return [
    `authplane ${pkg.version}: provider-neutral identity for backends and CLIs`,
    '',
    'Usage: authplane <command> [options]',
    '',
    'Commands:',
    ...commands.map((c) => `  ${c.name.padEnd(width)}${c.summary}`),
    '',
    'Options:',
    '  -h, --help       show help (also: authplane <command> --help)',
    '  -v, --version    print the version',
    '',
    'Exit codes: 0 ok, 1 failure (the command ran and failed, e.g. an unreachable store or issuer),',
    '            2 usage or configuration error, 3 not logged in or session ended (login, logout,',
    '            token, whoami, status).',
  ].join('\n');
}

/**
 * The default IO: lines to stdout/stderr; `shutdown` resolves on the first SIGINT or SIGTERM and then
 * removes its listeners, so the process exits once the command has cleaned up.
 *
 * @example
 * ```ts
 * process.exitCode = await run(process.argv.slice(2), processIO());
 * ```
 */
export function processIO(): CliIO {
  return {
    out: (line) => process.stdout.write(`${line}\n`),
    err: (line) => process.stderr.write(`${line}\n`),
    shutdown: () =>
      new Promise((resolve) => {
        const onSignal = (signal: NodeJS.Signals) => {
          process.off('SIGINT', onSignal);
          process.off('SIGTERM', onSignal);
          resolve(signal);
        };
        process.on('SIGINT', onSignal);
        process.on('SIGTERM', onSignal);
      }),
  };
}

/**
 * Runs the `authplane` command line and resolves with its exit code (see `EXIT_CODES`). Never calls
 * `process.exit`, so a command that leaked a timer or socket would show up as a process that hangs.
 *
 * @example
 * ```ts
 * const code = await run(['dev', '--port', '0', '--json'], io);
 * ```
 */
export async function run(
  argv: readonly string[],
  io: CliIO = processIO(),
  commands = COMMANDS,
): Promise<number> {
  const [first, ...rest] = argv;
  if (first === undefined || first === '-h' || first === '--help' || first === 'help') {
    (first === undefined ? io.err : io.out)(helpText(commands));
    return first === undefined ? EXIT_CODES.usage : EXIT_CODES.ok;
  }
  if (first === '-v' || first === '--version') {
    io.out(pkg.version);
    return EXIT_CODES.ok;
  }
  const command = commands.find((c) => c.name === first);
  if (!command) {
    io.err(`authplane: unknown command "${first}"\n\n${helpText(commands)}`);
    return EXIT_CODES.usage;
  }

  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({
      args: rest,
      options: { ...command.options, help: { type: 'boolean', short: 'h' } },
      allowPositionals: command.allowPositionals ?? false,
      strict: true,
    });
  } catch (err) {
    io.err(`authplane ${command.name}: ${(err as Error).message}\n\n${command.usage}`);
    return EXIT_CODES.usage;
  }
  if (parsed.values.help === true) {
    io.out(command.usage);
    return EXIT_CODES.ok;
  }

  try {
    return await command.run({ values: parsed.values, positionals: parsed.positionals }, io);
  } catch (err) {
    if (err instanceof UsageError || err instanceof ConfigError) {
      io.err(`authplane ${command.name}: ${err.message}\n\n${command.usage}`);
      return EXIT_CODES.usage;
    }
    // Every command that opens a store (keys, db, migrate) fails here: name the store, never its credentials.
    const message =
      storeFailureMessage(err, parsed.values.store) ??
      (err instanceof AuthplaneError || err instanceof Error ? err.message : String(err));
    io.err(`authplane ${command.name}: ${message}`);
    return EXIT_CODES.failure;
  }
}
