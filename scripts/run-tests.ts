/**
 * The test command (`npm test`): runs every `*.test.ts` file as its own process (uvu through
 * tsx), two at a time, prints each file's output as a block, and ends with the line
 * `N passed, M failed` (`, K skipped` when some were). A file that crashes or times out counts
 * as one failure. A test that needs a peer that is not installed prints a line starting
 * `[skip] ` with the command that installs it, and counts as skipped; with
 * ROOMWATCH_NO_SKIPS=1 (as .ci/run sets) a skip fails the run.
 *
 * Each test has a budget (test/support/test-timeouts.ts: 60 s, or ROOMWATCH_TEST_TIMEOUT_MS):
 * past it the test fails with its name and the file goes on. A file still running after
 * ROOMWATCH_TEST_FILE_TIMEOUT_MS (240 s) is killed, and the runner names the test or hook it
 * was in. ROOMWATCH_TEST_SLOWEST=N lists the N slowest tests at the end.
 *
 *   npm test                     # everything
 *   npm test -- hub/line         # only files whose path contains "hub/line"
 */
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { cpus } from 'node:os';
import { REPO_ROOT as root, runTestFile, type FileResult } from './run-test-file.ts';

const roots = ['protocol', 'hub', 'sensors', 'dashboard-cli', 'scripts', 'test'];
const fileTimeoutMs = Number(process.env.ROOMWATCH_TEST_FILE_TIMEOUT_MS ?? 240_000);
const slowestCount = Number(process.env.ROOMWATCH_TEST_SLOWEST ?? 0);
const filters = process.argv.slice(2);

function findTests(dir: string): string[] {
  let out: string[] = [];
  let entries: string[];
  try {
    entries = readdirSync(dir);
  } catch {
    return out;
  }
  for (const name of entries) {
    if (name === 'node_modules') continue;
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out = out.concat(findTests(path));
    else if (name.endsWith('.test.ts')) out.push(path);
  }
  return out;
}

const files = roots
  .flatMap((r) => findTests(join(root, r)))
  .map((f) => relative(root, f))
  .filter((f) => filters.length === 0 || filters.some((p) => f.includes(p)))
  .sort();

function printSlowest(results: FileResult[], count: number): void {
  const all = results.flatMap((r) => r.durations.map((d) => ({ ...d, file: r.file })));
  all.sort((a, b) => b.ms - a.ms);
  process.stdout.write(`slowest ${Math.min(count, all.length)} tests and hooks:\n`);
  for (const d of all.slice(0, count)) process.stdout.write(`  ${(d.ms / 1000).toFixed(1).padStart(6)} s  ${d.file}: ${d.what}\n`);
}

async function main(): Promise<void> {
  const queue = [...files];
  const results: FileResult[] = [];
  const workers = Math.max(1, Math.min(Number(process.env.ROOMWATCH_TEST_JOBS ?? 2), cpus().length));
  await Promise.all(
    Array.from({ length: workers }, async () => {
      for (let file = queue.shift(); file !== undefined; file = queue.shift()) {
        const r = await runTestFile(file, { fileTimeoutMs });
        results.push(r);
        const mark = r.failed === 0 ? 'ok  ' : 'FAIL';
        const skips = r.skipped > 0 ? `, ${r.skipped} skipped` : '';
        process.stdout.write(`${mark} ${r.file} (${r.passed} passed, ${r.failed} failed${skips}, ${(r.ms / 1000).toFixed(1)} s)\n`);
        if (r.failed > 0) process.stdout.write(r.output.replace(/^/gm, '     | ') + '\n');
        else for (const m of r.output.matchAll(/^\[skip\] .*$/gm)) process.stdout.write(`     ${m[0]}\n`);
      }
    }),
  );
  const passed = results.reduce((s, r) => s + r.passed, 0);
  const failed = results.reduce((s, r) => s + r.failed, 0);
  const skipped = results.reduce((s, r) => s + r.skipped, 0);
  if (slowestCount > 0) printSlowest(results, slowestCount);
  if (files.length === 0) process.stdout.write('no test files matched\n');
  process.stdout.write(`${passed} passed, ${failed} failed${skipped > 0 ? `, ${skipped} skipped` : ''}\n`);
  // CI installs every peer: a skipped test there is a missing install step, not a pass.
  if (skipped > 0 && process.env.ROOMWATCH_NO_SKIPS === '1') {
    process.stdout.write('ROOMWATCH_NO_SKIPS=1: tests were skipped; install what they name\n');
    process.exitCode = 1;
    return;
  }
  process.exitCode = failed > 0 || files.length === 0 ? 1 : 0;
}

await main();
