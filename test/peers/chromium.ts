// Debian's Chromium, driven by playwright-core (no browser download), as the browser tests launch it:
// headless, and without the background networking this machine's closed network would refuse.
import { existsSync } from 'node:fs';
import { type Browser, chromium } from 'playwright-core';

/** Where Debian's `chromium` package installs the browser (.ci/run installs it when missing). */
export const CHROMIUM = '/usr/bin/chromium';

/** Whether the browser tests can run on this machine; they say why in their names when not. */
export const hasChromium = (): boolean => existsSync(CHROMIUM);

/** Launches a headless Chromium for one test file. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
}
