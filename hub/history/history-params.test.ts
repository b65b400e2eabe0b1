// The parameters of GET /api/v1/history.csv (PROTOCOL.md §2 "History export"), checked in
// process by parseHistoryParams: each parameter's accepted and refused values, and the code a
// refusal carries (bad_parameter, or bad_filter for the filters). Unknown parameters are the
// route schema's to refuse (hub/http); test/api/ proves the answers over HTTP.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { HubError } from '../hub-error.ts';
import { historyFileName, parseHistoryParams } from './history-params.ts';
import type { HistoryQuery } from './history-query.ts';

const T = Date.UTC(2025, 10, 21, 8); // 2025-11-21T08:00:00Z

/** The refusal of a query: its code and message; fails the test if the query is accepted. */
function refusal(query: Record<string, unknown>): { code: string; message: string } {
  try {
    parseHistoryParams(query);
  } catch (error) {
    assert.instance(error, HubError);
    const { code, message } = error as HubError;
    return { code, message };
  }
  throw new Error(`accepted: ${JSON.stringify(query)}`);
}

test('no parameters: every sensor, room and metric, all of time, raw rows, times as ISO 8601', () => {
  assert.equal(parseHistoryParams({}), {
    sensors: null,
    rooms: null,
    metrics: null,
    fromMs: null,
    toMs: null,
    everyMs: null,
    time: 'iso',
  } satisfies HistoryQuery);
});

test('from and to take ISO 8601 with a zone or integer ms; empty is absent', () => {
  const q = parseHistoryParams({ from: '2025-11-21T09:00:00+01:00', to: String(T + 60_000) });
  assert.equal([q.fromMs, q.toMs], [T, T + 60_000]);
  assert.is(parseHistoryParams({ from: '2025-11-21T08:00Z' }).fromMs, T);
  assert.equal([parseHistoryParams({ from: '', to: '' }).fromMs, parseHistoryParams({ from: '', to: '' }).toMs], [null, null]);
});

test('a from or to that is not a time is bad_parameter, named, with what is wrong', () => {
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ from: '2025-11-21T08:00:00' }, /^from: .*has no time zone/],
    [{ to: '2026-02-30T00:00:00Z' }, /^to: .*has no day 30/],
    [{ from: 'yesterday' }, /^from: "yesterday" is not ISO 8601/],
    [{ from: '2025-11-21T08:00:00+25:00' }, /^from: .*beyond ±14:00/],
    [{ to: '1e12' }, /^to: /],
  ];
  for (const [query, why] of cases) {
    const r = refusal(query);
    assert.is(r.code, 'bad_parameter', JSON.stringify(query));
    assert.match(r.message, why, JSON.stringify(query));
  }
});

test('a parameter given twice (an array) is refused: give it once', () => {
  for (const name of ['from', 'to', 'every']) {
    const r = refusal({ [name]: ['1', '2'] });
    assert.equal([r.code, r.message], ['bad_parameter', `${name}: give it once`], name);
  }
  assert.is(refusal({ time: ['iso', 'ms'] }).code, 'bad_parameter');
});

test('to before from is refused; to equal to from is an empty range, and accepted', () => {
  const r = refusal({ from: String(T), to: String(T - 1) });
  assert.equal([r.code, r.message], ['bad_parameter', 'to: is before from']);
  const empty = parseHistoryParams({ from: String(T), to: String(T) });
  assert.equal([empty.fromMs, empty.toMs], [T, T]);
});

test('every is a whole number and a unit (ms, s, m, h, d, w), more than 0 and at most 366 days', () => {
  const every = (text: string) => parseHistoryParams({ every: text }).everyMs;
  assert.is(every('500ms'), 500);
  assert.is(every('10s'), 10_000);
  assert.is(every('5m'), 300_000);
  assert.is(every('1h'), 3_600_000);
  assert.is(every('1d'), 86_400_000);
  assert.is(every('1w'), 604_800_000);
  assert.is(every('366d'), 366 * 86_400_000);
  assert.is(every(''), null);
  for (const text of ['367d', '53w', '0s', '0ms', '10', '5M', '1.5h', '1h30m', '-5m', ' 5m', '5 m', '1mo', 'constructor']) {
    const r = refusal({ every: text });
    assert.is(r.code, 'bad_parameter', text);
    assert.match(r.message, /^every: /, text);
  }
});

test('time is iso or ms, exactly', () => {
  assert.is(parseHistoryParams({ time: 'ms' }).time, 'ms');
  assert.is(parseHistoryParams({ time: 'iso' }).time, 'iso');
  for (const time of ['ISO', 'MS', 'unix', '']) {
    const r = refusal({ time });
    assert.equal([r.code, r.message], ['bad_parameter', 'time: must be iso or ms'], time);
  }
});

test('the filters are lists, each item checked against its pattern; a bad one is bad_filter naming it', () => {
  const q = parseHistoryParams({ sensor: 'rack1, rack2,rack1', room: ['lab', 'hall,lab'], metric: 'temperature' });
  assert.equal([q.sensors, q.rooms, q.metrics], [['rack1', 'rack2'], ['lab', 'hall'], ['temperature']]);
  const cases: [Record<string, unknown>, RegExp][] = [
    [{ sensor: 'a,,b' }, /sensor has an empty item/],
    [{ room: 'living room' }, /room "living room" is not a valid room name/],
    [{ metric: 'Temperature' }, /metric "Temperature" is not a valid metric name/],
    [{ sensor: 7 }, /sensor must be/],
  ];
  for (const [query, why] of cases) {
    const r = refusal(query);
    assert.is(r.code, 'bad_filter', JSON.stringify(query));
    assert.match(r.message, why, JSON.stringify(query));
  }
});

test('narrow limits the filters to what the asker may see, after they are checked', () => {
  const seen: unknown[] = [];
  const q = parseHistoryParams({ room: 'lab,attic' }, (f) => {
    seen.push(f.room && [...f.room]);
    return { ...f, room: new Set(['lab']) };
  });
  assert.equal(seen, [['lab', 'attic']]);
  assert.equal(q.rooms, ['lab']);
});

test('the file name says what is in the export, in characters every file system takes', () => {
  const base: HistoryQuery = { sensors: null, rooms: null, metrics: null, fromMs: null, toMs: null, everyMs: null, time: 'iso' };
  assert.is(historyFileName(base), 'roomwatch-history_start_now.csv');
  assert.is(
    historyFileName({ ...base, fromMs: T, toMs: T + 1500, everyMs: 300_000, sensors: ['rack1', 'rack:2'], metrics: ['a', 'b', 'c', 'd'] }),
    'roomwatch-history_2025-11-21T08-00-00Z_2025-11-21T08-00-01.500Z_every-300000ms_sensor-rack1+rack-2_metric-4.csv',
  );
});

test.run();
