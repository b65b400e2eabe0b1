// The simulated rooms: shaped like real ones, reproducible from a seed and an injected clock.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { ReadingInput } from '../protocol/messages.ts';
import { SIMULATED_METRICS, createRoomModel, dailyCycle } from './models.ts';
import { seededRandom } from './random.ts';

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;
/** 2025-11-21T00:00:00Z */
const MIDNIGHT_UTC = Date.UTC(2025, 10, 21);

interface Sample {
  ts: number;
  temperature: number;
  humidity: number;
  cpu_load: number;
}

/** Reads a model every `stepMs` from `startMs` for `spanMs`, on a clock the test moves. */
function series(room: string, seed: number, startMs: number, spanMs: number, stepMs: number): Sample[] {
  let clockMs = startMs;
  const model = createRoomModel({ room, random: seededRandom(seed), now: () => clockMs });
  const out: Sample[] = [];
  for (; clockMs < startMs + spanMs; clockMs += stepMs) out.push(toSample(model.read()));
  return out;
}

function toSample(readings: ReadingInput[]): Sample {
  const by = (metric: string) => readings.find((r) => r.metric === metric)!.value;
  return { ts: readings[0]!.ts!, temperature: by('temperature'), humidity: by('humidity'), cpu_load: by('cpu_load') };
}

function mean(xs: number[]): number {
  return xs.reduce((a, b) => a + b, 0) / xs.length;
}

function hourOf(ts: number): number {
  return new Date(ts).getUTCHours();
}

function correlation(xs: number[], ys: number[]): number {
  const mx = mean(xs);
  const my = mean(ys);
  let sxy = 0;
  let sxx = 0;
  let syy = 0;
  for (let i = 0; i < xs.length; i++) {
    sxy += (xs[i]! - mx) * (ys[i]! - my);
    sxx += (xs[i]! - mx) ** 2;
    syy += (ys[i]! - my) ** 2;
  }
  return sxy / Math.sqrt(sxx * syy);
}

test('every reading carries temperature in C, humidity in % and cpu_load in %, one ts, rounded like a sensor', () => {
  assert.equal(SIMULATED_METRICS, [
    { metric: 'temperature', unit: 'C' },
    { metric: 'humidity', unit: '%' },
    { metric: 'cpu_load', unit: '%' },
  ]);
  const model = createRoomModel({ room: 'kitchen', random: seededRandom(7), now: () => MIDNIGHT_UTC + 123 });
  for (let i = 0; i < 200; i++) {
    const readings = model.read();
    assert.equal(
      readings.map((r) => [r.metric, r.unit, r.ts]),
      [
        ['temperature', 'C', MIDNIGHT_UTC + 123],
        ['humidity', '%', MIDNIGHT_UTC + 123],
        ['cpu_load', '%', MIDNIGHT_UTC + 123],
      ],
    );
    const [t, h, c] = readings.map((r) => r.value) as [number, number, number];
    assert.is(Math.round(t * 100) / 100, t, `temperature ${t} has 2 decimals at most`);
    assert.is(Math.round(h * 10) / 10, h, `humidity ${h} has 1 decimal at most`);
    assert.is(Math.round(c * 10) / 10, c, `cpu_load ${c} has 1 decimal at most`);
  }
});

test('the daily cycle peaks at 15:00 UTC and bottoms out before dawn', () => {
  assert.ok(Math.abs(dailyCycle(MIDNIGHT_UTC + 15 * HOUR_MS) - 1) < 1e-9);
  assert.ok(Math.abs(dailyCycle(MIDNIGHT_UTC + 3 * HOUR_MS) + 1) < 1e-9);
  assert.ok(dailyCycle(MIDNIGHT_UTC + 15 * HOUR_MS) > dailyCycle(MIDNIGHT_UTC + 4 * HOUR_MS));
});

test('temperature is warmer at 15:00 UTC than at 04:00 UTC over the daily cycle, in every room', () => {
  for (const room of ['living-room', 'bedroom', 'kitchen', 'server-room', 'greenhouse']) {
    const s = series(room, 11, MIDNIGHT_UTC, 6 * DAY_MS, 5 * 60_000);
    const at = (h: number) => mean(s.filter((x) => hourOf(x.ts) === h).map((x) => x.temperature));
    assert.ok(at(15) > at(4), `${room}: ${at(15).toFixed(2)} C at 15:00 should exceed ${at(4).toFixed(2)} C at 04:00`);
    // Coolest before dawn: the coldest hour on average lies between midnight and 06:00 UTC.
    const hourly = Array.from({ length: 24 }, (_, h) => at(h));
    const coldest = hourly.indexOf(Math.min(...hourly));
    assert.ok(coldest <= 6, `${room}: coldest hour ${coldest}:00 should be before dawn`);
  }
});

test('rooms have their own baseline: server room ~24 C, greenhouse ~25 C with the largest swing, homes ~21 C', () => {
  const dayMean = (room: string) => mean(series(room, 3, MIDNIGHT_UTC, 2 * DAY_MS, 10 * 60_000).map((x) => x.temperature));
  const swing = (room: string) => {
    const s = series(room, 3, MIDNIGHT_UTC, 4 * DAY_MS, 10 * 60_000);
    const at = (h: number) => mean(s.filter((x) => hourOf(x.ts) === h).map((x) => x.temperature));
    return at(15) - at(3);
  };
  for (const room of ['living-room', 'bedroom', 'kitchen']) assert.ok(Math.abs(dayMean(room) - 21) < 2.5, `${room} mean ${dayMean(room)}`);
  assert.ok(Math.abs(dayMean('server-room') - 24) < 2.5, `server-room mean ${dayMean('server-room')}`);
  assert.ok(Math.abs(dayMean('greenhouse') - 25) < 2.5, `greenhouse mean ${dayMean('greenhouse')}`);
  assert.ok(
    swing('greenhouse') > 2 * swing('living-room'),
    `greenhouse swing ${swing('greenhouse')} vs living-room ${swing('living-room')}`,
  );
  // A room the simulator does not know behaves like a home.
  assert.ok(Math.abs(dayMean('attic') - 21) < 2.5, `attic mean ${dayMean('attic')}`);
});

test('humidity moves against temperature (warmer is drier) and stays within 0..100', () => {
  for (const room of ['living-room', 'greenhouse']) {
    const s = series(room, 5, MIDNIGHT_UTC, 3 * DAY_MS, 5 * 60_000);
    const r = correlation(
      s.map((x) => x.temperature),
      s.map((x) => x.humidity),
    );
    assert.ok(r < -0.5, `${room}: correlation of temperature and humidity is ${r.toFixed(2)}, expected clearly negative`);
    const at = (h: number) => mean(s.filter((x) => hourOf(x.ts) === h).map((x) => x.humidity));
    assert.ok(at(15) < at(4), `${room}: humidity ${at(15)} at 15:00 should be below ${at(4)} at 04:00`);
    for (const x of s) assert.ok(x.humidity >= 0 && x.humidity <= 100, `humidity ${x.humidity}`);
  }
});

test('cpu_load stays in 0..100, idles low and bursts to 70-100 % for several seconds at a time', () => {
  for (const room of ['server-room', 'living-room']) {
    const s = series(room, 9, MIDNIGHT_UTC, 2 * HOUR_MS, 1_000).map((x) => x.cpu_load);
    for (const v of s) assert.ok(v >= 0 && v <= 100, `cpu_load ${v} out of range`);
    const busy = s.filter((v) => v >= 70).length;
    assert.ok(busy > 0, `${room}: no burst in two hours`);
    assert.ok(busy < s.length * 0.3, `${room}: ${busy} of ${s.length} readings busy; bursts should be occasional`);
    const sorted = [...s].sort((a, b) => a - b);
    assert.ok(sorted[Math.floor(s.length / 2)]! < 45, `${room}: median ${sorted[Math.floor(s.length / 2)]} should be a low baseline`);
    let run = 0;
    let longest = 0;
    for (const v of s) {
      run = v >= 65 ? run + 1 : 0;
      longest = Math.max(longest, run);
    }
    assert.ok(longest >= 3, `${room}: longest burst ${longest} s; bursts should last several seconds`);
  }
});

test('the same seed and the same clock give the same series; another seed gives another', () => {
  const a = series('greenhouse', 42, MIDNIGHT_UTC, HOUR_MS, 10_000);
  const b = series('greenhouse', 42, MIDNIGHT_UTC, HOUR_MS, 10_000);
  const c = series('greenhouse', 43, MIDNIGHT_UTC, HOUR_MS, 10_000);
  assert.equal(a, b);
  assert.not.equal(a, c);
});

test('the model reads the injected clock on every reading, never at creation', () => {
  let clockMs = MIDNIGHT_UTC + 4 * HOUR_MS;
  let clockReads = 0;
  const model = createRoomModel({
    room: 'greenhouse',
    random: seededRandom(1),
    now: () => {
      clockReads++;
      return clockMs;
    },
  });
  assert.is(clockReads, 0);
  const night = model.read();
  assert.is(clockReads, 1);
  clockMs += 11 * HOUR_MS;
  const afternoon = model.read();
  assert.is(clockReads, 2);
  assert.is(night[0]!.ts, MIDNIGHT_UTC + 4 * HOUR_MS);
  assert.is(afternoon[0]!.ts, MIDNIGHT_UTC + 15 * HOUR_MS);
  // The greenhouse swings by several degrees between 04:00 and 15:00.
  assert.ok(afternoon[0]!.value > night[0]!.value + 3, `${night[0]!.value} C at 04:00 -> ${afternoon[0]!.value} C at 15:00`);
});

test('a clock that stands still or steps back still gives valid readings', () => {
  let clockMs = MIDNIGHT_UTC;
  const model = createRoomModel({ room: 'bedroom', random: seededRandom(2), now: () => clockMs });
  for (let i = 0; i < 100; i++) {
    clockMs += i % 3 === 0 ? -5_000 : 0;
    for (const r of model.read()) assert.ok(Number.isFinite(r.value), `${r.metric} ${r.value}`);
  }
});

test('a room named like an Object.prototype member (--rooms constructor) gets the living-room profile, not NaN', () => {
  // PROTOCOL.md §1: `constructor`, `toString`, `hasOwnProperty` and `valueOf` are valid room names.
  const livingRoom = series('living-room', 7, MIDNIGHT_UTC, HOUR_MS, 60_000);
  for (const room of ['constructor', 'toString', 'hasOwnProperty', 'valueOf', '__proto__']) {
    const samples = series(room, 7, MIDNIGHT_UTC, HOUR_MS, 60_000);
    for (const s of samples) {
      assert.ok([s.temperature, s.humidity, s.cpu_load].every(Number.isFinite), `${room}: finite values ${JSON.stringify(s)}`);
    }
    assert.equal(samples, livingRoom, `${room} behaves like a living room`);
  }
});

test.run();
