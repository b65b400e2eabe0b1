/**
 * uvu with a time budget per test. `npm test` loads test-timeouts-register.ts before each test
 * file, and from then on `import { test } from 'uvu'` in any file gets this module: the same
 * API, but a test (or hook) that has not finished after its budget fails with its name, and the
 * file goes on with the next test. Without it a hung test stalled its whole file until the
 * runner killed it, with no name.
 *
 * The budget is 60 s, or ROOMWATCH_TEST_TIMEOUT_MS; a file whose tests need more calls
 * `testTimeout(ms)` before registering them. When the runner gives a pipe in
 * ROOMWATCH_TEST_EVENTS_FD, each test's start and end are written to it, one JSON line each, so
 * the runner can name the test that was running if it has to kill the file.
 */
import { writeSync } from 'node:fs';
import * as uvu from 'uvu';
import type { Callback, Test } from 'uvu';

const DEFAULT_TIMEOUT_MS = 60_000;
/** After a timeout, how long uvu may take to print its report before a process held open by the hung test is ended. */
const EXIT_GRACE_MS = 1_000;

let budgetMs = readBudget(process.env.ROOMWATCH_TEST_TIMEOUT_MS);
let timedOut = false;

const eventsFd = readEventsFd(process.env.ROOMWATCH_TEST_EVENTS_FD);
// The processes tests start must not write into the runner's pipe: they do not own it.
delete process.env.ROOMWATCH_TEST_EVENTS_FD;

function readBudget(text: string | undefined): number {
  if (text === undefined || text === '') return DEFAULT_TIMEOUT_MS;
  const ms = Number(text);
  if (!Number.isInteger(ms) || ms <= 0)
    throw new RangeError(`ROOMWATCH_TEST_TIMEOUT_MS must be a whole number of ms above 0, got "${text}"`);
  return ms;
}

function readEventsFd(text: string | undefined): number | undefined {
  const fd = Number(text);
  return text !== undefined && Number.isInteger(fd) && fd > 2 ? fd : undefined;
}

/** Sets the budget of the tests and hooks this file registers from now on. */
export function testTimeout(ms: number): void {
  if (!Number.isInteger(ms) || ms <= 0) throw new RangeError(`testTimeout needs a whole number of ms above 0, got ${ms}`);
  budgetMs = ms;
}

/** What the runner reads from ROOMWATCH_TEST_EVENTS_FD: one JSON object per line. */
export type TestEvent = {
  /** `test "name"`, or `after hook of "suite"` and the like. */
  what: string;
  /** Wall clock, ms. */
  at: number;
} & ({ event: 'start' } | { event: 'end'; ok: boolean });

function report(event: TestEvent): void {
  if (eventsFd === undefined) return;
  try {
    writeSync(eventsFd, JSON.stringify(event) + '\n');
  } catch {
    // A runner that is gone cannot be told; the test itself must not fail for it.
  }
}

export class TestTimeoutError extends Error {
  constructor(what: string, ms: number) {
    super(
      `${what} did not finish within ${ms} ms: find what it waits for, or raise the budget ` +
        `(testTimeout(ms) in the file, or ROOMWATCH_TEST_TIMEOUT_MS for the run)`,
    );
    this.name = 'TestTimeoutError';
    // uvu prints a stack after the message; this one would only show the timer.
    this.stack = this.message;
  }
}

function guard<T>(what: string, fn: Callback<T>): Callback<T> {
  const ms = budgetMs;
  return async (context) => {
    report({ event: 'start', what, at: Date.now() });
    let timer: NodeJS.Timeout | undefined;
    let ok = false;
    try {
      await Promise.race([
        Promise.resolve().then(() => fn(context)),
        new Promise<never>((_, reject) => {
          // Not unref'd: a test awaiting a promise that nothing will settle must still fail by name,
          // not end the process with uvu's nameless "Exiting early".
          timer = setTimeout(() => {
            timedOut = true;
            reject(new TestTimeoutError(what, ms));
          }, ms);
        }),
      ]);
      ok = true;
    } finally {
      clearTimeout(timer);
      report({ event: 'end', what, at: Date.now(), ok });
    }
  };
}

function withTimeouts<T>(inner: Test<T>, suiteName: string): Test<T> {
  const of = suiteName === '' ? '' : ` of "${suiteName}"`;
  const hook = (name: string, add: (fn: Callback<T>) => void) => (fn: Callback<T>) => add(guard(`${name}${of}`, fn));
  const before = Object.assign(
    hook('before hook', (fn) => inner.before(fn)),
    { each: hook('before-each hook', (fn) => inner.before.each(fn)) },
  );
  const after = Object.assign(
    hook('after hook', (fn) => inner.after(fn)),
    { each: hook('after-each hook', (fn) => inner.after.each(fn)) },
  );
  const label = (name: string) => `test "${name}"${of}`;
  return Object.assign((name: string, fn: Callback<T>) => inner(name, guard(label(name), fn)), {
    only: (name: string, fn: Callback<T>) => inner.only(name, guard(label(name), fn)),
    skip: (name?: string, fn?: Callback<T>) => inner.skip(name, fn),
    before,
    after,
    run: () => {
      // Registered last, so it runs after the file's own after hooks.
      inner.after(() => {
        if (timedOut) exitSoon();
      });
      inner.run();
    },
  });
}

/**
 * A test that timed out may still hold sockets or timers that keep the process alive. Once
 * uvu has printed its report, end the process (keeping uvu's exit code) instead of leaving it
 * for the runner's kill.
 */
function exitSoon(): void {
  setTimeout(() => {
    process.stderr.write(`[test-timeouts] a test timed out and left the process busy; exiting\n`);
    process.exit(process.exitCode ?? 1);
  }, EXIT_GRACE_MS).unref();
}

export const test: Test = withTimeouts(uvu.test, '');

export function suite<T = Record<string, unknown>>(title = '', context?: T): Test<T> {
  return withTimeouts(uvu.suite(title, context), title);
}

export const exec = uvu.exec;
