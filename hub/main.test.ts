// The hub process (hub/main.ts) as people start it: a second hub on a data folder that a running hub
// holds says so, and what to do, and exits 1 without a stack trace; the first one is untouched.
import { spawn } from 'node:child_process';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { request, waitFor } from '../test/support/api-client.ts';
import { REPO_ROOT, startHubProcess, tempDataDir, withTimeout } from '../test/support/hub-process.ts';
import { exitWhenDone, perTest } from '../test/support/teardown.ts';

test.after.each(() => perTest.run());
test.after(() => exitWhenDone());

const EXIT_WAIT_MS = 30_000;

/** `node --import tsx hub/main.ts ARGS` to its end: exit code and everything it printed. */
function runHub(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'hub/main.ts', ...args], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) =>
    child.on('close', (code) => resolve({ code, stdout, stderr })),
  );
  perTest.add(`hub process ${child.pid}`, async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await done;
  });
  return withTimeout(done, EXIT_WAIT_MS, 'the second hub');
}

test('a second hub on a data folder in use exits 1: another hub holds it, stop it or use --data; no stack trace', async () => {
  const dir = (await tempDataDir()).path;
  const first = await startHubProcess({ dataDir: dir, args: ['--log-file', 'none'] });
  const second = await runHub(['--host', '127.0.0.1', '--tcp-port', '0', '--http-port', '0', '--data', dir, '--log-file', 'none']);
  assert.is(second.code, 1, second.stderr);
  assert.match(second.stderr, `roomwatch hub: could not start: the data folder ${dir} is in use by process ${first.pid} (`);
  assert.match(second.stderr, 'most likely another hub: stop that hub first, or start this one on a folder of its own with --data DIR');
  const output = second.stdout + second.stderr;
  assert.not.match(output, /\n\s+at /, 'no stack trace');
  assert.not.match(output, 'Conflicting lock', "DuckDB's own words are replaced");
  const health = await request(first.httpPort, '/api/v1/health');
  assert.is(health.status, 200, 'the first hub is still running');
});

test('SIGINT (Ctrl-C) stops the hub process cleanly: it logs "hub stopped" and exits 0', async () => {
  const hub = await startHubProcess({ dataDir: (await tempDataDir()).path, args: ['--log-file', 'none'] });
  hub.kill('SIGINT');
  assert.equal(await withTimeout(hub.exited, EXIT_WAIT_MS, 'the hub after SIGINT'), { code: 0, signal: null });
  assert.match(hub.output(), '"msg":"hub stopped"');
});

test('Ctrl-C under npm start stops the hub cleanly and npm exits 0 (README "Hub")', async () => {
  const dir = (await tempDataDir()).path;
  // Its own process group, as a terminal's foreground job: Ctrl-C signals every process in it.
  const npm = spawn('npm', ['start', '--', '--tcp-port', '0', '--http-port', '0', '--data', dir, '--log-file', 'none'], {
    cwd: REPO_ROOT,
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  npm.stdout.on('data', (d: Buffer) => (output += d.toString()));
  npm.stderr.on('data', (d: Buffer) => (output += d.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    npm.on('close', (code, signal) => resolve({ code, signal })),
  );
  let closed = false;
  void exited.then(() => (closed = true));
  perTest.add(`npm start ${npm.pid}`, async () => {
    // Until every process of the group has let go of the pipes (the hub outlives npm here).
    if (!closed) process.kill(-npm.pid!, 'SIGKILL');
    await exited;
  });
  await waitFor('"hub listening"', () => output.includes('"msg":"hub listening"'), EXIT_WAIT_MS);
  process.kill(-npm.pid!, 'SIGINT');
  const npmExit = await withTimeout(exited, EXIT_WAIT_MS, 'npm start after Ctrl-C');
  // The start script execs node: no shell is left for the Ctrl-C to kill (dash would die of it,
  // and npm would then end by SIGINT, 130 in a shell), so npm passes on the hub's own 0.
  assert.equal(npmExit, { code: 0, signal: null }, `npm: ${JSON.stringify(npmExit)}\n${output}`);
  await waitFor("the hub's own clean stop", () => output.includes('"msg":"hub stopped"'), EXIT_WAIT_MS).catch((e: Error) => {
    throw new Error(`${e.message}\n${output}`);
  });
});

test.run();
