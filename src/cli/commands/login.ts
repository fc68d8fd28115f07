import type { DeviceCodePrompt } from '../../client/flows';
import { launchBrowser } from '../../client/opener';
import { startSpinner } from '../spinner';
import type { CliIO, Command, ParsedArgs } from '../types';
import { describeUser, statusJson } from './format';
import {
  reportFailure,
  SESSION_EXIT_CODES,
  SESSION_HELP,
  SESSION_OPTIONS,
  sessionManager,
} from './session-config';

/**
 * `authplane login [--device] [--force] [--no-browser]`: logs in through the browser (PKCE, loopback
 * redirect) or with a device code, and stores the encrypted session. Does nothing when a session
 * already exists, unless `--force`.
 *
 * @example
 * ```sh
 * authplane login                 # opens the browser
 * authplane login --device --json # stderr: {"event":"device_code",...}; stdout: the status
 * ```
 */
export const loginCommand: Command = {
  name: 'login',
  summary: 'Log in (browser with PKCE, or --device) and store the session',
  usage: [
    'Usage: authplane login [--device] [--force] [--no-browser] [--login-hint ID] [options]',
    '',
    'Logs in through your browser (Authorization Code + PKCE, redirect to 127.0.0.1) or, with',
    '--device, with a code to enter on another device (SSH, headless shells). No password ever',
    'passes through this command. The session is stored encrypted and refreshed as needed.',
    '',
    'Options:',
    '  --device            use the device flow: prints a code and a URL to open anywhere',
    '  --force             log in again even if a session exists (also replaces a corrupt one)',
    '  --no-browser        print the login URL instead of opening a browser',
    '  --login-hint ID     which account to sign in as (OIDC login_hint), e.g. bob on `authplane dev`',
    '',
    SESSION_HELP,
  ].join('\n'),
  options: {
    ...SESSION_OPTIONS,
    device: { type: 'boolean', default: false },
    force: { type: 'boolean', default: false },
    'no-browser': { type: 'boolean', default: false },
    'login-hint': { type: 'string' },
  },
  async run({ values }: ParsedArgs, io: CliIO): Promise<number> {
    const json = values.json === true;
    const { config, manager } = sessionManager(values);
    try {
      if (values.force !== true) {
        const current = await manager.status();
        if (current.loggedIn) {
          if (json) io.out(JSON.stringify({ ...statusJson(current), alreadyLoggedIn: true }));
          else
            io.out(
              `Already logged in to ${config.issuer} as ${describeUser(current.user)} (use --force to log in again).`,
            );
          return SESSION_EXIT_CODES.ok;
        }
      }
      const abort = new AbortController();
      void io.shutdown().then(() => abort.abort());
      let spinner: { stop(): void } | undefined;
      const wait = (text: string) => {
        if (!json) spinner = startSpinner(text);
      };
      try {
        const status =
          values.device === true
            ? await manager.login({
                flow: 'device',
                signal: abort.signal,
                onCode: (prompt: DeviceCodePrompt) => {
                  if (json) io.err(JSON.stringify({ event: 'device_code', ...prompt }));
                  else {
                    io.err(
                      `To log in, open ${prompt.verificationUri} and enter the code: ${prompt.userCode}`,
                    );
                    if (prompt.verificationUriComplete) io.err(`(or open ${prompt.verificationUriComplete})`);
                  }
                  wait('Waiting for you to approve the code…');
                },
              })
            : await manager.login({
                flow: 'browser',
                signal: abort.signal,
                open: (url: string) => {
                  if (json) io.err(JSON.stringify({ event: 'authorization_url', url }));
                  else if (values['no-browser'] === true) io.err(`Open this URL to log in:\n  ${url}`);
                  else io.err(`Opening your browser to log in. If it does not open, visit:\n  ${url}`);
                  if (values['no-browser'] !== true) launchBrowser(url);
                  wait('Waiting for the browser…');
                },
              });
        spinner?.stop();
        if (json) io.out(JSON.stringify(statusJson(status)));
        else {
          io.out(`Logged in to ${status.issuer} as ${describeUser(status.user)}.`);
          io.out(`Session stored in ${status.storage}`);
        }
        return SESSION_EXIT_CODES.ok;
      } finally {
        spinner?.stop();
      }
    } catch (err) {
      return reportFailure(err, 'login', json, io);
    }
  },
};
