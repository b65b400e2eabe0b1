// `sensors`: the table, and the filters the CLI applies itself (GET /api/v1/sensors takes none, §2).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { SensorInfo } from '../api-types.ts';
import { matchesFilters, renderSensors } from './sensors.ts';

const NOW_MS = 1_763_712_000_000;
const sensors: SensorInfo[] = [
  { sensor: 'rack1', room: 'server-room', connected: true, last_seen: NOW_MS - 4_000, metrics: ['temperature', 'cpu_load'] },
  { sensor: 'hall-th', room: 'hall', connected: false, last_seen: NOW_MS - 3 * 3600_000 - 600_000, metrics: ['humidity'] },
  { sensor: 'ghost', room: 'default', connected: false, last_seen: null, metrics: [] },
];

test('the table lists sensors sorted by id, with connected as yes/no and last seen as an age', () => {
  assert.is(
    renderSensors(sensors, NOW_MS, { color: false, filtered: false }),
    [
      'sensor   room         connected  last seen  metrics',
      'ghost    default      no                 -',
      'hall-th  hall         no             3h10m  humidity',
      'rack1    server-room  yes               4s  temperature,cpu_load',
      '',
    ].join('\n'),
  );
});

test('an empty list says so', () => {
  assert.is(renderSensors([], NOW_MS, { color: false, filtered: false }), 'no sensors yet\n');
  assert.is(renderSensors([], NOW_MS, { color: false, filtered: true }), 'no sensors match the filters\n');
});

test('filters match the sensor id, its current room, and any one of its metrics; all given must match', () => {
  const pick = (filters: { sensor?: string[]; room?: string[]; metric?: string[] }) =>
    sensors.filter((s) => matchesFilters(s, { sensor: [], room: [], metric: [], ...filters })).map((s) => s.sensor);
  assert.equal(pick({}), ['rack1', 'hall-th', 'ghost']);
  assert.equal(pick({ sensor: ['rack1', 'ghost'] }), ['rack1', 'ghost']);
  assert.equal(pick({ room: ['hall'] }), ['hall-th']);
  assert.equal(pick({ metric: ['cpu_load', 'humidity'] }), ['rack1', 'hall-th']);
  assert.equal(pick({ room: ['hall'], metric: ['cpu_load'] }), []);
});

test.run();
