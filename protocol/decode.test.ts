// The decoder of the sensor protocol (decode.ts), rule by rule, in process: PROTOCOL.md §1
// "Framing" (400 for what is not a message), "Names and values" (422 for a value that breaks a
// rule), "Sensor to hub" (each message's fields), "Error codes". The hub's behaviour on the
// wire is proven by test/contract/; this file proves which code and which fields each line gets.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ErrorCode } from './codes.ts';
import { checkSensorMessage, decodeHubLine, decodeSensorLine, readingProblem, type Decoded, type WireError } from './decode.ts';
import { MAX_BATCH_READINGS, MAX_FUTURE_MS, MAX_SEQ, MIN_TS_MS } from './names.ts';

const NOW = Date.UTC(2026, 0, 15, 12);

/** The error a line gets; fails the test if the line is accepted. */
function refusal<T>(decoded: Decoded<T>, what = ''): WireError {
  if (decoded.ok) throw new Error(`accepted ${what}: ${JSON.stringify(decoded.message)}`);
  return decoded.error;
}
const line = (message: unknown): Decoded<unknown> => decodeSensorLine(JSON.stringify(message), NOW);
const codeOf = (message: unknown): number => refusal(line(message), JSON.stringify(message)).code;
const accepted = (message: unknown): boolean => line(message).ok;
const reading = (over: Record<string, unknown>) => ({ type: 'reading', metric: 'temperature', value: 21.5, ...over });
const batch = (readings: unknown, over: Record<string, unknown> = {}) => ({ type: 'batch', readings, ...over });
const hello = (over: Record<string, unknown>) => ({ type: 'hello', v: 1, sensor: 'rack1-temp', ...over });

// §1 Framing

test('a line that is not JSON, not an object, or has no string type is 400', () => {
  for (const text of ['', 'hello', '{"type":"reading"', '{type:"ping"}']) {
    assert.is(refusal(decodeSensorLine(text, NOW), text).code, ErrorCode.BadMessage, text);
  }
  for (const value of [null, 7, 'ping', [], [{ type: 'ping' }], true])
    assert.is(codeOf(value), ErrorCode.BadMessage, JSON.stringify(value));
  for (const value of [{}, { type: 7 }, { type: null }, { type: ['ping'] }]) {
    const error = refusal(line(value));
    assert.is(error.code, ErrorCode.BadMessage);
    assert.match(error.message, '"type"');
  }
});

test('an unknown type is 400 and named in the message, cut short when it is long', () => {
  assert.match(refusal(line({ type: 'readings' })).message, 'unknown type "readings"');
  const long = refusal(line({ type: 'x'.repeat(500) }));
  assert.is(long.code, ErrorCode.BadMessage);
  assert.ok(long.message.length < 120, long.message);
});

test('a valid message is the parsed object itself, not a copy', () => {
  const m = { type: 'reading', metric: 'humidity', value: 40, extra: { kept: true } };
  const decoded = checkSensorMessage(m, NOW);
  assert.ok(decoded.ok);
  assert.is(decoded.ok && decoded.message, m);
});

// §1 Names and values, on a single reading

test('metric: a non-string is 400; a string that breaks ^[a-z][a-z0-9_]{0,63}$ is 422; 64 characters pass', () => {
  assert.is(codeOf(reading({ metric: 7 })), ErrorCode.BadMessage);
  assert.is(codeOf(reading({ metric: undefined })), ErrorCode.BadMessage, 'missing');
  for (const metric of ['Temperature', '1st', '_x', 'cpu-load', 'a b', '', 'a'.repeat(65), 'température']) {
    assert.is(codeOf(reading({ metric })), ErrorCode.InvalidValue, metric);
  }
  for (const metric of ['a', 'cpu_load', 'x9_', 'a'.repeat(64), 'constructor']) assert.ok(accepted(reading({ metric })), metric);
});

test('value: a non-number (a numeric string too) is 400; NaN and ±Infinity are 422; any finite number passes', () => {
  for (const value of ['21.5', null, true, [1], { v: 1 }])
    assert.is(codeOf(reading({ value })), ErrorCode.BadMessage, JSON.stringify(value));
  assert.is(codeOf(reading({ value: undefined })), ErrorCode.BadMessage, 'missing');
  // JSON has no NaN or Infinity: they reach the check only from objects built in process.
  for (const value of [NaN, Infinity, -Infinity]) {
    assert.is(refusal(checkSensorMessage(reading({ value }), NOW)).code, ErrorCode.InvalidValue, String(value));
  }
  for (const value of [0, -0.5, 1e308, -1e-308, Number.MAX_SAFE_INTEGER]) assert.ok(accepted(reading({ value })), String(value));
});

test('unit: a non-string is 400; over 16 characters (counted as people see them) or a formula start is 422; empty passes', () => {
  assert.is(codeOf(reading({ unit: 5 })), ErrorCode.BadMessage);
  assert.is(codeOf(reading({ unit: null })), ErrorCode.BadMessage);
  assert.is(codeOf(reading({ unit: 'x'.repeat(17) })), ErrorCode.InvalidValue);
  assert.is(codeOf(reading({ unit: '😀'.repeat(17) })), ErrorCode.InvalidValue);
  for (const unit of ['=1+1', '+1', '-1', '@SUM(A1)', '\t1', '\r1', '＝1']) {
    const error = refusal(line(reading({ unit })), unit);
    assert.is(error.code, ErrorCode.InvalidValue, unit);
    assert.match(error.message, 'formula');
  }
  for (const unit of ['', 'C', '%', 'x'.repeat(16), '😀'.repeat(16), 'µg/m³', 'a=b']) assert.ok(accepted(reading({ unit })), unit);
});

test('ts: a non-number is 400; a fraction, before 2000, or more than 24 h ahead of the hub clock is 422; the bounds pass', () => {
  assert.is(codeOf(reading({ ts: '1763712000000' })), ErrorCode.BadMessage);
  assert.is(codeOf(reading({ ts: null })), ErrorCode.BadMessage);
  for (const ts of [MIN_TS_MS + 0.5, MIN_TS_MS - 1, 0, -1, NOW + MAX_FUTURE_MS + 1]) {
    assert.is(codeOf(reading({ ts })), ErrorCode.InvalidValue, String(ts));
  }
  for (const ts of [MIN_TS_MS, NOW, NOW + MAX_FUTURE_MS]) assert.ok(accepted(reading({ ts })), String(ts));
  assert.ok(accepted(reading({})), 'absent: the hub stamps it');
});

test('the ts bound moves with the hub clock it is given', () => {
  const ts = NOW + MAX_FUTURE_MS + 1000;
  assert.not.ok(decodeSensorLine(JSON.stringify(reading({ ts })), NOW).ok);
  assert.ok(decodeSensorLine(JSON.stringify(reading({ ts })), NOW + 1000).ok);
});

test('readingProblem refuses what is not an object with 400, as a batch element would', () => {
  for (const r of [null, 7, 'x', [{ metric: 'a', value: 1 }]])
    assert.is(readingProblem(r, NOW)?.code, ErrorCode.BadMessage, JSON.stringify(r));
  assert.is(readingProblem({ metric: 'a', value: 1 }, NOW), null);
});

// §1 seq

test('seq: a non-number is 400; negative, fractional or above 2^53-1 is 422; 0 and 2^53-1 pass', () => {
  assert.is(codeOf(reading({ seq: '1' })), ErrorCode.BadMessage);
  assert.is(codeOf(reading({ seq: null })), ErrorCode.BadMessage);
  for (const seq of [-1, 1.5, MAX_SEQ + 2]) assert.is(codeOf(reading({ seq })), ErrorCode.InvalidValue, String(seq));
  for (const seq of [0, 1, MAX_SEQ]) assert.ok(accepted(reading({ seq })), String(seq));
});

test('an error about a message carries its seq when the seq itself is valid, so the sensor can match them', () => {
  assert.is(refusal(line(reading({ metric: 'Bad', seq: 41 }))).seq, 41);
  assert.is(refusal(line(batch([{ metric: 'Bad', value: 1 }], { seq: 42 }))).seq, 42);
  const badSeq = refusal(line(reading({ metric: 'Bad', seq: -1 })));
  assert.is(badSeq.code, ErrorCode.InvalidValue);
  assert.is(badSeq.seq, undefined, 'an invalid seq is not echoed');
  assert.not.ok('seq' in refusal(line(reading({ metric: 'Bad' }))), 'no seq given, none in the error');
});

// §1 batch

test('batch: readings not an array is 400; empty or over 10,000 is 422; 1 and 10,000 pass', () => {
  const one = { metric: 'temperature', value: 1 };
  for (const readings of [undefined, null, one, 'x']) assert.is(codeOf(batch(readings)), ErrorCode.BadMessage, JSON.stringify(readings));
  assert.is(codeOf(batch([])), ErrorCode.InvalidValue);
  const over = refusal(line(batch(Array.from({ length: MAX_BATCH_READINGS + 1 }, () => one))));
  assert.is(over.code, ErrorCode.InvalidValue);
  assert.match(over.message, '10001 items; at most 10000');
  assert.ok(accepted(batch([one])));
  assert.ok(accepted(batch(Array.from({ length: MAX_BATCH_READINGS }, () => one))));
});

test('one bad reading rejects the whole batch with 422 and the index of the first bad one, whatever its fault', () => {
  const good = { metric: 'temperature', value: 1 };
  const cases: [unknown, string][] = [
    [{ metric: 'Temperature', value: 1 }, 'a bad name'],
    [{ metric: 'temperature', value: '1' }, 'a wrong type (400 on its own)'],
    [null, 'not an object'],
    [{ metric: 'temperature', value: 1, ts: 1 }, 'a ts before 2000'],
  ];
  for (const [bad, what] of cases) {
    const error = refusal(line(batch([good, good, bad, { metric: 'X', value: 1 }])), what);
    assert.is(error.code, ErrorCode.InvalidValue, what);
    assert.is(error.index, 2, what);
    assert.match(error.message, /^reading 2: /, what);
  }
  assert.is(refusal(line(batch([{ metric: 'X', value: 1 }]))).index, 0, 'index 0 is given, not dropped');
});

// §1 report

test('report: the command id must be a string (400), and every error about a report carries it', () => {
  const readings = [{ metric: 'temperature', value: 1 }];
  const noId = refusal(line({ type: 'report', readings, seq: 3 }));
  assert.is(noId.code, ErrorCode.BadMessage);
  assert.is(noId.seq, 3);
  assert.is(codeOf({ type: 'report', id: 7, readings }), ErrorCode.BadMessage);
  const badSeq = refusal(line({ type: 'report', id: 'c-1', readings, seq: -1 }));
  assert.equal([badSeq.code, badSeq.id], [ErrorCode.InvalidValue, 'c-1']);
  const badReading = refusal(line({ type: 'report', id: 'c-1', readings: [...readings, { metric: 'X', value: 1 }], seq: 4 }));
  assert.equal([badReading.code, badReading.id, badReading.index, badReading.seq], [ErrorCode.InvalidValue, 'c-1', 1, 4]);
  assert.is(codeOf({ type: 'report', id: 'c-1', readings: [] }), ErrorCode.InvalidValue);
  assert.ok(accepted({ type: 'report', id: 'c-1', readings }));
});

// §1 hello and "Session rules"

test('hello: v must be a number (400) and 1 (505 otherwise)', () => {
  assert.is(codeOf(hello({ v: undefined })), ErrorCode.BadMessage);
  assert.is(codeOf(hello({ v: '1' })), ErrorCode.BadMessage);
  for (const v of [0, 2, 1.5]) assert.is(codeOf(hello({ v })), ErrorCode.VersionNotSupported, String(v));
  assert.ok(accepted(hello({})));
});

test('hello: sensor and room must be strings (400) that match the sensor id pattern (422); room may be absent', () => {
  assert.is(codeOf(hello({ sensor: undefined })), ErrorCode.BadMessage);
  assert.is(codeOf(hello({ sensor: 7 })), ErrorCode.BadMessage);
  assert.is(codeOf(hello({ room: 7 })), ErrorCode.BadMessage);
  for (const id of ['-rack', '.a', 'a b', 'a/b', '', 'a'.repeat(65), 'räck']) {
    assert.is(codeOf(hello({ sensor: id })), ErrorCode.InvalidValue, `sensor ${id}`);
    assert.is(codeOf(hello({ room: id })), ErrorCode.InvalidValue, `room ${id}`);
  }
  for (const id of ['A', '9', 'rack1.temp:0_a-b', 'a'.repeat(64)]) {
    assert.ok(accepted(hello({ sensor: id, room: id })), id);
  }
});

test('hello: a token must be a string (400); its value is for the hub to judge, not the decoder', () => {
  assert.is(codeOf(hello({ token: 12345 })), ErrorCode.BadMessage);
  assert.ok(accepted(hello({ token: 'anything at all' })));
});

test('hello: declared metrics are checked one by one, and an error names the index of the bad one', () => {
  assert.is(codeOf(hello({ metrics: { metric: 'temperature' } })), ErrorCode.BadMessage);
  const cases: [unknown, number][] = [
    ['temperature', ErrorCode.BadMessage],
    [null, ErrorCode.BadMessage],
    [{ unit: 'C' }, ErrorCode.BadMessage],
    [{ metric: 'Temp', unit: 'C' }, ErrorCode.InvalidValue],
    [{ metric: 'temp', unit: 1 }, ErrorCode.BadMessage],
    [{ metric: 'temp', unit: 'x'.repeat(17) }, ErrorCode.InvalidValue],
    [{ metric: 'temp', unit: '=cmd' }, ErrorCode.InvalidValue],
  ];
  for (const [bad, code] of cases) {
    const error = refusal(line(hello({ metrics: [{ metric: 'humidity', unit: '%' }, bad] })), JSON.stringify(bad));
    assert.equal([error.code, error.index], [code, 1], JSON.stringify(bad));
    assert.match(error.message, 'metrics[1]');
  }
  assert.ok(accepted(hello({ metrics: [] })));
  assert.ok(accepted(hello({ metrics: [{ metric: 'lux' }, { metric: 'co2', unit: 'ppm' }] })), 'a unit may be left out');
});

// §1 ping, bye, error

test('ping: an id may be absent, a string or a number; anything else is 400', () => {
  for (const id of [undefined, 'p-1', 7]) assert.ok(accepted({ type: 'ping', id }), String(id));
  for (const id of [null, {}, [1]]) assert.is(codeOf({ type: 'ping', id }), ErrorCode.BadMessage, JSON.stringify(id));
});

test('bye is accepted whatever else it carries, and decodes to the bare message', () => {
  assert.equal(line({ type: 'bye', reason: 'done', seq: 'x' }), { ok: true, message: { type: 'bye' } });
});

test('an error from a sensor needs a numeric code (400); its id must be a string; a missing message becomes empty', () => {
  assert.is(codeOf({ type: 'error', message: 'x' }), ErrorCode.BadMessage);
  assert.is(codeOf({ type: 'error', code: '501' }), ErrorCode.BadMessage);
  assert.is(codeOf({ type: 'error', code: 501, id: 7 }), ErrorCode.BadMessage);
  assert.equal(line({ type: 'error', code: 501, id: 'c-1' }), { ok: true, message: { type: 'error', code: 501, message: '', id: 'c-1' } });
  assert.equal(line({ type: 'error', code: 501, message: 'unknown command' }), {
    ok: true,
    message: { type: 'error', code: 501, message: 'unknown command' },
  });
});

// §1 Hub to sensor, as a sensor decodes it

test('from the hub: welcome, ack, command and error need their fields (400 without); pong needs none; other types are 400', () => {
  const hub = (m: unknown) => decodeHubLine(JSON.stringify(m));
  assert.ok(hub({ type: 'welcome', v: 1, sensor: 's', time: NOW }).ok);
  assert.ok(hub({ type: 'ack', seq: 3 }).ok);
  assert.ok(hub({ type: 'command', id: 'c-1', command: 'report-now' }).ok);
  assert.ok(hub({ type: 'pong' }).ok);
  assert.ok(hub({ type: 'error', code: 409, message: 'replaced' }).ok);
  for (const m of [
    { type: 'welcome', sensor: 's' },
    { type: 'welcome', time: NOW },
    { type: 'ack' },
    { type: 'ack', seq: '3' },
    { type: 'command', id: 'c-1' },
    { type: 'command', command: 'report-now' },
    { type: 'error', message: 'x' },
    { type: 'hello', v: 1, sensor: 's' },
  ]) {
    assert.is(refusal(hub(m), JSON.stringify(m)).code, ErrorCode.BadMessage, JSON.stringify(m));
  }
  assert.is(refusal(decodeHubLine('not json')).code, ErrorCode.BadMessage);
});

test.run();
