// `npm start` runs the compiled hub (.build/server/hub.js), not TypeScript through tsx, and
// rebuilds it first when it is older than its sources (scripts/build-server.ts --if-stale).
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { waitFor } from '../support/api-client.ts';
import { REPO_ROOT, tempDataDir, withTimeout } from '../support/hub-process.ts';
import { exitWhenDone, perTest } from '../support/teardown.ts';
import { testTimeout } from '../support/test-timeouts.ts';

// A build (about 1 s alone, 5 s on a busy 2-core machine) and a hub start.
testTimeout(120_000);
test.after.each(() => perTest.run());
test.after(() => exitWhenDone());

/** The command lines of the processes whose parent is `pid`. */
function childCommands(pid: number): string[] {
  const out: string[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      // the fourth field of stat is the parent; the name before it may hold spaces, in parentheses
      const ppid = Number(readFileSync(`/proc/${name}/stat`, 'utf8').split(') ')[1]?.split(' ')[1]);
      if (ppid === pid) out.push(readFileSync(`/proc/${name}/cmdline`, 'utf8').split('\0').join(' ').trim());
    } catch {
      /* gone meanwhile */
    }
  }
  return out;
}

test('npm start rebuilds a stale server build, then runs node .build/server/hub.js, which serves and stops cleanly', async () => {
  const dir = (await tempDataDir()).path;
  // Older than every source: the next start must rebuild.
  utimesSync(join(REPO_ROOT, '.build', 'server', 'hub.js'), 1, 1);
  const npm = spawn(
    'npm',
    ['start', '--', '--host', '127.0.0.1', '--tcp-port', '0', '--http-port', '0', '--data', dir, '--log-file', 'none'],
    {
      cwd: REPO_ROOT,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let out = '';
  let err = '';
  npm.stdout.on('data', (d: Buffer) => (out += d.toString()));
  npm.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<void>((resolve) => npm.on('close', () => resolve()));
  let closed = false;
  void exited.then(() => (closed = true));
  perTest.add(`npm start ${npm.pid}`, async () => {
    if (!closed) process.kill(-npm.pid!, 'SIGKILL');
    await exited;
  });

  const line = await waitFor('"hub listening"', () => out.split('\n').find((l) => l.includes('"msg":"hub listening"')), 90_000).catch(
    (e: Error) => {
      throw new Error(`${e.message}\nstdout: ${out.slice(-2000)}\nstderr: ${err.slice(-2000)}`);
    },
  );
  assert.match(err, /server built in \d+ ms/, 'the stale build was made again');
  const { httpPort } = JSON.parse(line) as { httpPort: number };
  assert.is((await fetch(`http://127.0.0.1:${httpPort}/api/v1/health`)).status, 200);

  // npm's child is the start script's shell, which exec'd node on the build.
  const hub = childCommands(npm.pid!).find((c) => c.includes('hub'));
  assert.ok(hub?.includes('node .build/server/hub.js'), `the hub runs the build: ${hub}`);
  assert.not.ok(hub?.includes('tsx'), `no tsx: ${hub}`);

  process.kill(-npm.pid!, 'SIGINT');
  await withTimeout(exited, 30_000, 'npm start after Ctrl-C');
  assert.match(out, /"msg":"hub stopped"/);
});

test.run();
