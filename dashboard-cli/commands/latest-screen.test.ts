// `latest --refresh` redrawn in place on a terminal of a given size: every reading when they fit,
// else one line per room and metric, never more lines than the screen has, the title kept.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { Reading } from '../api-types.ts';
import { fitLatest, summarizeByRoom } from './latest-screen.ts';
import { readingsTable, renderLatest } from './latest.ts';

const NOW_MS = 1_763_712_000_000;
const ROOMS = ['bedroom', 'greenhouse', 'kitchen', 'living-room', 'server-room'];
const METRICS: [string, string][] = [
  ['humidity', '%'],
  ['temperature', 'C'],
  ['cpu_load', '%'],
];

/** The demo's shape: `sensors` sensors round-robin over five rooms, three metrics each: 150 readings for 50. */
function demoReadings(sensors: number): Reading[] {
  const out: Reading[] = [];
  for (let i = 0; i < sensors; i++) {
    const sensor = `sim-${String(i + 1).padStart(3, '0')}`;
    for (const [m, [metric, unit]] of METRICS.entries()) {
      out.push({ sensor, room: ROOMS[i % ROOMS.length]!, metric, unit, value: 20 + i / 10 + m, ts: NOW_MS - 1000 * (i % 7) });
    }
  }
  return out;
}

const fullTable = (readings: readonly Reading[]): string[] => readingsTable(readings, NOW_MS, false);

test('the demo on a 50-line terminal: one line per room and metric, within 47 lines, with a note saying so', () => {
  const readings = demoReadings(50);
  const lines = fitLatest(readings, NOW_MS, { color: false, maxLines: 50 - 3, fullTable });
  assert.ok(lines.length <= 47, `${lines.length} lines`);
  assert.is(lines.length, 1 + 15 + 1, 'a header, 5 rooms x 3 metrics, the note');
  assert.equal(lines[0]?.split(/\s+/), ['room', 'metric', 'sensors', 'min', 'mean', 'max', 'unit', 'newest']);
  assert.equal(lines[1]?.split(/\s+/), ['bedroom', 'cpu_load', '10', '22', '24.25', '26.5', '%', '0s']);
  assert.is(lines.at(-1), '150 readings, one line per room and metric to fit; --room shows each');
});

test('readings that fit are shown one per line, as without a screen', () => {
  const readings = demoReadings(4);
  assert.equal(fitLatest(readings, NOW_MS, { color: false, maxLines: 47, fullTable }), fullTable(readings));
});

test('a screen too small even for the summary shows whole rooms only, and how many are left out', () => {
  const lines = fitLatest(demoReadings(50), NOW_MS, { color: false, maxLines: 10, fullTable });
  assert.ok(lines.length <= 10, lines.join('\n'));
  const rooms = lines.slice(1, -2).map((l) => l.split(/\s+/)[0]);
  assert.equal(rooms, ['bedroom', 'bedroom', 'bedroom', 'greenhouse', 'greenhouse', 'greenhouse']);
  assert.is(lines.at(-2), '... and 3 more rooms');
});

test('a unit that differs between sensors of a room is a line of its own, never averaged in', () => {
  const base = { room: 'hall', metric: 'temperature', ts: NOW_MS };
  const groups = summarizeByRoom([
    { ...base, sensor: 'a', unit: 'C', value: 20 },
    { ...base, sensor: 'b', unit: 'F', value: 68 },
    { ...base, sensor: 'c', unit: 'C', value: 22 },
  ]);
  assert.equal(
    groups.map((g) => [g.unit, g.sensors.size, g.min, g.max]),
    [
      ['C', 2, 20, 22],
      ['F', 1, 68, 68],
    ],
  );
});

test('renderLatest with maxLines fits; without it (not redrawn in place) every reading is listed', () => {
  const body = { readings: demoReadings(50) };
  assert.is(renderLatest(body, NOW_MS, { color: false, filtered: false }).split('\n').length - 1, 151);
  assert.is(renderLatest(body, NOW_MS, { color: false, filtered: false, maxLines: 47 }).split('\n').length - 1, 17);
});

test.run();
