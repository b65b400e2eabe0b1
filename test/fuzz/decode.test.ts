// Property-based fuzz of the sensor-line decoder (protocol/decode.ts) against the contract,
// PROTOCOL.md §1 "Framing", "Names and values", "Sensor to hub" and "Error codes": any line gives
// a message or one of the contract's errors, never a throw; valid messages round-trip; every name
// of Object.prototype in every name field gives the answer its pattern calls for.
import fc from 'fast-check';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { checkSensorMessage, decodeHubLine, decodeSensorLine, parseJsonObject, type Decoded } from '../../protocol/decode.ts';
import { encodeLine, type SensorMessage } from '../../protocol/messages.ts';
import { defaultUnit } from '../../protocol/names.ts';
import { CONTRACT_METRIC, CONTRACT_SENSOR_ID, HOSTILE_NAMES, PROTOTYPE_NAMES, check, unitAllowed } from './fuzz-support.ts';
import { messageCodes, readingsCodes, seqCodes } from './wire-oracle.ts';
import { NOW, messageArb, toLine, validHubMessage, validMessage } from './wire-arbitraries.ts';

const DECODER_CODES = new Set([400, 422, 505]);
const prototypeNamesBefore = Object.getOwnPropertyNames(Object.prototype).sort();

/** Decodes a line the way the hub does, and fails the property if it throws. */
function decode(line: string): Decoded<SensorMessage> {
  try {
    return decodeSensorLine(line, NOW);
  } catch (err) {
    throw new Error(`decodeSensorLine threw on ${JSON.stringify(line.slice(0, 300))}: ${(err as Error).stack}`);
  }
}

function assertContractAnswer(line: string, d: Decoded<SensorMessage>): void {
  if (d.ok) return;
  assert.ok(DECODER_CODES.has(d.error.code), `code ${d.error.code} for ${line.slice(0, 200)} is not a decoder code of the contract`);
  assert.type(d.error.message, 'string');
  assert.ok(d.error.message.length > 0, 'an error says what is wrong');
}

// ---------------------------------------------------------------- never throws

test('any string as a line gives a message or a 400/422/505 error, never a throw', async () => {
  // §1 Framing: "A line that is not JSON, not an object, or has an unknown type gets error 400"
  const lines = fc.oneof(
    fc.string({ maxLength: 200, unit: 'binary' }),
    fc.string({ maxLength: 200, unit: fc.constantFrom(...'{}[]":,0123456789.eE-+ tnrufals\\'.split('')) }),
    fc.json({ maxDepth: 3 }),
  );
  await check(
    'decodeSensorLine(any string)',
    fc.property(lines, (line) => {
      const parsed = parseJsonObject(line);
      if (!parsed.ok) assert.is(parsed.error.code, 400, `parseJsonObject code for ${line.slice(0, 100)}`);
      assertContractAnswer(line, decode(line));
    }),
    { seed: 80101, numRuns: 3000 },
  );
});

test('any JSON value as a line gives a message or a contract error, and a non-object is 400', async () => {
  // §1 Framing: every message is an object with a string field "type"
  await check(
    'decodeSensorLine(any JSON value)',
    fc.property(fc.jsonValue({ maxDepth: 4 }), (value) => {
      const line = JSON.stringify(value);
      const d = decode(line);
      assertContractAnswer(line, d);
      const isTypedObject =
        typeof value === 'object' && value !== null && !Array.isArray(value) && typeof (value as { type?: unknown }).type === 'string';
      if (!isTypedObject) assert.is(d.ok ? 'ok' : d.error.code, 400, `answer to ${line.slice(0, 100)}`);
    }),
    { seed: 80102, numRuns: 2000 },
  );
});

test('every message agrees with an independent reading of the contract: valid when it breaks no rule, else one of the codes its problems call for', async () => {
  // §1 Names and values; Sensor to hub; Error codes (400 wrong type, 422 broken rule, 505 version)
  await check(
    'checkSensorMessage(structured messages) against the contract oracle',
    fc.property(messageArb, (m) => {
      const line = toLine(m);
      const d = decode(line);
      const parsed = JSON.parse(line) as Record<string, unknown> & { type: string };
      const allowed = messageCodes(parsed, NOW);
      if (allowed.size === 0) {
        assert.ok(d.ok, `valid by the contract but refused: ${line.slice(0, 300)} -> ${JSON.stringify(d.ok ? null : d.error)}`);
        return;
      }
      assert.not.ok(d.ok, `invalid by the contract (codes ${[...allowed].join(', ')}) but accepted: ${line.slice(0, 300)}`);
      if (d.ok) return;
      assert.ok(
        allowed.has(d.error.code),
        `code ${d.error.code} for ${line.slice(0, 300)}; the contract calls for one of ${[...allowed].join(', ')}`,
      );
      // An error names the seq only when that seq is itself valid, so a sensor can match it.
      if (d.error.seq !== undefined) assert.is(seqCodes(parsed.seq).size, 0, `error carries seq ${d.error.seq}, which is invalid`);
      // The index of a batch error is the first bad reading.
      if (d.error.index !== undefined && (parsed.type === 'batch' || parsed.type === 'report')) {
        assert.is(d.error.index, readingsCodes(parsed.readings, NOW).firstBad, `index for ${line.slice(0, 300)}`);
      }
    }),
    { seed: 80103, numRuns: 4000 },
  );
});

// ---------------------------------------------------------------- round trips

test('a valid sensor message survives the round trip through its line unchanged', async () => {
  // §1 Framing: one JSON object per line; a valid message is accepted as sent
  await check(
    'decodeSensorLine(encodeLine(valid message))',
    fc.property(validMessage, (m) => {
      const line = encodeLine(m);
      assert.ok(line.endsWith('\n') && !line.slice(0, -1).includes('\n'), 'one line');
      const d = decode(line.slice(0, -1));
      assert.ok(d.ok, `refused: ${line} -> ${JSON.stringify(d.ok ? null : d.error)}`);
      if (d.ok) assert.equal(d.message, JSON.parse(line));
    }),
    { seed: 80104, numRuns: 2000 },
  );
});

test('a hub message survives the round trip through its line, and any string decodes without a throw on the sensor side', async () => {
  // §1 Hub to sensor: the simulator and CLI decode what any hub sends
  await check(
    'decodeHubLine(encodeLine(hub message))',
    fc.property(validHubMessage, fc.string({ maxLength: 100, unit: 'binary' }), (m, junk) => {
      const d = decodeHubLine(encodeLine(m).slice(0, -1));
      assert.ok(d.ok, `refused: ${JSON.stringify(m)}`);
      if (d.ok) assert.equal(d.message, m);
      const j = decodeHubLine(junk);
      if (!j.ok) assert.is(j.error.code, 400);
    }),
    { seed: 80105, numRuns: 1500 },
  );
});

// ---------------------------------------------------------------- names of Object.prototype

type Place = { field: string; build: (name: string) => Record<string, unknown>; valid: (name: string) => boolean; refusedWith: number };
const metricValid = (n: string) => CONTRACT_METRIC.test(n);
const idValid = (n: string) => CONTRACT_SENSOR_ID.test(n);
const unitValid = unitAllowed;
const ts = NOW - 1000;

const PLACES: Place[] = [
  { field: 'type', build: (n) => ({ type: n, metric: 'temperature', value: 1 }), valid: () => false, refusedWith: 400 },
  { field: 'reading metric', build: (n) => ({ type: 'reading', metric: n, value: 1, ts, seq: 1 }), valid: metricValid, refusedWith: 422 },
  {
    field: 'reading unit',
    build: (n) => ({ type: 'reading', metric: 'temperature', value: 1, unit: n, seq: 1 }),
    valid: unitValid,
    refusedWith: 422,
  },
  {
    field: 'batch reading metric',
    build: (n) => ({
      type: 'batch',
      readings: [
        { metric: 'humidity', value: 2 },
        { metric: n, value: 1 },
      ],
      seq: 2,
    }),
    valid: metricValid,
    refusedWith: 422,
  },
  {
    field: 'batch reading unit',
    build: (n) => ({ type: 'batch', readings: [{ metric: 'humidity', value: 2, unit: n }] }),
    valid: unitValid,
    refusedWith: 422,
  },
  {
    field: 'report reading metric',
    build: (n) => ({ type: 'report', id: n, readings: [{ metric: n, value: 1 }] }),
    valid: metricValid,
    refusedWith: 422,
  },
  { field: 'hello sensor', build: (n) => ({ type: 'hello', v: 1, sensor: n }), valid: idValid, refusedWith: 422 },
  { field: 'hello room', build: (n) => ({ type: 'hello', v: 1, sensor: 'rack1', room: n }), valid: idValid, refusedWith: 422 },
  { field: 'hello token', build: (n) => ({ type: 'hello', v: 1, sensor: 'rack1', token: n }), valid: () => true, refusedWith: 0 },
  {
    field: 'hello metrics[].metric',
    build: (n) => ({ type: 'hello', v: 1, sensor: 'rack1', metrics: [{ metric: n }] }),
    valid: metricValid,
    refusedWith: 422,
  },
  {
    field: 'hello metrics[].unit',
    build: (n) => ({ type: 'hello', v: 1, sensor: 'rack1', metrics: [{ metric: 'pressure', unit: n }] }),
    valid: unitValid,
    refusedWith: 422,
  },
  { field: 'ping id', build: (n) => ({ type: 'ping', id: n }), valid: () => true, refusedWith: 0 },
  { field: 'error id', build: (n) => ({ type: 'error', code: 501, message: n, id: n }), valid: () => true, refusedWith: 0 },
];

test("every name of Object.prototype in every name field gives a clean answer: valid where the pattern allows it, else the field's error", () => {
  // §1 Names and values: constructor, prototype and to_string are valid metrics; __proto__ and toString are not
  const wrong: string[] = [];
  for (const place of PLACES)
    for (const name of HOSTILE_NAMES) {
      const line = JSON.stringify(place.build(name));
      const d = decode(line);
      const expected = place.valid(name) ? 'ok' : place.refusedWith;
      const got = d.ok ? 'ok' : d.error.code;
      if (got !== expected) wrong.push(`${place.field} = ${JSON.stringify(name)}: expected ${expected}, got ${got} (${line})`);
    }
  assert.equal(wrong, [], wrong.join('\n'));
  // A sanity check on the list itself: the pattern does allow some of these.
  for (const n of ['constructor', 'prototype', 'to_string', 'has_own_property', 'value_of'])
    assert.ok(HOSTILE_NAMES.includes(n) && metricValid(n), n);
});

test('every name of Object.prototype as a key of a reading, a batch reading or a hello is ignored like any unknown field', async () => {
  // §1 Sensor to hub: fields are named; unknown fields do not change a valid message
  const cases = PROTOTYPE_NAMES.flatMap((key) => [
    `{"type":"reading","metric":"temperature","value":1,"seq":1,${JSON.stringify(key)}:{"metric":"x"}}`,
    `{"type":"batch","readings":[{"metric":"temperature","value":1,${JSON.stringify(key)}:null}],"seq":1}`,
    `{"type":"hello","v":1,"sensor":"rack1","metrics":[{"metric":"pressure",${JSON.stringify(key)}:"hPa"}],${JSON.stringify(key)}:1}`,
  ]);
  for (const line of cases) {
    const d = decode(line);
    assert.ok(d.ok, `refused: ${line} -> ${JSON.stringify(d.ok ? null : d.error)}`);
  }
  // A "__proto__" key of JSON is an own field, never the object's prototype: a reading that has
  // its metric and value only there has none.
  const d = decode('{"type":"reading","__proto__":{"metric":"temperature","value":1}}');
  assert.is(d.ok ? 'ok' : d.error.code, 400);
  await Promise.resolve();
});

test('the unit a reading without one gets is a string for every name of Object.prototype', () => {
  // §1 Names and values: unit absent → declared, else well-known, else empty
  for (const name of HOSTILE_NAMES) {
    for (const unit of [defaultUnit(name), defaultUnit(name, new Map())]) {
      assert.type(unit, 'string', `defaultUnit(${JSON.stringify(name)})`);
      assert.is(unit, '', `defaultUnit(${JSON.stringify(name)}) is empty: no well-known unit`);
    }
  }
});

test('decoding never changes Object.prototype', () => {
  // A decoder that assigned input keys onto a shared object could pollute every object of the hub.
  for (const name of PROTOTYPE_NAMES) {
    checkSensorMessage(
      { type: 'hello', v: 1, sensor: 'rack1', metrics: [{ metric: 'pressure', unit: 'hPa' }], [name]: { polluted: 1 } },
      NOW,
    );
    decode(`{"type":"hello","v":1,"sensor":"rack1",${JSON.stringify(name)}:{"polluted":1}}`);
  }
  assert.equal(Object.getOwnPropertyNames(Object.prototype).sort(), prototypeNamesBefore);
  assert.is(({} as Record<string, unknown>).polluted, undefined);
});

test.run();
