/**
 * A real browser for the browser tests: Debian's `chromium` (/usr/bin/chromium), driven by
 * playwright-core (pinned), never a browser a test tool downloads (it cannot here, and a CI
 * must not depend on it). Each launch gets a new, empty profile in a temp folder, removed on
 * close, so no cookie or cache leaks from one test to the next: playwright-core's launch()
 * makes it (mkdtemp `playwright_chromiumdev_profile-*`, passed as --user-data-dir, removed when
 * the browser closes) and refuses a --user-data-dir of our own in `args`.
 *
 *   const b = await launchBrowser();
 *   if (!b) return;            // "[skip] ..." printed: chromium is not installed
 *   perTest.add('browser', () => b.close());
 *   const page = await b.browser.newPage();
 *
 * The browser's version is logged: playwright-core promises nothing for a Chromium other than
 * its own build, so a failure should be read next to the version it ran against.
 */
import { existsSync } from 'node:fs';
import { chromium, type Browser } from 'playwright-core';

export const CHROMIUM_PATH = '/usr/bin/chromium';

export const CHROMIUM_INSTALL = 'apt-get update && apt-get install -y --no-install-recommends chromium';

/**
 * Flags seen to work here as root (/work/shared/PEERS.md): no sandbox (root), no GPU, and no
 * background networking, which this machine's closed network would refuse, slowly.
 */
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

const LAUNCH_TIMEOUT_MS = 60_000; // a cold start on a busy 2-core machine takes seconds

export interface LaunchedBrowser {
  browser: Browser;
  /** e.g. "156.0.8078.129" */
  version: string;
  /** Closes the browser and removes its profile folder. Safe to call twice. */
  close(): Promise<void>;
}

/** Whether the browser tests can run here; prints the `[skip] ` line when they cannot. */
export function browserAvailable(what = 'browser tests'): boolean {
  if (existsSync(CHROMIUM_PATH)) return true;
  process.stdout.write(`[skip] ${what}: ${CHROMIUM_PATH} is missing; install it with: ${CHROMIUM_INSTALL}\n`);
  return false;
}

/**
 * Launches Chromium with a new, empty profile, or returns null after printing a
 * `[skip] ` line when /usr/bin/chromium is missing. `what` names the tests in that line.
 */
export async function launchBrowser(what = 'browser tests'): Promise<LaunchedBrowser | null> {
  if (!browserAvailable(what)) return null;
  let browser: Browser;
  try {
    browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS, timeout: LAUNCH_TIMEOUT_MS });
  } catch (err) {
    throw new Error(`Chromium (${CHROMIUM_PATH}) did not start: ${err instanceof Error ? err.message : String(err)}`);
  }
  const version = browser.version();
  process.stdout.write(`[browser] chromium ${version} (${CHROMIUM_PATH}) via playwright-core\n`);
  let closed = false;
  return {
    browser,
    version,
    async close() {
      if (closed) return;
      closed = true;
      await browser.close();
    },
  };
}
