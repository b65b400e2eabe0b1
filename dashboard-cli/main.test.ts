// The CLI as users run it (PROTOCOL.md §3), as a child process against a small HTTP server that
// answers as §2 says. Each test waits for the process to exit; none sleeps. Usage errors and help
// need no process: they run the CLI in this one (runCliInProcess), which gives them the same
// exit code, stdout and stderr; the tests that do spawn it prove main.ts passes those on.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Reading } from './api-types.ts';
import { closedPort, startFakeHub } from './testing/fake-hub.ts';
import type { FakeHub } from './testing/fake-hub.ts';
import { runCliInProcess } from './testing/run-cli-in-process.ts';
import { runCliProcess } from './testing/run-cli-process.ts';

const nowMs = Date.now();
const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;
// Ages of days, so the seconds a slow machine takes cannot change how they print.
const readings: Reading[] = [
  { sensor: 'a-temp', room: 'kitchen', metric: 'temperature', value: 21.5, unit: 'C', ts: nowMs - (1 * DAY_MS + 2 * HOUR_MS + 60_000) },
  { sensor: 'b-multi', room: 'hall', metric: 'cpu_load', value: 7, unit: '%', ts: nowMs - (2 * DAY_MS + 4 * HOUR_MS + 60_000) },
  { sensor: 'b-multi', room: 'hall', metric: 'humidity', value: 40.25, unit: '%', ts: nowMs - (3 * DAY_MS + 60_000) },
  { sensor: 'c-rack', room: 'hall', metric: 'temperature', value: -1.5, unit: 'C', ts: nowMs - (5 * DAY_MS + 60_000) },
];
const sensors = [
  { sensor: 'a-temp', room: 'kitchen', connected: true, last_seen: nowMs - DAY_MS - 60_000, metrics: ['temperature'] },
  { sensor: 'b-multi', room: 'hall', connected: false, last_seen: nowMs - 2 * DAY_MS - 60_000, metrics: ['cpu_load', 'humidity'] },
];

let hub: FakeHub;

test.before(async () => {
  hub = await startFakeHub({ latest: { readings }, sensors: { sensors } });
});

test.before.each(() => {
  hub.requests.length = 0;
});

test.after(async () => {
  await hub.close();
});

function rows(stdout: string): string[][] {
  return stdout
    .trimEnd()
    .split('\n')
    .map((line) => line.trim().split(/\s+/));
}

test('latest exits 0 with a table sorted by room, then sensor, then metric [§3]', async () => {
  const result = await runCliProcess(['latest', '--hub', hub.url]);
  assert.is(result.code, 0, result.stderr);
  assert.is(result.stderr, '');
  assert.equal(rows(result.stdout), [
    ['room', 'sensor', 'metric', 'value', 'unit', 'age'],
    ['hall', 'b-multi', 'cpu_load', '7', '%', '2d4h'],
    ['hall', 'b-multi', 'humidity', '40.25', '%', '3d0h'],
    ['hall', 'c-rack', 'temperature', '-1.5', 'C', '5d0h'],
    ['kitchen', 'a-temp', 'temperature', '21.5', 'C', '1d2h'],
  ]);
  const lines = result.stdout.split('\n');
  const valueEnd = (lines[0] ?? '').indexOf('value') + 'value'.length;
  for (const line of lines.slice(1, 5)) assert.is(line.slice(0, valueEnd).trimEnd().length, valueEnd, `right-aligned: ${line}`);
});

test("latest --json prints the hub's body unchanged, on one line", async () => {
  const result = await runCliProcess(['latest', '--json', '--hub', hub.url]);
  assert.is(result.code, 0, result.stderr);
  assert.is(result.stdout, JSON.stringify({ readings }) + '\n');
  assert.equal(JSON.parse(result.stdout), { readings });
});

test('filters are sent as query parameters, lists comma-joined and repeated flags combined [§2 Filters]', async () => {
  const result = await runCliProcess([
    'latest',
    '--hub',
    hub.url,
    '--sensor',
    'b-multi,c-rack',
    '--sensor',
    'a-temp',
    '--room',
    'hall',
    '--metric=temperature',
  ]);
  assert.is(result.code, 0, result.stderr);
  assert.is(hub.requests.length, 1);
  const url = new URL(hub.requests[0]?.url ?? '', hub.url);
  assert.is(url.pathname, '/api/v1/latest');
  assert.is(url.searchParams.get('sensor'), 'b-multi,c-rack,a-temp');
  assert.is(url.searchParams.get('room'), 'hall');
  assert.is(url.searchParams.get('metric'), 'temperature');
  assert.equal(rows(result.stdout).slice(1), [['hall', 'c-rack', 'temperature', '-1.5', 'C', '5d0h']]);
});

test('global options work before the command as well as after it [§3]', async () => {
  const before = await runCliProcess(['--hub', hub.url, '--json', '--room', 'kitchen', 'latest']);
  const after = await runCliProcess(['latest', '--room', 'kitchen', '--json', '--hub', hub.url]);
  assert.is(before.code, 0, before.stderr);
  assert.is(after.code, 0, after.stderr);
  assert.is(before.stdout, after.stdout);
  assert.equal(
    (JSON.parse(before.stdout) as { readings: Reading[] }).readings.map((r) => r.sensor),
    ['a-temp'],
  );
  assert.equal(
    hub.requests.map((r) => r.url),
    ['/api/v1/latest?room=kitchen', '/api/v1/latest?room=kitchen'],
  );
});

test('sensors exits 0 with a table of sensor, room, connected, last seen and metrics', async () => {
  const result = await runCliProcess(['sensors', '--hub', hub.url]);
  assert.is(result.code, 0, result.stderr);
  assert.equal(rows(result.stdout), [
    ['sensor', 'room', 'connected', 'last', 'seen', 'metrics'],
    ['a-temp', 'kitchen', 'yes', '1d0h', 'temperature'],
    ['b-multi', 'hall', 'no', '2d0h', 'cpu_load,humidity'],
  ]);
  assert.equal(
    hub.requests.map((r) => r.url),
    ['/api/v1/sensors'],
  );
});

test("sensors --json prints the hub's body; with a filter, only the matching sensors", async () => {
  const all = await runCliProcess(['sensors', '--json', '--hub', hub.url]);
  assert.is(all.code, 0, all.stderr);
  assert.equal(JSON.parse(all.stdout), { sensors });
  const hall = await runCliProcess(['sensors', '--json', '--room', 'hall', '--hub', hub.url]);
  assert.equal(JSON.parse(hall.stdout), { sensors: [sensors[1]] });
});

test('latest with no readings says so and exits 0', async () => {
  const empty = await startFakeHub();
  try {
    const result = await runCliProcess(['latest', '--hub', empty.url]);
    assert.is(result.code, 0, result.stderr);
    assert.is(result.stdout, 'no readings yet\n');
  } finally {
    await empty.close();
  }
});

test('latest --refresh piped prints --times snapshots one after another, then exits 0', async () => {
  const result = await runCliProcess(['latest', '--hub', hub.url, '--refresh', '100', '--times', '2', '--room', 'kitchen']);
  assert.is(result.code, 0, result.stderr);
  assert.is(hub.requests.length, 2);
  assert.is(result.stdout.split(`latest from ${hub.url} at `).length - 1, 2);
  assert.is(result.stdout.split('kitchen  a-temp').length - 1, 2);
  assert.not.match(result.stdout, '\x1b');
});

test('Ctrl-C ends an endless latest --refresh with exit 0', async () => {
  let interrupted = false;
  const result = await runCliProcess(['latest', '--hub', hub.url, '--refresh', '100'], {
    onStdout: (stdout, child) => {
      // Interrupt once a second snapshot shows the loop is running, as a person would.
      if (!interrupted && stdout.split('latest from ').length - 1 >= 2) {
        interrupted = true;
        child.kill('SIGINT');
      }
    },
  });
  assert.is(interrupted, true);
  assert.is(result.code, 0, result.stderr);
  assert.is(result.stderr, '');
});

test("a 400 from the hub exits 1 and prints the hub's code and message on stderr [§3]", async () => {
  const body = JSON.stringify({ error: { code: 'bad_filter', message: 'room "attic" is not known to this hub' } });
  const refusing = await startFakeHub({ refuse: { status: 400, body } });
  try {
    const result = await runCliProcess(['latest', '--room', 'attic', '--hub', refusing.url]);
    assert.is(result.code, 1);
    assert.is(result.stdout, '');
    assert.match(result.stderr, 'roomwatch: hub refused (400 bad_filter): room "attic" is not known to this hub');
  } finally {
    await refusing.close();
  }
});

test('an unknown command exits 2 with a usage hint, sending nothing [§3]', async () => {
  const result = await runCliInProcess(['lastest', '--hub', hub.url]);
  assert.is(result.code, 2);
  assert.is(result.stdout, '');
  assert.match(result.stderr, /unknown command "lastest"/);
  assert.match(result.stderr, /npm run cli -- help/);
  assert.is(hub.requests.length, 0);
});

test('an unknown option exits 2 with a usage hint [§3]', async () => {
  const result = await runCliInProcess(['latest', '--hub', hub.url, '--roomz', 'hall']);
  assert.is(result.code, 2);
  assert.match(result.stderr, /unknown option --roomz/);
  assert.match(result.stderr, /npm run cli -- help/);
  assert.is(hub.requests.length, 0);
});

test('an invalid --sensor value exits 2 before anything is sent [§1 Names and values]', async () => {
  const result = await runCliInProcess(['latest', '--hub', hub.url, '--sensor', 'ok-one,not valid']);
  assert.is(result.code, 2);
  assert.match(result.stderr, /--sensor "not valid" is not a valid sensor name \(\^/);
  assert.is(hub.requests.length, 0);
});

test('nothing listening on the port exits 3, names the hub URL and suggests npm start [§3]', async () => {
  const port = await closedPort();
  const result = await runCliProcess(['latest', '--hub', `http://127.0.0.1:${port}`]);
  assert.is(result.code, 3);
  assert.is(result.stdout, '');
  assert.match(result.stderr, `cannot reach the hub at http://127.0.0.1:${port} (connection refused)`);
  assert.match(result.stderr, 'npm start');
});

test('a hub that accepts but never answers exits 3 after --timeout', async () => {
  const silent = await startFakeHub({ hang: true });
  try {
    const result = await runCliProcess(['sensors', '--hub', silent.url, '--timeout', '300']);
    assert.is(result.code, 3);
    assert.match(result.stderr, 'no answer within 300 ms');
  } finally {
    await silent.close();
  }
});

test('ROOMWATCH_HUB is used when --hub is absent, and --hub wins over it [§3]', async () => {
  const fromEnv = await runCliProcess(['latest', '--json'], { env: { ROOMWATCH_HUB: hub.url } });
  assert.is(fromEnv.code, 0, fromEnv.stderr);
  assert.equal(JSON.parse(fromEnv.stdout), { readings });
  assert.is(hub.requests.length, 1);

  const port = await closedPort();
  const flagWins = await runCliProcess(['latest', '--json', '--hub', hub.url], { env: { ROOMWATCH_HUB: `http://127.0.0.1:${port}` } });
  assert.is(flagWins.code, 0, flagWins.stderr);
  assert.is(hub.requests.length, 2);
});

test('help lists the commands, options, environment and exit codes, and exits 0', async () => {
  for (const argv of [['help'], ['--help'], ['-h']]) {
    const result = await runCliInProcess(argv);
    assert.is(result.code, 0, result.stderr);
    const words = ['latest', 'sensors', 'history', 'upload', 'report-now', 'watch', '--hub', '--sensor', '--json', '--refresh'];
    for (const word of [
      ...words,
      '--from',
      '--every',
      '--out',
      '--timeout-ms',
      '--replay',
      '--count',
      'ROOMWATCH_HUB',
      'NO_COLOR',
      'Exit codes',
    ]) {
      assert.match(result.stdout, word);
    }
  }
  const one = await runCliInProcess(['latest', '--help']);
  assert.is(one.code, 0);
  assert.match(one.stdout, 'Usage: npm run cli -- latest');
  const upload = await runCliInProcess(['help', 'upload']);
  assert.is(upload.code, 0);
  assert.match(upload.stdout, 'Usage: npm run cli -- upload FILE [options]');
});

test('help lists the access-control commands, and a command with subcommands lists them with their arguments', async () => {
  const all = await runCliInProcess(['help']);
  for (const word of ['login', 'logout', 'whoami', 'users', 'tokens', 'activity', '--password-stdin', '--follow', 'ROOMWATCH_CONFIG_DIR']) {
    assert.match(all.stdout, word);
  }
  const users = await runCliInProcess(['users', '--help']);
  assert.is(users.code, 0, users.stderr);
  assert.match(users.stdout, 'Usage: npm run cli -- users <subcommand> [options]');
  for (const line of [
    'users list',
    'users add NAME --role ROLE --room ROOM[,ROOM...] [--password-stdin]',
    'users remove NAME',
    'users import FILE',
  ]) {
    assert.match(users.stdout, `\n  ${line}\n`);
  }
  assert.not.match(users.stdout, '--metric', 'filters that do not apply are not offered');
  const tokens = await runCliInProcess(['help', 'tokens']);
  assert.match(tokens.stdout, "tokens create --sensor PATTERN --room ROOM[,ROOM...]|'*' [--note TEXT]");
});

test.run();
