/**
 * An independent reading of the contract's message rules (PROTOCOL.md §1 "Names and values",
 * "Sensor to hub", "Error codes"), for the decoder fuzz: for any parsed message, the error codes
 * the contract allows for it (empty: the message is valid). Written from the contract, not from
 * protocol/decode.ts, so the two can disagree and the fuzz can tell.
 */
import {
  CONTRACT_MAX_FUTURE_MS,
  CONTRACT_MAX_SEQ,
  CONTRACT_METRIC,
  CONTRACT_MIN_TS,
  CONTRACT_SENSOR_ID,
  unitAllowed,
} from './fuzz-support.ts';

type Json = Record<string, unknown>;
export type Codes = Set<number>;

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The problems of one reading: 400 for a wrong type, 422 for a broken rule. */
export function readingCodes(r: unknown, nowMs: number): Codes {
  const codes: Codes = new Set();
  if (!isObject(r)) return new Set([400]);
  const { metric, value, unit, ts } = r;
  if (typeof metric !== 'string') codes.add(400);
  else if (!CONTRACT_METRIC.test(metric)) codes.add(422);
  if (typeof value !== 'number') codes.add(400);
  else if (!Number.isFinite(value)) codes.add(422);
  if (unit !== undefined) {
    if (typeof unit !== 'string') codes.add(400);
    else if (!unitAllowed(unit)) codes.add(422);
  }
  if (ts !== undefined) {
    if (typeof ts !== 'number') codes.add(400);
    else if (!Number.isInteger(ts) || ts < CONTRACT_MIN_TS || ts > nowMs + CONTRACT_MAX_FUTURE_MS) codes.add(422);
  }
  return codes;
}

export function seqCodes(seq: unknown): Codes {
  if (seq === undefined) return new Set();
  if (typeof seq !== 'number') return new Set([400]);
  if (!Number.isInteger(seq) || seq < 0 || seq > CONTRACT_MAX_SEQ) return new Set([422]);
  return new Set();
}

/** The index of the first bad reading of a list, or -1; and the codes for the list. */
export function readingsCodes(readings: unknown, nowMs: number): { codes: Codes; firstBad: number } {
  if (!Array.isArray(readings)) return { codes: new Set([400]), firstBad: -1 };
  if (readings.length === 0 || readings.length > 10_000) return { codes: new Set([422]), firstBad: -1 };
  const firstBad = readings.findIndex((r) => readingCodes(r, nowMs).size > 0);
  // "all-or-nothing: one invalid reading rejects the whole batch (error 422 with index)"
  return { codes: firstBad >= 0 ? new Set([422]) : new Set(), firstBad };
}

function helloCodes(m: Json): Codes {
  const codes: Codes = new Set();
  if (typeof m.v !== 'number') codes.add(400);
  else if (m.v !== 1) codes.add(505);
  if (typeof m.sensor !== 'string') codes.add(400);
  else if (!CONTRACT_SENSOR_ID.test(m.sensor)) codes.add(422);
  if (m.room !== undefined) {
    if (typeof m.room !== 'string') codes.add(400);
    else if (!CONTRACT_SENSOR_ID.test(m.room)) codes.add(422);
  }
  if (m.token !== undefined && typeof m.token !== 'string') codes.add(400);
  if (m.metrics !== undefined) {
    if (!Array.isArray(m.metrics)) codes.add(400);
    else
      for (const d of m.metrics as unknown[]) {
        if (!isObject(d) || typeof d.metric !== 'string') codes.add(400);
        else {
          if (!CONTRACT_METRIC.test(d.metric)) codes.add(422);
          if (d.unit !== undefined && typeof d.unit !== 'string') codes.add(400);
          else if (typeof d.unit === 'string' && !unitAllowed(d.unit)) codes.add(422);
        }
      }
  }
  return codes;
}

const union = (...sets: Codes[]): Codes => new Set(sets.flatMap((s) => [...s]));

/** The codes the contract allows as the answer to a parsed line with a string `type`. */
export function messageCodes(m: Json & { type: string }, nowMs: number): Codes {
  switch (m.type) {
    case 'reading':
      return union(seqCodes(m.seq), readingCodes(m, nowMs));
    case 'batch':
      return union(seqCodes(m.seq), readingsCodes(m.readings, nowMs).codes);
    case 'report':
      return union(typeof m.id === 'string' ? new Set() : new Set([400]), seqCodes(m.seq), readingsCodes(m.readings, nowMs).codes);
    case 'hello':
      return helloCodes(m);
    case 'ping':
      return m.id === undefined || typeof m.id === 'string' || typeof m.id === 'number' ? new Set() : new Set([400]);
    case 'bye':
      return new Set();
    case 'error':
      return union(
        typeof m.code === 'number' ? new Set() : new Set([400]),
        m.id === undefined || typeof m.id === 'string' ? new Set() : new Set([400]),
      );
    default:
      return new Set([400]); // unknown type
  }
}
