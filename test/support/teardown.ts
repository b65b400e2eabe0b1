/**
 * Sure teardown for tests: everything a test opens (sockets, hubs, hub processes, temp dirs)
 * registers how to undo itself here, and `test.after.each(() => perTest.run())` undoes it,
 * newest first, whether the test passed or not. A failing cleanup is reported, never thrown,
 * so one broken hub cannot stop the rest of the file from running or the process from exiting.
 */

/** May return a promise, which is awaited. */
type Cleanup = () => unknown;

const CLEANUP_TIMEOUT_MS = 20_000;

export class Teardown {
  private readonly cleanups: { label: string; fn: Cleanup }[] = [];

  add(label: string, fn: Cleanup): void {
    this.cleanups.push({ label, fn });
  }

  /** Runs every registered cleanup, newest first (sockets before hubs before directories). */
  async run(): Promise<void> {
    for (let c = this.cleanups.pop(); c !== undefined; c = this.cleanups.pop()) {
      let timer: NodeJS.Timeout | undefined;
      try {
        await Promise.race([
          Promise.resolve().then(c.fn),
          new Promise((_, reject) => {
            timer = setTimeout(() => reject(new Error(`did not finish within ${CLEANUP_TIMEOUT_MS} ms`)), CLEANUP_TIMEOUT_MS);
          }),
        ]);
      } catch (err) {
        process.stderr.write(`[teardown] ${c.label}: ${err instanceof Error ? err.message : String(err)}\n`);
      } finally {
        clearTimeout(timer);
      }
    }
  }
}

/** What one test opened; run by `test.after.each`. */
export const perTest = new Teardown();

/**
 * For a file's `test.after`: once the tests are done, the process should exit by itself. If a
 * hub under test leaves a socket or timer behind, say so on stderr and exit anyway (keeping
 * uvu's exit code) rather than hang until the runner's 4-minute kill.
 */
export function exitWhenDone(graceMs = 5_000): void {
  const timer = setTimeout(() => {
    const open = process.getActiveResourcesInfo().filter((r) => r !== 'TTYWrap' && r !== 'Timeout');
    process.stderr.write(`[teardown] still open ${graceMs} ms after the last test: ${open.join(', ') || 'unknown'}; exiting\n`);
    process.exit();
  }, graceMs);
  timer.unref();
}
