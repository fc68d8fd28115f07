import type { ParseArgsConfig } from 'node:util';

/**
 * Exit codes of the `authplane` command: 0 success, 1 failure (the command ran and failed), 2 usage
 * (unknown command or option, bad option value).
 *
 * @example
 * ```ts
 * process.exitCode = await run(process.argv.slice(2)); // EXIT_CODES.ok, .failure or .usage
 * ```
 */
export const EXIT_CODES = Object.freeze({ ok: 0, failure: 1, usage: 2 } as const);

/**
 * Where a command writes and how it learns it must stop. The default writes to stdout/stderr and
 * resolves `shutdown` on SIGINT or SIGTERM; tests pass their own.
 *
 * @example
 * ```ts
 * const lines: string[] = [];
 * const io: CliIO = { out: (l) => lines.push(l), err: () => {}, shutdown: () => stopped };
 * ```
 */
export interface CliIO {
  /** One line of the command's output (stdout). */
  out(line: string): void;
  /** One line of diagnostics (stderr). */
  err(line: string): void;
  /** Resolves with the signal name when the process is asked to stop. */
  shutdown(): Promise<string>;
}

/**
 * Thrown by a command for a usage mistake (bad option value); the dispatcher prints it with the
 * command's usage and exits 2.
 *
 * @example
 * ```ts
 * throw new UsageError('--port must be an integer between 0 and 65535');
 * ```
 */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/**
 * One `authplane` sub-command, in its own file under `src/cli/commands/`. Options are parsed by the
 * dispatcher with `util.parseArgs` (strict) from `options`; `--help` is added to every command.
 *
 * @example
 * ```ts
 * export const keysCommand: Command = {
 *   name: 'keys', summary: 'Manage API keys', usage: 'authplane keys list [--org ID]',
 *   options: { org: { type: 'string' } },
 *   async run({ values, positionals }, io) { io.out('...'); return EXIT_CODES.ok; },
 * };
 * ```
 */
export interface Command {
  readonly name: string;
  /** One line for `authplane --help`. */
  readonly summary: string;
  /** Usage and option lines for `authplane <name> --help`. */
  readonly usage: string;
  readonly options: NonNullable<ParseArgsConfig['options']>;
  /** Whether the command takes positional arguments (default: none allowed). */
  readonly allowPositionals?: boolean;
  run(args: ParsedArgs, io: CliIO): Promise<number>;
}

/**
 * The parsed command line handed to `Command.run`.
 *
 * @example
 * ```ts
 * async run({ values }) { const port = values.port; }
 * ```
 */
export interface ParsedArgs {
  readonly values: Readonly<Record<string, string | boolean | (string | boolean)[] | undefined>>;
  readonly positionals: readonly string[];
}
