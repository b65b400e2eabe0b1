// Names from the hub are data, never keys into Object.prototype (PROTOCOL.md §1 "Names and
// values": `constructor`, `toString`, `hasOwnProperty` are valid sensor ids and rooms, and
// `constructor` a valid metric). The CLI prints them as they are, in tables and with --json;
// `__proto__` too, though only a hub that breaks the contract would send it.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Reading, SensorInfo } from './api-types.ts';
import { startFakeHub } from './testing/fake-hub.ts';
import { runCliInProcess } from './testing/run-cli-in-process.ts';

const NOW_MS = Date.now();
const DAY_MS = 86_400_000;
const sensors: SensorInfo[] = [
  { sensor: 'constructor', room: 'toString', connected: true, last_seen: NOW_MS - DAY_MS, metrics: ['constructor', 'temperature'] },
  { sensor: 'hasOwnProperty', room: 'constructor', connected: false, last_seen: null, metrics: ['__proto__', 'constructor'] },
  { sensor: 'valueOf', room: '__proto__', connected: false, last_seen: NOW_MS - DAY_MS, metrics: [] },
];
const readings: Reading[] = [
  { sensor: 'constructor', room: 'toString', metric: 'constructor', value: 1.5, unit: '__proto__', ts: NOW_MS - DAY_MS },
  { sensor: 'hasOwnProperty', room: 'constructor', metric: '__proto__', value: 2, unit: 'toString', ts: NOW_MS - DAY_MS },
];

const cells = (stdout: string): string[][] =>
  stdout
    .trimEnd()
    .split('\n')
    .slice(1)
    .map((line) => line.trim().split(/\s+/));

async function cli(args: string[]) {
  const hub = await startFakeHub({ sensors: { sensors }, latest: { readings } });
  try {
    const result = await runCliInProcess([...args, '--hub', hub.url]);
    assert.is(result.stderr, '', 'nothing on stderr');
    assert.is(result.code, 0);
    return result.stdout;
  } finally {
    await hub.close();
  }
}

test('sensors prints sensors, rooms and metrics named like Object.prototype members as they are', async () => {
  // sensor, room, connected, then the metrics (last) where there are any
  assert.equal(
    cells(await cli(['sensors'])).map((row) => [row[0], row[1], row[2], row.length === 5 ? row[4] : '']),
    [
      ['constructor', 'toString', 'yes', 'constructor,temperature'],
      ['hasOwnProperty', 'constructor', 'no', '__proto__,constructor'],
      ['valueOf', '__proto__', 'no', ''],
    ],
  );
});

test('sensors --json prints the hub’s body unchanged, and with filters only the matching ones', async () => {
  assert.equal(JSON.parse(await cli(['sensors', '--json'])), { sensors });
  assert.equal(JSON.parse(await cli(['sensors', '--json', '--room', 'constructor'])), { sensors: [sensors[1]] });
  assert.equal(JSON.parse(await cli(['sensors', '--json', '--metric', 'constructor'])), { sensors: [sensors[0], sensors[1]] });
});

test('latest prints readings whose names and units are Object.prototype members', async () => {
  assert.equal(
    cells(await cli(['latest'])).map((row) => row.slice(0, 5)),
    [
      ['constructor', 'hasOwnProperty', '__proto__', '2', 'toString'],
      ['toString', 'constructor', 'constructor', '1.5', '__proto__'],
    ],
  );
  assert.equal(JSON.parse(await cli(['latest', '--json', '--sensor', 'constructor'])), { readings: [readings[0]] });
});

test('a stream error whose code is "constructor" is a refusal with status 400, not with a function for a status', async () => {
  const refusal = { type: 'error', code: 'constructor', message: 'a hub that says odd things' };
  const hub = await startFakeHub({ stream: { live: [{ send: refusal }, { close: 1008, reason: 'constructor' }] } });
  try {
    const result = await runCliInProcess(['watch', '--hub', hub.url]);
    assert.is(result.code, 1);
    assert.is(result.stderr, 'roomwatch: hub refused (400 constructor): a hub that says odd things\n');
  } finally {
    await hub.close();
  }
});

test.run();
