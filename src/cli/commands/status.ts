import type { CliIO, Command, ParsedArgs } from '../types';
import { describeUser, statusJson } from './format';
import {
  relativeTime,
  reportFailure,
  SESSION_EXIT_CODES,
  SESSION_HELP,
  SESSION_OPTIONS,
  sessionManager,
} from './session-config';

/**
 * `authplane status`: who is logged in, to which issuer and org, until when, and where the session
 * is stored. Local only (no request to the issuer). Exits 3 when not logged in.
 *
 * @example
 * ```sh
 * authplane status --json | jq .user.orgId
 * ```
 */
export const statusCommand: Command = {
  name: 'status',
  summary: 'Show who is logged in, the org, the expiry and where the session is stored',
  usage: ['Usage: authplane status [options]', '', SESSION_HELP].join('\n'),
  options: { ...SESSION_OPTIONS },
  async run({ values }: ParsedArgs, io: CliIO): Promise<number> {
    const json = values.json === true;
    const { manager } = sessionManager(values);
    try {
      const status = await manager.status();
      if (json) io.out(JSON.stringify(statusJson(status)));
      else if (!status.loggedIn) {
        io.out(`Not logged in to ${status.issuer}. Run \`authplane login\`.`);
        io.out(`  storage   ${status.storage}`);
      } else {
        const delta = status.expiresAt - Math.floor(Date.now() / 1000);
        const expiry = new Date(status.expiresAt * 1000).toISOString();
        io.out(`Logged in to ${status.issuer} as ${describeUser(status.user)}`);
        io.out(`  subject   ${status.user.subject}`);
        io.out(`  org       ${status.user.orgId ?? '-'}`);
        io.out(
          `  token     ${status.accessTokenValid ? `expires ${expiry} (${relativeTime(delta)})` : `expired ${expiry}${status.refreshable ? ', refreshed on next use' : ''}`}`,
        );
        io.out(`  refresh   ${status.refreshable ? 'yes (stays logged in)' : 'no (log in again at expiry)'}`);
        io.out(`  scopes    ${status.scopes.join(' ') || '-'}`);
        io.out(`  client    ${status.clientId}`);
        io.out(`  storage   ${status.storage}`);
      }
      return status.loggedIn ? SESSION_EXIT_CODES.ok : SESSION_EXIT_CODES.notLoggedIn;
    } catch (err) {
      return reportFailure(err, 'status', json, io);
    }
  },
};
