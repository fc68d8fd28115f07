const FRAMES = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

/**
 * A one-line spinner on stderr while a command waits (browser, device code). Only on a TTY: piped
 * or captured stderr gets nothing, so scripts and `--json` consumers never see control characters.
 *
 * @example
 * ```ts
 * const spin = startSpinner('Waiting for the browser…');
 * try { await work(); } finally { spin.stop(); }
 * ```
 */
export function startSpinner(text: string, stream: NodeJS.WriteStream = process.stderr): { stop(): void } {
  if (!stream.isTTY) return { stop() {} };
  let i = 0;
  const draw = () => stream.write(`\r${FRAMES[i++ % FRAMES.length]} ${text}`);
  draw();
  const timer = setInterval(draw, 80);
  timer.unref();
  return {
    stop() {
      clearInterval(timer);
      stream.write('\r\x1b[2K');
    },
  };
}
