import type { CliIO, Command, ParsedArgs } from '../types';
import { describeUser } from './format';
import {
  reportFailure,
  SESSION_EXIT_CODES,
  SESSION_HELP,
  SESSION_OPTIONS,
  sessionManager,
} from './session-config';

/**
 * `authplane whoami`: the logged-in user in one line (`--json`: subject, email, name, orgId,
 * issuer). Local only. Exits 3 when not logged in.
 *
 * @example
 * ```sh
 * authplane whoami   # Alice Admin <alice@acme.test> (org org_acme)
 * ```
 */
export const whoamiCommand: Command = {
  name: 'whoami',
  summary: 'Print the logged-in user',
  usage: ['Usage: authplane whoami [options]', '', SESSION_HELP].join('\n'),
  options: { ...SESSION_OPTIONS },
  async run({ values }: ParsedArgs, io: CliIO): Promise<number> {
    const json = values.json === true;
    const { manager } = sessionManager(values);
    try {
      const status = await manager.status();
      if (!status.loggedIn) {
        if (json) io.out(JSON.stringify({ error: 'not_logged_in', issuer: status.issuer }));
        io.err(`authplane whoami: not logged in to ${status.issuer}: run \`authplane login\``);
        return SESSION_EXIT_CODES.notLoggedIn;
      }
      if (json) io.out(JSON.stringify({ ...status.user, issuer: status.issuer }));
      else io.out(describeUser(status.user));
      return SESSION_EXIT_CODES.ok;
    } catch (err) {
      return reportFailure(err, 'whoami', json, io);
    }
  },
};
