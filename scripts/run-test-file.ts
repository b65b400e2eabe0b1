/**
 * One test file as its own process (uvu through tsx, each test with a time budget from
 * test/support/test-timeouts.ts), read to its outcome: counts from uvu's summary, each test's
 * duration from the events the budget module writes on fd 3, and, when the file has to be
 * killed, the name of the test or hook it was stuck in.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import type { TestEvent } from '../test/support/test-timeouts.ts';

export const REPO_ROOT = join(import.meta.dirname, '..');
/** The fd on which test-timeouts.ts tells the runner which test starts and ends. */
const EVENTS_FD = 3;

export interface FileResult {
  file: string;
  passed: number;
  failed: number;
  skipped: number;
  /** stdout and stderr as they came, without colours. */
  output: string;
  ms: number;
  /** Each finished test's and hook's duration. */
  durations: { what: string; ms: number }[];
}

export interface RunTestFileOptions {
  /** The whole file's budget: past it the process is killed (SIGKILL) and the running test named. */
  fileTimeoutMs: number;
  env?: NodeJS.ProcessEnv;
}

// eslint-disable-next-line no-control-regex
const ansi = /\x1b\[[0-9;]*m/g;

/** `file` is relative to the repository root. */
export function runTestFile(file: string, options: RunTestFileOptions): Promise<FileResult> {
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', '--import', './test/support/test-timeouts-register.ts', file], {
      cwd: REPO_ROOT,
      env: { ...(options.env ?? process.env), FORCE_COLOR: '0', NO_COLOR: '1', ROOMWATCH_TEST_EVENTS_FD: String(EVENTS_FD) },
      stdio: ['ignore', 'pipe', 'pipe', 'pipe'],
    });
    let output = '';
    // All three are pipes, as asked above.
    child.stdout!.on('data', (d: Buffer) => (output += d.toString()));
    child.stderr!.on('data', (d: Buffer) => (output += d.toString()));
    const events = watchEvents(child.stdio[EVENTS_FD] as Readable);
    const timer = setTimeout(() => {
      output += `\n[run-tests] ${file} did not finish within ${options.fileTimeoutMs} ms; killed ${events.describeRunning()}\n`;
      child.kill('SIGKILL');
    }, options.fileTimeoutMs);
    child.on('close', (code) => {
      clearTimeout(timer);
      const text = output.replace(ansi, '');
      let total = 0;
      let passed = 0;
      for (const m of text.matchAll(/Total:\s+(\d+)/g)) total += Number(m[1]);
      for (const m of text.matchAll(/Passed:\s+(\d+)/g)) passed += Number(m[1]);
      let skipped = 0;
      // uvu's own skips, and whole suites skipped because a peer is missing ("[skip] ... install with ...")
      for (const m of text.matchAll(/Skipped:\s+(\d+)/g)) skipped += Number(m[1]);
      for (const _ of text.matchAll(/^\[skip\] /gm)) skipped++;
      let failed = total - passed;
      if (code !== 0 && failed === 0) failed = 1; // crashed, timed out, or failed outside a test
      if (total === 0 && code === 0) failed = 1; // a test file that ran no test proves nothing
      // uvu prints its summary only at the end: a file that never got there counts the tests that finished well.
      if (total === 0) passed = events.passed();
      resolve({ file, passed, failed, skipped, output: text, ms: Date.now() - started, durations: events.durations });
    });
  });
}

/** Follows a file's test events: which tests are running now, and how long each one took. */
function watchEvents(pipe: Readable): { durations: FileResult['durations']; passed(): number; describeRunning(): string } {
  /** Start time by what is running: a hook and its test can overlap. */
  const running = new Map<string, number>();
  const durations: FileResult['durations'] = [];
  let passed = 0;
  let last: string | undefined;
  let buffered = '';
  pipe.setEncoding('utf8');
  pipe.on('data', (chunk: string) => {
    const lines = (buffered + chunk).split('\n');
    buffered = lines.pop() ?? '';
    for (const line of lines) {
      const e = JSON.parse(line) as TestEvent;
      if (e.event === 'start') {
        running.set(e.what, e.at);
        continue;
      }
      durations.push({ what: e.what, ms: e.at - (running.get(e.what) ?? e.at) });
      running.delete(e.what);
      last = e.what;
      if (e.event === 'end' && e.ok && e.what.startsWith('test ')) passed++;
    }
  });
  return {
    durations,
    passed: () => passed,
    describeRunning() {
      if (running.size > 0) {
        const now = Date.now();
        return 'while running ' + [...running].map(([what, at]) => `${what} (for ${((now - at) / 1000).toFixed(0)} s)`).join(', ');
      }
      return last === undefined
        ? 'before its first test began'
        : `after ${last} ended, outside any test (an after hook, or a handle left open)`;
    },
  };
}
