#!/usr/bin/env node
// The `authplane` executable (dist/cli.js). Exit codes: 0 ok, 1 failure, 2 usage (see EXIT_CODES).
import { run } from './main';

run(process.argv.slice(2)).then(
  (code) => {
    // exitCode, not exit(): the process ends when the command has released everything it held.
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`authplane: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
