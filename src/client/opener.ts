import { spawn } from 'node:child_process';

/**
 * The default `open` of a browser login: prints the URL to stderr (the fallback when no browser
 * starts, e.g. over SSH) and asks the platform's opener (`open`, `xdg-open`, or the Windows URL
 * handler) to show it. Failures of the opener are ignored: the printed URL still works.
 *
 * @example
 * ```ts
 * await tokens.login({ flow: 'browser', open: (url) => defaultOpen(url) });
 * ```
 */
export function defaultOpen(url: string): void {
  process.stderr.write(`Opening your browser to sign in. If it does not open, visit:\n  ${url}\n`);
  launchBrowser(url);
}

/**
 * Starts the platform's URL opener, detached, and ignores every failure (no opener installed, no
 * display). Prints nothing: `defaultOpen` prints the URL first.
 *
 * @example
 * ```ts
 * io.err(`Visit ${url}`); launchBrowser(url);
 * ```
 */
export function launchBrowser(url: string): void {
  const [command, args] =
    process.platform === 'darwin'
      ? ['open', [url]]
      : process.platform === 'win32'
        ? // rundll32 rather than `cmd /c start`: no shell parses the URL's `&`.
          ['rundll32', ['url.dll,FileProtocolHandler', url]]
        : ['xdg-open', [url]];
  try {
    const child = spawn(command as string, args as string[], { stdio: 'ignore', detached: true });
    child.on('error', () => undefined);
    child.unref();
  } catch {
    // no opener on this system: the printed URL is the way
  }
}
