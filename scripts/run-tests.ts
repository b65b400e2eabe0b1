/**
 * The test command (`npm test`): runs every `*.test.ts` file as its own process (uvu through
 * tsx), two at a time, prints each file's output as a block, and ends with the line
 * `N passed, M failed` (`, K skipped` when some were). A file that crashes or times out counts
 * as one failure. A test that needs a peer that is not installed prints a line starting
 * `[skip] ` with the command that installs it, and counts as skipped; with
 * ROOMWATCH_NO_SKIPS=1 (as .ci/run sets) a skip fails the run.
 *
 *   npm test                     # everything
 *   npm test -- hub/line         # only files whose path contains "hub/line"
 */
import { spawn } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { cpus } from 'node:os';

const root = join(import.meta.dirname, '..');
const roots = ['protocol', 'hub', 'sensors', 'dashboard-cli', 'scripts', 'test'];
const fileTimeoutMs = Number(process.env.ROOMWATCH_TEST_FILE_TIMEOUT_MS ?? 240_000);
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

interface FileResult {
  file: string;
  passed: number;
  failed: number;
  skipped: number;
  output: string;
  ms: number;
}

// eslint-disable-next-line no-control-regex
const ansi = /\x1b\[[0-9;]*m/g;

function runFile(file: string): Promise<FileResult> {
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', file], {
      cwd: root,
      env: { ...process.env, FORCE_COLOR: '0', NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    const timer = setTimeout(() => {
      output += `\n[run-tests] ${file} did not finish within ${fileTimeoutMs} ms; killed\n`;
      child.kill('SIGKILL');
    }, fileTimeoutMs);
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
      resolve({ file, passed, failed, skipped, output: text, ms: Date.now() - started });
    });
  });
}

async function main(): Promise<void> {
  const queue = [...files];
  const results: FileResult[] = [];
  const workers = Math.max(1, Math.min(Number(process.env.ROOMWATCH_TEST_JOBS ?? 2), cpus().length));
  await Promise.all(
    Array.from({ length: workers }, async () => {
      for (let file = queue.shift(); file !== undefined; file = queue.shift()) {
        const r = await runFile(file);
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
