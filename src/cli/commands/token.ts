import type { CliIO, Command, ParsedArgs } from '../types';
import {
  reportFailure,
  SESSION_EXIT_CODES,
  SESSION_HELP,
  SESSION_OPTIONS,
  sessionManager,
} from './session-config';

/**
 * `authplane token`: prints a valid access token on stdout (refreshed first when about to expire),
 * for scripts and other tools. With a fresh session it makes no network request and loads no OAuth
 * library. Exits 3 when not logged in or when the issuer ended the session.
 *
 * @example
 * ```sh
 * curl -H "Authorization: Bearer $(authplane token)" https://api.example.com/items
 * ```
 */
export const tokenCommand: Command = {
  name: 'token',
  summary: 'Print a valid access token for scripts (refreshes when needed)',
  usage: [
    'Usage: authplane token [options]',
    '',
    'Prints the access token on stdout (with --json: {"accessToken","tokenType","expiresAt"}).',
    'Treat the output as a secret: do not log it.',
    '',
    SESSION_HELP,
  ].join('\n'),
  options: { ...SESSION_OPTIONS },
  async run({ values }: ParsedArgs, io: CliIO): Promise<number> {
    const json = values.json === true;
    const { manager } = sessionManager(values);
    try {
      const accessToken = await manager.getAccessToken();
      if (json) {
        const status = await manager.status();
        io.out(
          JSON.stringify({
            accessToken,
            tokenType: 'Bearer',
            expiresAt: status.loggedIn ? status.expiresAt : undefined,
          }),
        );
      } else {
        io.out(accessToken);
      }
      return SESSION_EXIT_CODES.ok;
    } catch (err) {
      return reportFailure(err, 'token', json, io);
    }
  },
};
