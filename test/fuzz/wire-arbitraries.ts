/**
 * Arbitraries for the decoder fuzz (decode.test.ts): any message of any type with fields that are
 * valid, hostile (names of Object.prototype) or of the wrong type; numbers JSON can carry but
 * JSON.stringify cannot make; and valid sensor and hub messages for the round trips.
 */
import fc from 'fast-check';
import type { HubMessage, SensorMessage } from '../../protocol/messages.ts';
import {
  CONTRACT_MAX_UNIT_CHARS,
  CONTRACT_METRIC,
  CONTRACT_MIN_TS,
  CONTRACT_SENSOR_ID,
  FORMULA_FIRST_CHARS,
  HOSTILE_NAMES,
  nameArb,
  unitAllowed,
} from './fuzz-support.ts';

/** The hub clock of the decoder fuzz. */
export const NOW = Date.UTC(2026, 0, 15, 12);

// Numbers JSON can carry but JSON.stringify cannot make: overflow to ±Infinity, underflow, -0, huge integers.
const RAW_NUMBERS = ['1e999', '-1e999', '1e-400', '-0', '123456789012345678901234567890', '9007199254740993', '1.0', '2e3'];
const RAW = '\u0000RAW:';
const rawNumber = fc.constantFrom(...RAW_NUMBERS).map((n) => RAW + n);
/** JSON text for a value, with the raw-number markers replaced by the numbers themselves. */
export const toLine = (v: unknown): string => JSON.stringify(v).replace(/"\\u0000RAW:([^"]*)"/g, '$1');

// ---------------------------------------------------------------- arbitraries

const anyValue = fc.oneof(
  fc.double(),
  fc.integer(),
  fc.string({ maxLength: 20 }),
  fc.constant(null),
  fc.boolean(),
  rawNumber,
  fc.jsonValue({ maxDepth: 2 }),
);
const tsArb = fc.oneof(
  fc.integer({ min: CONTRACT_MIN_TS - 10, max: NOW + 2 * 86_400_000 }),
  fc.constantFrom(CONTRACT_MIN_TS, CONTRACT_MIN_TS - 1, NOW + 86_400_000, NOW + 86_400_001, 0, -1, 1.5, 2 ** 53, 1e300),
  anyValue,
);
const seqArb = fc.oneof(fc.nat(), fc.constantFrom(0, -1, 0.5, 2 ** 53 - 1, 2 ** 53, 1e300, '3', null), anyValue);
const unitArb = fc.oneof(
  fc.string({ maxLength: CONTRACT_MAX_UNIT_CHARS + 3 }),
  fc.tuple(fc.constantFrom(...FORMULA_FIRST_CHARS), fc.string({ maxLength: 6 })).map(([first, rest]) => first + rest),
  fc.string({ minLength: 15, maxLength: 18, unit: 'grapheme' }),
  fc.constantFrom(...HOSTILE_NAMES),
  anyValue,
);
const metricArb = fc.oneof(
  { weight: 4, arbitrary: nameArb(CONTRACT_METRIC, ['temperature', 'humidity', 'cpu_load', 'pressure']) },
  anyValue,
);
const sensorArb = fc.oneof({ weight: 4, arbitrary: nameArb(CONTRACT_SENSOR_ID, ['rack1', 'lab-2', 'a.b:c_d']) }, anyValue);

/** A reading-like object: each field present or not, valid-looking or not, plus hostile extra keys. */
const readingArb = fc
  .record(
    { metric: metricArb, value: fc.oneof(fc.double(), fc.integer(), rawNumber, anyValue), unit: unitArb, ts: tsArb },
    { requiredKeys: [] },
  )
  .chain((r) => fc.dictionary(fc.constantFrom(...HOSTILE_NAMES), anyValue, { maxKeys: 3 }).map((extra) => ({ ...extra, ...r })));
const readingsArb = fc.oneof(fc.array(readingArb, { minLength: 0, maxLength: 5 }), anyValue);
const typeArb = fc.oneof(
  { weight: 6, arbitrary: fc.constantFrom('hello', 'reading', 'batch', 'report', 'ping', 'bye', 'error') },
  { weight: 2, arbitrary: fc.constantFrom(...HOSTILE_NAMES) },
  { weight: 1, arbitrary: fc.string({ maxLength: 10 }) },
);

/** Any message of any type, fields drawn from all of the above. */
export const messageArb = fc
  .record(
    {
      type: typeArb,
      seq: seqArb,
      readings: readingsArb,
      id: fc.oneof(fc.string({ maxLength: 8 }), anyValue),
      v: fc.oneof(fc.constant(1), fc.constantFrom(2, 0, '1', 1.5), anyValue),
      sensor: sensorArb,
      room: sensorArb,
      token: fc.oneof(fc.string({ maxLength: 8 }), anyValue),
      metrics: fc.oneof(fc.array(fc.record({ metric: metricArb, unit: unitArb }, { requiredKeys: [] }), { maxLength: 3 }), anyValue),
      code: fc.oneof(fc.constantFrom(501, 400), anyValue),
      message: anyValue,
    },
    { requiredKeys: ['type'] },
  )
  .chain((m) => readingArb.map((r) => (m.type === 'reading' ? { ...r, ...m } : m)));

const validReading = fc.record(
  {
    metric: fc.stringMatching(CONTRACT_METRIC),
    value: fc.double({ noNaN: true, noDefaultInfinity: true }),
    unit: fc.string({ maxLength: CONTRACT_MAX_UNIT_CHARS, unit: 'grapheme' }).filter(unitAllowed),
    ts: fc.integer({ min: CONTRACT_MIN_TS, max: NOW + 86_400_000 }),
  },
  { requiredKeys: ['metric', 'value'] },
);
const validSeq = fc.option(fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }), { nil: undefined });
const withSeq = <T extends object>(m: T, seq: number | undefined): T => (seq === undefined ? m : { ...m, seq });

export const validMessage: fc.Arbitrary<SensorMessage> = fc.oneof(
  fc.tuple(validReading, validSeq).map(([r, seq]) => withSeq({ type: 'reading' as const, ...r }, seq)),
  fc
    .tuple(fc.array(validReading, { minLength: 1, maxLength: 20 }), validSeq)
    .map(([readings, seq]) => withSeq({ type: 'batch' as const, readings }, seq)),
  fc
    .tuple(fc.string({ maxLength: 12 }), fc.array(validReading, { minLength: 1, maxLength: 5 }), validSeq)
    .map(([id, readings, seq]) => withSeq({ type: 'report' as const, id, readings }, seq)),
  fc
    .record(
      {
        sensor: fc.stringMatching(CONTRACT_SENSOR_ID),
        room: fc.stringMatching(CONTRACT_SENSOR_ID),
        token: fc.string({ maxLength: 20 }),
        metrics: fc.array(
          fc.record({ metric: fc.stringMatching(CONTRACT_METRIC), unit: fc.string({ maxLength: 16 }).filter(unitAllowed) }),
          { maxLength: 4 },
        ),
      },
      { requiredKeys: ['sensor'] },
    )
    .map((h) => ({ type: 'hello' as const, v: 1, ...h })),
  fc
    .option(fc.oneof(fc.string({ maxLength: 8 }), fc.integer()), { nil: undefined })
    .map((id) => (id === undefined ? { type: 'ping' as const } : { type: 'ping' as const, id })),
  fc.constant({ type: 'bye' as const }),
  fc
    .record(
      { code: fc.integer({ min: 400, max: 599 }), message: fc.string({ maxLength: 30 }), id: fc.string({ maxLength: 8 }) },
      { requiredKeys: ['code', 'message'] },
    )
    .map((e) => ({ type: 'error' as const, ...e })),
);

export const validHubMessage: fc.Arbitrary<HubMessage> = fc.oneof(
  fc
    .record({ sensor: fc.stringMatching(CONTRACT_SENSOR_ID), time: fc.nat() })
    .map((w) => ({ type: 'welcome' as const, v: 1 as const, ...w })),
  fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }).map((seq) => ({ type: 'ack' as const, seq })),
  fc.string({ maxLength: 12 }).map((id) => ({ type: 'command' as const, id, command: 'report-now' as const })),
  fc
    .record({ time: fc.nat(), id: fc.oneof(fc.string({ maxLength: 8 }), fc.integer()) }, { requiredKeys: ['time'] })
    .map((p) => ({ type: 'pong' as const, ...p })),
  fc
    .record(
      {
        code: fc.constantFrom(400, 401, 403, 404, 409, 413, 422, 429, 500, 503, 505),
        message: fc.string({ maxLength: 30 }),
        seq: fc.nat(),
        index: fc.nat(),
        id: fc.string({ maxLength: 8 }),
      },
      { requiredKeys: ['code', 'message'] },
    )
    .map((e) => ({ type: 'error' as const, ...e })),
);
