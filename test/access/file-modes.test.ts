// docs/ADMIN.md "The data folder": what the hub keeps there (the database and its WAL, logs,
// upload spools, DuckDB's temp files) is for the hub's user alone: folders 0700, files 0600,
// with the hub started as a process (umask 077) or in-process, and on a folder an older hub
// left readable; a folder the hub cannot write stops it at start with a message that says why.
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, lstatSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { upload, waitFor } from '../support/api-client.ts';
import { REPO_ROOT, startHub, startHubProcess, tempDataDir, withTimeout } from '../support/hub-process.ts';
import { connect } from '../support/tcp-sensor.ts';
import { exitWhenDone, perTest } from '../support/teardown.ts';
import { tsSequence } from '../support/wire.ts';
import { buildHub } from '../../hub/hub.ts';
import { openHubLog } from '../../hub/setup/log.ts';

test.after.each(() => perTest.run());
test.after(() => exitWhenDone());

const nextTs = tsSequence();

/** `mode path` of every folder and file under `dir` (itself included) that is not 0700 or 0600. */
function loose(dir: string): string[] {
  const out: string[] = [];
  const walk = (path: string): void => {
    const info = lstatSync(path);
    const mode = info.mode & 0o777;
    if (info.isDirectory()) {
      if (mode !== 0o700) out.push(`${mode.toString(8)} ${path}/`);
      for (const name of readdirSync(path)) walk(join(path, name));
    } else if (mode !== 0o600) out.push(`${mode.toString(8)} ${path}`);
  };
  walk(dir);
  return out;
}

function everything(dir: string): string[] {
  const out: string[] = [];
  const walk = (path: string): void => {
    out.push(path.slice(dir.length) || '/');
    if (lstatSync(path).isDirectory()) for (const name of readdirSync(path)) walk(join(path, name));
  };
  walk(dir);
  return out;
}

/** An upload whose body is still arriving: its spool file exists until `finish()`. */
function openUpload(port: number, head: string): { finish(): Promise<number> } {
  let answered!: (status: number) => void;
  const status = new Promise<number>((resolve) => (answered = resolve));
  const req = http.request(
    { host: '127.0.0.1', port, method: 'POST', path: '/api/v1/readings', agent: false, headers: { 'content-type': 'text/csv' } },
    (res) => {
      res.resume();
      res.on('end', () => answered(res.statusCode ?? 0));
    },
  );
  req.on('error', () => answered(0));
  req.write(head);
  perTest.add('open upload', () => req.destroy());
  return {
    finish: () => {
      req.end();
      return status;
    },
  };
}

test('a hub process keeps its data folder private: every folder 0700 and every file 0600, with readings, an upload and logs', async () => {
  // ADMIN.md "The data folder": umask 077, like PostgreSQL; the folder is made by the hub here
  const root = await tempDataDir();
  const dataDir = join(root.path, 'data');
  const hub = await startHubProcess({ dataDir });
  const s = await connect(hub.tcpPort);
  await s.hello('modes-1', 'lab');
  for (let seq = 1; seq <= 20; seq++) await s.send({ type: 'reading', metric: 'temperature', value: seq, ts: nextTs(), seq });
  await s.ackCovering(20);
  const pending = openUpload(hub.httpPort, `ts,sensor,room,metric,value,unit\n${nextTs()},modes-up,lab,temperature,20.5,C\n`);
  const spooled = await waitFor('the upload’s spool file', () => {
    const files = everything(dataDir).filter((p) => p.includes('upload'));
    return files.some((p) => !lstatSync(join(dataDir, p)).isDirectory()) ? files : undefined;
  });
  assert.equal(loose(dataDir), [], `while an upload spools (${spooled.join(', ')})`);
  assert.is(await pending.finish(), 200, 'the upload is stored');
  assert.is((await upload(hub.httpPort, `ts,sensor,room,metric,value,unit\n${nextTs()},modes-up,lab,humidity,40,%\n`)).status, 200);
  const files = everything(dataDir);
  for (const expected of ['/roomwatch.duckdb', '/logs']) assert.ok(files.includes(expected), `${expected} in ${files.join(', ')}`);
  assert.ok(
    files.some((f) => f.startsWith('/logs/') && f.endsWith('.log')),
    `a log file: ${files.join(', ')}`,
  );
  assert.equal(loose(dataDir), [], 'while the hub runs');
  await s.close();
  hub.kill('SIGTERM');
  assert.is((await hub.exited).code, 0);
  assert.equal(loose(dataDir), [], 'after it stopped');
});

test('an in-process hub makes a folder an older hub left readable private, and leaves what is not the hub’s alone', async () => {
  // ADMIN.md "The data folder": at start the folder, the database files, logs/ and tmp/ lose group and other bits
  const { path: dataDir } = await tempDataDir();
  const first = await startHub({ dataDir });
  await first.stop();
  mkdirSync(join(dataDir, 'logs', 'old'), { recursive: true });
  writeFileSync(join(dataDir, 'logs', 'old', 'roomwatch.2020-01-01.1.log'), '{}\n');
  writeFileSync(join(dataDir, 'notes.txt'), 'the operator’s own file\n');
  for (const p of everything(dataDir)) chmodSync(join(dataDir, p), lstatSync(join(dataDir, p)).isDirectory() ? 0o755 : 0o644);
  const second = await startHub({ dataDir });
  assert.equal(
    loose(dataDir),
    [`644 ${join(dataDir, 'notes.txt')}`],
    'everything the hub keeps is private; the operator’s file is left alone (the folder guards it)',
  );
  await second.stop();
});

test('a log file the hub creates is 0600 even without the process umask', () => {
  // ADMIN.md "The data folder": logs are for the hub's user alone
  return (async () => {
    const { path: dir } = await tempDataDir();
    const file = join(dir, 'logs', 'roomwatch.log');
    const log = openHubLog({ level: 'error', file, pretty: false });
    await waitFor('the log file', () => readdirSync(join(dir, 'logs')).length > 0);
    await log.close();
    assert.equal(loose(dir), []);
  })();
});

// ---------------------------------------------------------------- a folder the hub cannot write

/** A read-only tmpfs, or null where this machine cannot mount one (not root, no CAP_SYS_ADMIN). */
async function readOnlyFolder(): Promise<string | null> {
  const { path } = await tempDataDir();
  const mounted = spawnSync('mount', ['-t', 'tmpfs', '-o', 'ro,size=1m', 'tmpfs', path], { encoding: 'utf8' });
  if (mounted.status !== 0) return null;
  perTest.add(`unmount ${path}`, () => spawnSync('umount', [path]));
  return path;
}

function skip(why: string): void {
  process.stdout.write(`[skip] ${why}\n`);
}

test('a read-only data folder stops an in-process hub at start: the folder, "read-only", and what to do', async () => {
  // ADMIN.md "The data folder": a folder the hub cannot write is refused at start, not met as ENOENT later
  const ro = await readOnlyFolder();
  if (!ro) return skip('cannot mount a read-only tmpfs here (needs root): the read-only data folder is not tested');
  for (const dataDir of [ro, join(ro, 'data')]) {
    const hub = buildHub({ host: '127.0.0.1', tcpPort: 0, httpPort: 0, logLevel: 'silent', dataDir });
    const err = await hub.start().then(
      () => null,
      (e: Error) => e,
    );
    if (!err) await hub.stop();
    assert.ok(err, `start() on ${dataDir} fails`);
    assert.match(err.message, dataDir);
    assert.match(err.message, /read-only file system/);
    assert.match(err.message, /--data/);
    assert.not.match(err.message, /ENOENT/);
  }
});

test('a read-only data folder stops the hub process with exit 1 and the reason, not ENOENT', async () => {
  const ro = await readOnlyFolder();
  if (!ro) return skip('cannot mount a read-only tmpfs here (needs root): the read-only data folder is not tested');
  const out = await runHub(['--data', ro]);
  assert.is(out.code, 1, out.stderr);
  assert.match(out.stderr, `${ro} is on a read-only file system`);
  assert.not.match(out.stderr, /ENOENT|usage:/);
});

test('a data folder the hub’s user may not write stops the hub process with exit 1 and says so', async () => {
  // root may write in any folder, whatever its mode: the hub runs as nobody here
  const nobody = spawnSync('id', ['-u', 'nobody'], { encoding: 'utf8' });
  if (process.getuid?.() !== 0 || nobody.status !== 0) return skip('not root, or no user nobody: the unwritable data folder is not tested');
  const { path } = await tempDataDir();
  chmodSync(path, 0o755); // root's, readable by all, writable by root alone
  const uid = Number(nobody.stdout.trim());
  const out = await runHub(['--data', path, '--log-file', 'none'], uid);
  if (/EACCES.*(tsx|node_modules)|Cannot find module/.test(out.stderr)) return skip(`nobody cannot run the hub from ${REPO_ROOT}`);
  assert.is(out.code, 1, out.stderr);
  assert.match(out.stderr, `may not write in ${path}`);
  assert.match(out.stderr, /--data/);
});

async function runHub(args: string[], uid?: number): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'hub/main.ts', '--tcp-port', '0', '--http-port', '0', ...args], {
    cwd: REPO_ROOT,
    env: { ...process.env, NO_COLOR: '1', HOME: '/tmp' },
    stdio: ['ignore', 'pipe', 'pipe'],
    ...(uid === undefined ? {} : { uid, gid: uid }),
  });
  perTest.add('hub process', () => child.kill('SIGKILL'));
  let stderr = '';
  child.stdout.resume();
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const code = await withTimeout(new Promise<number | null>((resolve) => child.on('close', resolve)), 30_000, 'the hub process');
  return { code, stderr };
}

test.run();
