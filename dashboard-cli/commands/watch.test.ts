// `watch` (PROTOCOL.md §2 "Live stream", §3) against a scripted WebSocket: the subscribe message,
// replayed then live readings, dropped notices, the hub's close codes, and ending cleanly.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Reading } from '../api-types.ts';
import { closedPort, startFakeHub } from '../testing/fake-hub.ts';
import type { StreamStep } from '../testing/fake-hub.ts';
import { ROOMS_ADVICE } from '../refusal-advice.ts';
import { runCliInProcess } from '../testing/run-cli-in-process.ts';
import { runCliProcess } from '../testing/run-cli-process.ts';
import { ReadingLines } from './watch.ts';

const T0 = Date.UTC(2025, 10, 21, 8, 0, 0, 0);
const reading = (sensor: string, value: number, offsetMs: number, room = 'hall', metric = 'temperature'): Reading => ({
  sensor,
  room,
  metric,
  value,
  unit: metric === 'temperature' ? 'C' : '%',
  ts: T0 + offsetMs,
});
const stored = [reading('old-1', 1, 0), reading('a-temp', 19.5, 1_000), reading('b-multi', 40, 2_005, 'kitchen', 'humidity')];
const firstLive = reading('a-temp', 19.75, 3_000);
const live: StreamStep[] = [{ reading: firstLive }, { reading: reading('server-rack-07', -2.5, 4_010, 'server-room') }];
// UTC, so the local times the CLI prints are the same on every machine.
const env = { TZ: 'UTC' };

/** --json output: one message per line. */
function jsonLines(stdout: string): unknown[] {
  return stdout
    .trimEnd()
    .split('\n')
    .map((line) => JSON.parse(line) as unknown);
}

function columns(stdout: string): string[][] {
  return stdout
    .trimEnd()
    .split('\n')
    .map((line) => line.trim().split(/\s+/));
}

test('watch prints the replayed, then the live readings, and exits 0 after --count [§2]', async () => {
  const hub = await startFakeHub({ stream: { stored, live } });
  try {
    const result = await runCliProcess(['watch', '--hub', hub.url, '--replay', '2', '--count', '4'], { env });
    assert.is(result.code, 0, result.stderr);
    assert.is(result.stderr, '');
    assert.equal(columns(result.stdout), [
      ['2025-11-21T08:00:01.000+00:00', 'hall', 'a-temp', 'temperature', '19.5', 'C'],
      ['2025-11-21T08:00:02.005+00:00', 'kitchen', 'b-multi', 'humidity', '40', '%'],
      ['2025-11-21T08:00:03.000+00:00', 'hall', 'a-temp', 'temperature', '19.75', 'C'],
      ['2025-11-21T08:00:04.010+00:00', 'server-room', 'server-rack-07', 'temperature', '-2.5', 'C'],
    ]);
    assert.equal(await hub.nextStreamClose(), { code: 1000, reason: '' }, 'closed cleanly by the CLI');
  } finally {
    await hub.close();
  }
});

test('the subscribe message carries the filters as arrays and the replay count [§2]', async () => {
  const hub = await startFakeHub({ stream: { stored, live } });
  try {
    const result = await runCliProcess(
      ['watch', '--hub', `${hub.url}/`, '--sensor', 'a-temp,b-multi', '--metric', 'temperature', '--count', '1'],
      { env },
    );
    assert.is(result.code, 0, result.stderr);
    assert.equal(hub.streamMessages, [{ type: 'subscribe', sensor: ['a-temp', 'b-multi'], metric: ['temperature'], replay: 10 }]);
    assert.is(hub.requests[0]?.url, '/api/v1/stream');
  } finally {
    await hub.close();
  }
});

test('--json prints every message as received, one per line, and marks the end of the replay', async () => {
  const hub = await startFakeHub({ stream: { stored, live } });
  try {
    const result = await runCliProcess(['watch', '--json', '--hub', hub.url, '--replay', '1', '--count', '2'], { env });
    assert.is(result.code, 0, result.stderr);
    assert.equal(jsonLines(result.stdout), [
      { type: 'subscribed', replayed: 1 },
      { type: 'reading', ...stored[2] },
      { type: 'replay_end', replayed: 1 },
      { type: 'reading', ...firstLive },
    ]);
  } finally {
    await hub.close();
  }
});

test('a dropped message is reported on stderr with its count, and watching goes on [§2]', async () => {
  const hub = await startFakeHub({ stream: { live: [{ reading: stored[0]! }, { dropped: 5 }, { reading: stored[1]! }] } });
  try {
    const result = await runCliProcess(['watch', '--hub', hub.url, '--replay', '0', '--count', '2'], { env });
    assert.is(result.code, 0, result.stderr);
    assert.match(result.stderr, 'hub dropped 5 readings: ');
    assert.is(columns(result.stdout).length, 2);
  } finally {
    await hub.close();
  }
});

test('the hub closing with 1013 exits 1 with the reason on stderr [§2]', async () => {
  const hub = await startFakeHub({ stream: { stored, live: [{ close: 1013, reason: 'client too slow' }] } });
  try {
    const result = await runCliProcess(['watch', '--hub', hub.url, '--replay', '1'], { env });
    assert.is(result.code, 1);
    assert.match(result.stderr, 'the hub closed the stream (1013): this client reads too slowly; try again later: client too slow');
    assert.is(columns(result.stdout).length, 1, 'what came before the close was printed');
  } finally {
    await hub.close();
  }
});

test('on a terminal, a line marks where the replayed readings end and live ones begin', async () => {
  const hub = await startFakeHub({ stream: { stored, live } });
  try {
    const result = await runCliInProcess(['watch', '--hub', hub.url, '--replay', '2', '--count', '3'], { env, stdoutTTY: true });
    assert.is(result.code, 0, result.stderr);
    const lines = result.stdout.trimEnd().split('\n');
    assert.match(lines[0] ?? '', /^watching http:\/\/127\.0\.0\.1:\d+: 2 stored readings, then live ones \(Ctrl-C to stop\)$/);
    assert.is(lines[3], '-- 2 stored readings above, live ones below --');
    assert.match(lines[4] ?? '', /a-temp +temperature +19\.75 C$/);
  } finally {
    await hub.close();
  }
});

test('the hub going away (1001) once watching: it reconnects, says so, and the new replay shows only what it had not [§2]', async () => {
  // The same object serves each connection: changed after the first, as a hub's store is after a restart.
  const script: { stored: Reading[]; live: StreamStep[] } = {
    stored: stored.slice(0, 2),
    live: [{ reading: firstLive }, { close: 1001, reason: 'the hub is stopping' }],
  };
  const hub = await startFakeHub({ stream: script });
  const whileAway = reading('c-new', 7, 3_500, 'hall', 'humidity');
  const afterwards = reading('a-temp', 20, 5_000);
  // The close is seen by the hub before the CLI's first retry (at least 250 ms later).
  void hub.nextStreamClose().then(() => {
    script.stored = [...stored.slice(0, 2), firstLive, whileAway];
    script.live = [{ reading: afterwards }];
  });
  try {
    const result = await runCliProcess(['watch', '--json', '--hub', hub.url, '--replay', '2', '--count', '5'], { env });
    assert.is(result.code, 0, result.stderr);
    assert.equal(jsonLines(result.stdout), [
      { type: 'subscribed', replayed: 2 },
      { type: 'reading', ...stored[0] },
      { type: 'reading', ...stored[1] },
      { type: 'replay_end', replayed: 2 },
      { type: 'reading', ...firstLive },
      { type: 'subscribed', replayed: 4 },
      { type: 'reading', ...whileAway },
      { type: 'replay_end', replayed: 1 },
      { type: 'reading', ...afterwards },
    ]);
    assert.match(
      result.stderr,
      /^roomwatch: lost the stream from http:\/\/127\.0\.0\.1:\d+ \(the hub closed the stream \(1001\): the hub is going away: the hub is stopping\); reconnecting in \d+\.\d s \(Ctrl-C to stop\)\n/,
    );
    assert.match(result.stderr, /roomwatch: reconnected to http:\/\/127\.0\.0\.1:\d+\n$/);
    assert.equal(
      hub.streamMessages.map((m) => (m as { replay: number }).replay),
      [2, 1000],
      'the second subscription asks for all the hub replays',
    );
  } finally {
    await hub.close();
  }
});

test('nothing listening on the port exits 3 [§3]', async () => {
  const port = await closedPort();
  const result = await runCliProcess(['watch', '--hub', `http://127.0.0.1:${port}`]);
  assert.is(result.code, 3);
  assert.match(result.stderr, `cannot reach the hub at http://127.0.0.1:${port} (connection refused)`);
});

test('a hub that never completes the handshake exits 3 after --timeout', async () => {
  const hub = await startFakeHub({ hang: true });
  try {
    const result = await runCliProcess(['watch', '--hub', hub.url, '--timeout', '300']);
    assert.is(result.code, 3);
    assert.match(result.stderr, 'no answer within 300 ms');
  } finally {
    await hub.close();
  }
});

test('an HTTP refusal of the upgrade exits 1 with the error body [§2]', async () => {
  const body = JSON.stringify({ error: { code: 'unauthorized', message: 'a user token is required' } });
  const hub = await startFakeHub({ refuse: { status: 401, body } });
  try {
    const result = await runCliProcess(['watch', '--hub', hub.url]);
    assert.is(result.code, 1);
    assert.match(result.stderr, 'hub refused (401 unauthorized): a user token is required');
  } finally {
    await hub.close();
  }
});

test("a subscription the hub refuses with an error message (forbidden_room) exits 1 with the hub's message", async () => {
  // docs/ADMIN.md "What a refused request gets": {"type":"error","code":"forbidden_room","message"}, then close 1008.
  const refusal = { type: 'error', code: 'forbidden_room', message: 'room greenhouse is not one of your rooms' };
  const hub = await startFakeHub({ stream: { live: [{ send: refusal }, { close: 1008, reason: 'forbidden_room' }] } });
  try {
    const result = await runCliProcess(['watch', '--room', 'greenhouse', '--hub', hub.url], { env });
    assert.is(result.code, 1);
    assert.is(result.stderr, `roomwatch: hub refused (403 forbidden_room): room greenhouse is not one of your rooms\n${ROOMS_ADVICE}\n`);
  } finally {
    await hub.close();
  }
});

test('Ctrl-C closes the socket cleanly (1000) and exits 0', async () => {
  const hub = await startFakeHub({ stream: { stored, live } });
  try {
    let interrupted = false;
    const result = await runCliProcess(['watch', '--hub', hub.url], {
      env,
      onStdout: (stdout, child) => {
        // Once everything scripted has arrived, the CLI is waiting for more: interrupt it there.
        if (!interrupted && stdout.split('\n').length - 1 >= stored.length + live.length) {
          interrupted = true;
          child.kill('SIGINT');
        }
      },
    });
    assert.is(interrupted, true);
    assert.is(result.code, 0, result.stderr);
    assert.is(result.stderr, '');
    assert.equal(await hub.nextStreamClose(), { code: 1000, reason: '' });
  } finally {
    await hub.close();
  }
});

test('--replay above 1000 and a --count of 0 are usage errors before connecting', async () => {
  const hub = await startFakeHub({ stream: { stored, live } });
  try {
    for (const extra of [
      ['--replay', '1001'],
      ['--count', '0'],
      ['--replay', 'all'],
    ]) {
      const result = await runCliInProcess(['watch', '--hub', hub.url, ...extra]);
      assert.is(result.code, 2, `${extra.join(' ')}: ${result.stderr}`);
    }
    assert.is(hub.requests.length, 0);
  } finally {
    await hub.close();
  }
});

test('columns only widen, so lines stay aligned once a long name has been seen', () => {
  const lines = new ReadingLines();
  const first = lines.format(reading('a', 1, 0));
  const long = lines.format(reading('a-very-long-sensor-name', 100.5, 0));
  const after = lines.format(reading('a', 2, 0));
  assert.ok(first.indexOf('temperature') < long.indexOf('temperature'));
  assert.is(after.indexOf('temperature'), long.indexOf('temperature'));
  assert.is(after.lastIndexOf(' C'), long.lastIndexOf(' C'), 'values right-aligned, units in one column');
});

test.run();
