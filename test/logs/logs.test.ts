// docs/ADMIN.md "Logs", with real hub processes (hub/main.ts): JSON lines to a file under <data>/logs/
// and to stdout when piped; --log-file none and --log-level warn; and no secret (a sensor
// hello's token, contract §1; a bearer token, §2; a password) in either, at info or at trace.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { request, waitFor } from '../support/api-client.ts';
import { tempDataDir, withTimeout } from '../support/hub-process.ts';
import { spawnNode, type NodeProcess } from '../support/node-process.ts';
import { connect } from '../support/tcp-sensor.ts';
import { exitWhenDone, perTest } from '../support/teardown.ts';

test.after.each(() => perTest.run());
test.after(() => exitWhenDone());

const SENSOR_TOKEN = 'tok-SECRET-123';
const BEARER = 'SECRET-XYZ';
const PASSWORD = 'SECRET-PW-789';
const START_MS = 30_000;
const STOP_MS = 20_000;

interface LogEntry {
  level: number;
  msg?: string;
  tcpPort?: number;
  httpPort?: number;
  [field: string]: unknown;
}

interface RunningHub {
  proc: NodeProcess;
  dataDir: string;
  tcpPort: number;
  httpPort: number;
}

function jsonLines(text: string): LogEntry[] {
  return text
    .split('\n')
    .filter((l) => l.trim() !== '')
    .map((l) => {
      try {
        return JSON.parse(l) as LogEntry;
      } catch {
        throw new Error(`not a JSON line: ${l}`);
      }
    });
}

/** Starts `hub/main.ts` on ports 0 with stdout piped, and waits for its "hub listening" line on stdout. */
async function startHubProcess(args: string[] = [], env: NodeJS.ProcessEnv = {}): Promise<RunningHub> {
  const { path: dataDir } = await tempDataDir();
  const proc = spawnNode(['hub/main.ts', '--host', '127.0.0.1', '--tcp-port', '0', '--http-port', '0', '--data', dataDir, ...args], {
    env,
  });
  const listening = await waitFor(
    '"hub listening" on stdout',
    () => {
      const complete = proc.stdout().slice(0, proc.stdout().lastIndexOf('\n') + 1);
      return jsonLines(complete).find((e) => e.msg === 'hub listening');
    },
    START_MS,
  ).catch((err: Error) => {
    throw new Error(`${err.message}\nstdout: ${proc.stdout()}\nstderr: ${proc.stderr()}`);
  });
  assert.type(listening.tcpPort, 'number');
  assert.type(listening.httpPort, 'number');
  return { proc, dataDir, tcpPort: listening.tcpPort!, httpPort: listening.httpPort! };
}

/** SIGTERM, then waits for exit 0 with stdout and stderr read to the end. */
async function stopHub(hub: RunningHub): Promise<void> {
  hub.proc.kill('SIGTERM');
  const { code, signal } = await withTimeout(hub.proc.exited, STOP_MS, 'the hub stopping on SIGTERM');
  assert.is(code, 0, `exit 0 after SIGTERM (signal ${signal}); stderr: ${hub.proc.stderr()}`);
}

function logFiles(dir: string): string[] {
  return existsSync(dir) ? readdirSync(dir).map((f) => join(dir, f)) : [];
}

function fileText(dir: string): string {
  return logFiles(dir)
    .map((f) => readFileSync(f, 'utf8'))
    .join('');
}

/** The bytes of every Buffer a log line holds (JSON `{"type":"Buffer","data":[...]}`), as text: a secret there is as leaked. */
function bufferTexts(value: unknown, out: string[] = []): string[] {
  if (Array.isArray(value)) for (const v of value) bufferTexts(v, out);
  else if (typeof value === 'object' && value !== null) {
    const o = value as { type?: unknown; data?: unknown };
    if (o.type === 'Buffer' && Array.isArray(o.data)) out.push(Buffer.from(o.data as number[]).toString('latin1'));
    else for (const v of Object.values(o)) bufferTexts(v, out);
  }
  return out;
}

/** Sends raw bytes over HTTP's port and waits for the hub to close or answer. */
function rawHttp(port: number, bytes: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    let answer = '';
    socket.setTimeout(10_000, () => socket.destroy(new Error('no answer to the raw request')));
    socket.on('data', (d: Buffer) => (answer += d.toString()));
    socket.on('error', (err: NodeJS.ErrnoException) => (err.code === 'ECONNRESET' ? resolve(answer) : reject(err)));
    socket.on('close', () => resolve(answer));
    socket.write(bytes);
  });
}

test('a hub process writes JSON lines to a file under <data>/logs, and stdout carries the "hub listening" JSON line when piped', async () => {
  const hub = await startHubProcess();
  const logs = join(hub.dataDir, 'logs');
  // the transport writes from its worker: wait for the line rather than sleep
  await waitFor('"hub listening" in the log file', () => jsonLines(fileText(logs)).some((e) => e.msg === 'hub listening'), 10_000);
  await stopHub(hub);

  const files = readdirSync(logs);
  assert.is(files.length, 1, files.join(', '));
  assert.match(files[0]!, /^roomwatch\.\d{4}-\d{2}-\d{2}\.1\.log$/, 'named by pino-roll: base, date, number, extension');
  const entries = jsonLines(fileText(logs));
  const listening = entries.find((e) => e.msg === 'hub listening')!;
  assert.equal([listening.tcpPort, listening.httpPort, listening.level], [hub.tcpPort, hub.httpPort, 30]);
  assert.is(entries[entries.length - 1]!.msg, 'hub stopped', 'the last line is written before the process exits');

  const stdout = jsonLines(hub.proc.stdout());
  assert.ok(stdout.some((e) => e.msg === 'hub listening' && e.tcpPort === hub.tcpPort && e.httpPort === hub.httpPort));
  assert.is(stdout[stdout.length - 1]!.msg, 'hub stopped');
});

for (const level of ['info', 'trace']) {
  test(`a token in a sensor hello, a bearer token and a password leave no trace in the log file or on stdout (--log-level ${level})`, async () => {
    const hub = await startHubProcess(['--log-level', level]);
    const auth = { authorization: `Bearer ${BEARER}` };

    // §1: a hello carrying a token, accepted or refused; a malformed hello quoting it; a wrong version
    const s = await connect(hub.tcpPort);
    await s.send({ type: 'hello', v: 1, sensor: 'log-probe', room: 'hall', token: SENSOR_TOKEN });
    await s.next((m) => m.type === 'welcome' || m.type === 'error');
    const bad = await connect(hub.tcpPort);
    await bad.sendRaw(`{"type":"hello","v":1,"sensor":"log-probe-2","token":"${SENSOR_TOKEN}",}\n`);
    await bad.next({ type: 'error' });
    const v2 = await connect(hub.tcpPort);
    await v2.send({ type: 'hello', v: 2, sensor: 'log-probe-3', token: SENSOR_TOKEN });
    await v2.next({ type: 'error' });

    // §2: a bearer token on a route, an unknown route and a bad filter; a login-like body; a token in a URL
    await request(hub.httpPort, '/api/v1/latest', { headers: auth });
    await request(hub.httpPort, '/api/v1/no-such-route', { headers: auth });
    await request(hub.httpPort, '/api/v1/latest?room=%25%25bad', { headers: auth });
    await request(hub.httpPort, '/api/v1/history.csv?from=yesterday-ish', { headers: auth });
    await request(hub.httpPort, `/api/v1/stream?token=${BEARER}`, { headers: auth });
    await request(hub.httpPort, '/api/v1/login', {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...auth },
      body: JSON.stringify({ user: 'sue', password: PASSWORD }),
    });
    // a request head the HTTP parser refuses: fastify logs its error at trace, raw bytes and all
    await rawHttp(hub.httpPort, `GET /api/v1/latest HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${BEARER}\r\nBad Header Line\r\n\r\n`);
    await s.sync();
    await stopHub(hub);
    const file = fileText(join(hub.dataDir, 'logs'));
    const text = file + hub.proc.stdout() + hub.proc.stderr();
    const everything = text + bufferTexts(jsonLines(file)).join('\n');
    assert.ok(file.includes('"msg":"hub stopped"'), 'the file was written to the end');
    for (const secret of [SENSOR_TOKEN, BEARER, PASSWORD]) {
      assert.not.ok(
        everything.includes(secret),
        `${secret} appears in the logs:\n${everything
          .split('\n')
          .filter((l) => l.includes(secret))
          .join('\n')}`,
      );
    }
    if (level === 'trace') {
      // the parse error was logged (so the path was taken), without the bytes of the request
      assert.ok(
        jsonLines(file).some((e) => e.msg === 'client error'),
        'trace logs the refused request head',
      );
    }
  });
}

test('with real users and tokens (--log-level trace): the passwords, the session token and the sensor token the hub issued leave no trace', async () => {
  const hub = await startHubProcess(['--log-level', 'trace']);
  const post = (path: string, body: unknown, token?: string) =>
    request(hub.httpPort, path, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify(body),
    });
  const imported = await post('/api/v1/users/import', { users: [{ user: 'sue', password: PASSWORD, role: 'admin', rooms: ['*'] }] });
  assert.is(imported.status, 200, imported.text);
  await post('/api/v1/login', { user: 'sue', password: `${PASSWORD}-wrong` });
  const login = await post('/api/v1/login', { user: 'sue', password: PASSWORD });
  assert.is(login.status, 200, login.text);
  const session = (JSON.parse(login.text) as { token: string }).token;
  const created = await post('/api/v1/tokens', { sensor: 'log-*', rooms: ['*'] }, session);
  assert.is(created.status, 201, created.text);
  const sensorToken = (JSON.parse(created.text) as { token: string }).token;
  const s = await connect(hub.tcpPort);
  await s.send({ type: 'hello', v: 1, sensor: 'log-probe', token: sensorToken });
  await s.next({ type: 'welcome' });
  const refused = await connect(hub.tcpPort);
  await refused.send({ type: 'hello', v: 1, sensor: 'other-probe', token: sensorToken });
  await refused.next({ type: 'error', code: 403 });
  await request(hub.httpPort, '/api/v1/latest', { headers: { authorization: `Bearer ${session}` } });
  await stopHub(hub);
  const file = fileText(join(hub.dataDir, 'logs'));
  const everything = file + hub.proc.stdout() + hub.proc.stderr() + bufferTexts(jsonLines(file)).join('\n');
  assert.ok(file.includes('"msg":"hub stopped"'), 'the file was written to the end');
  for (const secret of [PASSWORD, session, sensorToken]) {
    assert.not.ok(everything.includes(secret), `a secret appears in the logs: ${secret.slice(0, 6)}...`);
  }
});

test('--log-file none writes no log file, and stdout still has every line', async () => {
  const hub = await startHubProcess(['--log-file', 'none']);
  await stopHub(hub);
  assert.equal(logFiles(join(hub.dataDir, 'logs')), []);
  const msgs = jsonLines(hub.proc.stdout()).map((e) => e.msg);
  assert.ok(msgs.includes('hub listening') && msgs.includes('hub stopped'), msgs.join(', '));
});

test('ROOMWATCH_LOG_FILE puts the rotated file where it says', async () => {
  const { path: elsewhere } = await tempDataDir();
  const hub = await startHubProcess([], { ROOMWATCH_LOG_FILE: join(elsewhere, 'hub', 'rw.log') });
  await stopHub(hub);
  assert.equal(logFiles(join(hub.dataDir, 'logs')), []);
  const files = readdirSync(join(elsewhere, 'hub'));
  assert.is(files.length, 1);
  assert.match(files[0]!, /^rw\.\d{4}-\d{2}-\d{2}\.1\.log$/);
  assert.ok(jsonLines(fileText(join(elsewhere, 'hub'))).some((e) => e.msg === 'hub listening'));
});

test('--log-level warn keeps info lines out of the file and off stdout, but "hub listening" still reaches stdout', async () => {
  const hub = await startHubProcess(['--log-level', 'warn']);
  await request(hub.httpPort, '/api/v1/latest');
  await stopHub(hub);
  const fileEntries = jsonLines(fileText(join(hub.dataDir, 'logs')));
  assert.equal(
    fileEntries.filter((e) => e.level < 40),
    [],
    'nothing under warn in the file',
  );
  const stdout = jsonLines(hub.proc.stdout());
  assert.equal(
    stdout.filter((e) => e.level < 40).map((e) => e.msg),
    ['hub listening'],
    'on stdout the only line under warn is "hub listening"',
  );
});

test.run();
