import type { CliIO, Command, ParsedArgs } from '../types';
import {
  reportFailure,
  SESSION_EXIT_CODES,
  SESSION_HELP,
  SESSION_OPTIONS,
  sessionManager,
} from './session-config';

/**
 * `authplane logout`: revokes the refresh token at the issuer (RFC 7009) and deletes the local
 * session. When the issuer cannot be reached the session is still deleted, and the output says the
 * token was not revoked. Logging out without a session succeeds.
 *
 * @example
 * ```sh
 * authplane logout --json   # {"loggedOut":true,"revoked":true}
 * ```
 */
export const logoutCommand: Command = {
  name: 'logout',
  summary: 'Revoke the session at the issuer and delete it locally',
  usage: ['Usage: authplane logout [options]', '', SESSION_HELP].join('\n'),
  options: { ...SESSION_OPTIONS },
  async run({ values }: ParsedArgs, io: CliIO): Promise<number> {
    const json = values.json === true;
    const { config, manager } = sessionManager(values);
    try {
      const result = await manager.logout();
      if (json) {
        io.out(JSON.stringify({ ...result, issuer: config.issuer, storage: config.sessionFile }));
      } else if (!result.loggedOut) {
        io.out(`Not logged in to ${config.issuer}.`);
      } else if (result.revoked) {
        io.out(`Logged out of ${config.issuer}; the session was revoked at the issuer.`);
      } else {
        io.out(`Logged out: the local session was deleted.`);
        if (result.revocationError) {
          io.err(`authplane logout: warning: not revoked at the issuer (${result.revocationError.message})`);
        }
      }
      return SESSION_EXIT_CODES.ok;
    } catch (err) {
      return reportFailure(err, 'logout', json, io);
    }
  },
};
