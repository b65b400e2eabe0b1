/**
 * Turns one line of the sensor protocol into a checked message, or into the contract's
 * error for it (PROTOCOL.md §1). A wrong type is 400; a well-typed value that breaks a rule
 * of "Names and values" is 422. Validation mutates nothing and copies nothing on the hot path:
 * a valid message is the parsed object itself.
 */
import { ErrorCode } from './codes.ts';
import type { CommandId, HubMessage, ReadingInput, SensorMessage } from './messages.ts';
import {
  MAX_BATCH_READINGS,
  MAX_FUTURE_MS,
  MAX_SEQ,
  MIN_TS_MS,
  PROTOCOL_VERSION,
  isMetric,
  isRoom,
  isSensorId,
  tsProblem,
  unitProblem,
} from './names.ts';

export interface WireError {
  code: ErrorCode;
  message: string;
  seq?: number;
  index?: number;
  id?: CommandId;
}

export type Decoded<T> = { ok: true; message: T } | { ok: false; error: WireError };

type Json = Record<string, unknown>;

function fail(code: ErrorCode, message: string, extra?: Partial<WireError>): { ok: false; error: WireError } {
  return { ok: false, error: { code, message, ...extra } };
}

export function parseJsonObject(line: string): Decoded<Json & { type: string }> {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return fail(ErrorCode.BadMessage, 'not JSON: send one JSON object per line');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    return fail(ErrorCode.BadMessage, 'not a JSON object: every message is an object with a string field "type"');
  }
  const type = (value as Json).type;
  if (typeof type !== 'string') {
    return fail(ErrorCode.BadMessage, 'missing string field "type"');
  }
  return { ok: true, message: value as Json & { type: string } };
}

/** A problem with one reading, or null. Used for `reading`, batch elements and report elements. */
export function readingProblem(r: unknown, nowMs: number): { code: ErrorCode; message: string } | null {
  if (typeof r !== 'object' || r === null || Array.isArray(r)) {
    return { code: ErrorCode.BadMessage, message: 'a reading must be an object with "metric" and "value"' };
  }
  const { metric, value, unit, ts } = r as Json;
  if (typeof metric !== 'string') return { code: ErrorCode.BadMessage, message: '"metric" must be a string' };
  if (!isMetric(metric)) {
    return { code: ErrorCode.InvalidValue, message: `metric "${clip(metric)}" must match ^[a-z][a-z0-9_]{0,63}$` };
  }
  if (typeof value !== 'number') return { code: ErrorCode.BadMessage, message: '"value" must be a JSON number' };
  if (!Number.isFinite(value)) return { code: ErrorCode.InvalidValue, message: '"value" must be finite' };
  if (unit !== undefined) {
    if (typeof unit !== 'string') return { code: ErrorCode.BadMessage, message: '"unit" must be a string' };
    const problem = unitProblem(unit);
    if (problem !== null) return { code: ErrorCode.InvalidValue, message: problem };
  }
  if (ts !== undefined) {
    if (typeof ts !== 'number') return { code: ErrorCode.BadMessage, message: '"ts" must be integer milliseconds' };
    const problem = tsProblem(ts, nowMs);
    if (problem) return { code: ErrorCode.InvalidValue, message: problem };
  }
  return null;
}

function seqProblem(seq: unknown): { code: ErrorCode; message: string } | null {
  if (seq === undefined) return null;
  if (typeof seq !== 'number') return { code: ErrorCode.BadMessage, message: '"seq" must be an integer' };
  if (!Number.isInteger(seq) || seq < 0 || seq > MAX_SEQ) {
    return { code: ErrorCode.InvalidValue, message: '"seq" must be an integer from 0 to 2^53-1' };
  }
  return null;
}

function readingsProblem(readings: unknown, nowMs: number): WireError | null {
  if (!Array.isArray(readings)) return { code: ErrorCode.BadMessage, message: '"readings" must be an array' };
  if (readings.length === 0) return { code: ErrorCode.InvalidValue, message: '"readings" is empty' };
  if (readings.length > MAX_BATCH_READINGS) {
    return { code: ErrorCode.InvalidValue, message: `"readings" has ${readings.length} items; at most ${MAX_BATCH_READINGS}` };
  }
  for (let i = 0; i < readings.length; i++) {
    const problem = readingProblem(readings[i], nowMs);
    // One bad reading rejects the whole batch, and the contract names 422 with its index for that.
    if (problem) return { code: ErrorCode.InvalidValue, message: `reading ${i}: ${problem.message}`, index: i };
  }
  return null;
}

/**
 * A reading that breaks no rule, checked in one expression that allocates nothing: the hot
 * path, run for every reading. False does not mean invalid: readingProblem then says what is
 * wrong, or that it is fine after all. It must never accept what readingProblem refuses (the
 * fuzz test holds the two to the contract's oracle).
 */
function isValidReading(r: unknown, nowMs: number): boolean {
  if (typeof r !== 'object' || r === null) return false;
  const { metric, value, unit, ts } = r as Json;
  return (
    typeof value === 'number' &&
    value - value === 0 && // finite: Infinity - Infinity and NaN - NaN are NaN
    (ts === undefined || (typeof ts === 'number' && Number.isInteger(ts) && ts >= MIN_TS_MS && ts <= nowMs + MAX_FUTURE_MS)) &&
    (unit === undefined || (typeof unit === 'string' && unitProblem(unit) === null)) &&
    typeof metric === 'string' &&
    isMetric(metric) &&
    !Array.isArray(r)
  );
}

function isValidSeq(seq: unknown): boolean {
  return seq === undefined || (typeof seq === 'number' && Number.isInteger(seq) && seq >= 0 && seq <= MAX_SEQ);
}

function areValidReadings(readings: unknown, nowMs: number): boolean {
  if (!Array.isArray(readings) || readings.length === 0 || readings.length > MAX_BATCH_READINGS) return false;
  for (let i = 0; i < readings.length; i++) if (!isValidReading(readings[i], nowMs)) return false;
  return true;
}

/** Checks a parsed sensor-to-hub message. `nowMs` is the hub clock, for the ts bound. */
export function checkSensorMessage(m: Json & { type: string }, nowMs: number): Decoded<SensorMessage> {
  // Readings and batches that break no rule (nearly all of them) pass here; anything else is
  // looked at in full, for the error the contract names.
  const type = m.type;
  if (
    type === 'batch'
      ? isValidSeq(m.seq) && areValidReadings(m.readings, nowMs)
      : type === 'reading' && isValidSeq(m.seq) && isValidReading(m, nowMs)
  )
    return { ok: true, message: m as unknown as SensorMessage };
  return checkInFull(m, nowMs);
}

function checkInFull(m: Json & { type: string }, nowMs: number): Decoded<SensorMessage> {
  const seqError = seqProblem(m.seq);
  // Errors carry the seq only when it is itself valid, so a sensor can match error to message.
  const withSeq = seqError === null && m.seq !== undefined ? { seq: m.seq as number } : undefined;
  switch (m.type) {
    case 'reading': {
      if (seqError) return fail(seqError.code, seqError.message);
      const problem = readingProblem(m, nowMs);
      if (problem) return fail(problem.code, problem.message, withSeq);
      return { ok: true, message: m as unknown as SensorMessage };
    }
    case 'batch': {
      if (seqError) return fail(seqError.code, seqError.message);
      const problem = readingsProblem(m.readings, nowMs);
      if (problem)
        return fail(problem.code, problem.message, { ...withSeq, ...(problem.index !== undefined ? { index: problem.index } : {}) });
      return { ok: true, message: m as unknown as SensorMessage };
    }
    case 'report': {
      if (typeof m.id !== 'string') return fail(ErrorCode.BadMessage, '"id" must be the command id (a string)', withSeq);
      if (seqError) return fail(seqError.code, seqError.message, { id: m.id });
      const problem = readingsProblem(m.readings, nowMs);
      if (problem)
        return fail(problem.code, problem.message, {
          ...withSeq,
          id: m.id,
          ...(problem.index !== undefined ? { index: problem.index } : {}),
        });
      return { ok: true, message: m as unknown as SensorMessage };
    }
    case 'hello':
      return checkHello(m);
    case 'ping':
      if (m.id !== undefined && typeof m.id !== 'string' && typeof m.id !== 'number') {
        return fail(ErrorCode.BadMessage, '"id" must be a string or a number');
      }
      return { ok: true, message: m as unknown as SensorMessage };
    case 'bye':
      return { ok: true, message: { type: 'bye' } };
    case 'error':
      if (typeof m.code !== 'number') return fail(ErrorCode.BadMessage, '"code" must be a number');
      if (m.id !== undefined && typeof m.id !== 'string') return fail(ErrorCode.BadMessage, '"id" must be a string');
      return {
        ok: true,
        message: {
          type: 'error',
          code: m.code,
          message: typeof m.message === 'string' ? m.message : '',
          ...(m.id !== undefined ? { id: m.id } : {}),
        },
      };
    default:
      return fail(ErrorCode.BadMessage, `unknown type "${clip(m.type)}"`);
  }
}

function checkHello(m: Json): Decoded<SensorMessage> {
  if (typeof m.v !== 'number') return fail(ErrorCode.BadMessage, '"v" must be the protocol version, 1');
  if (m.v !== PROTOCOL_VERSION) return fail(ErrorCode.VersionNotSupported, `protocol version ${m.v} is not supported; this hub speaks 1`);
  if (typeof m.sensor !== 'string') return fail(ErrorCode.BadMessage, '"sensor" must be a string');
  if (!isSensorId(m.sensor))
    return fail(ErrorCode.InvalidValue, `sensor id "${clip(m.sensor)}" must match ^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$`);
  if (m.room !== undefined) {
    if (typeof m.room !== 'string') return fail(ErrorCode.BadMessage, '"room" must be a string');
    if (!isRoom(m.room)) return fail(ErrorCode.InvalidValue, `room "${clip(m.room)}" must match ^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$`);
  }
  if (m.token !== undefined && typeof m.token !== 'string') return fail(ErrorCode.BadMessage, '"token" must be a string');
  if (m.metrics !== undefined) {
    if (!Array.isArray(m.metrics)) return fail(ErrorCode.BadMessage, '"metrics" must be an array of {"metric","unit"}');
    for (let i = 0; i < m.metrics.length; i++) {
      const d = m.metrics[i] as Json | null;
      if (typeof d !== 'object' || d === null || typeof d.metric !== 'string') {
        return fail(ErrorCode.BadMessage, `metrics[${i}] must be an object {"metric","unit"}`, { index: i });
      }
      if (!isMetric(d.metric))
        return fail(ErrorCode.InvalidValue, `metrics[${i}]: metric "${clip(d.metric)}" must match ^[a-z][a-z0-9_]{0,63}$`, { index: i });
      if (d.unit !== undefined && typeof d.unit !== 'string')
        return fail(ErrorCode.BadMessage, `metrics[${i}]: "unit" must be a string`, { index: i });
      const problem = d.unit === undefined ? null : unitProblem(d.unit);
      if (problem !== null) return fail(ErrorCode.InvalidValue, `metrics[${i}]: ${problem}`, { index: i });
    }
  }
  return { ok: true, message: m as unknown as SensorMessage };
}

/** Parses and checks one line from a sensor. */
export function decodeSensorLine(line: string, nowMs: number): Decoded<SensorMessage> {
  const parsed = parseJsonObject(line);
  if (!parsed.ok) return parsed;
  return checkSensorMessage(parsed.message, nowMs);
}

/** Parses one line from a hub, for sensors and test clients. Unknown types are refused. */
export function decodeHubLine(line: string): Decoded<HubMessage> {
  const parsed = parseJsonObject(line);
  if (!parsed.ok) return parsed;
  const m = parsed.message;
  switch (m.type) {
    case 'welcome':
      return typeof m.sensor === 'string' && typeof m.time === 'number'
        ? { ok: true, message: m as unknown as HubMessage }
        : fail(ErrorCode.BadMessage, 'welcome needs "sensor" and "time"');
    case 'ack':
      return typeof m.seq === 'number' ? { ok: true, message: m as unknown as HubMessage } : fail(ErrorCode.BadMessage, 'ack needs "seq"');
    case 'command':
      return typeof m.id === 'string' && typeof m.command === 'string'
        ? { ok: true, message: m as unknown as HubMessage }
        : fail(ErrorCode.BadMessage, 'command needs "id" and "command"');
    case 'pong':
      return { ok: true, message: m as unknown as HubMessage };
    case 'error':
      return typeof m.code === 'number'
        ? { ok: true, message: m as unknown as HubMessage }
        : fail(ErrorCode.BadMessage, 'error needs "code"');
    default:
      return fail(ErrorCode.BadMessage, `unknown type "${clip(String(m.type))}"`);
  }
}

export type { ReadingInput };

function clip(s: string): string {
  return s.length > 80 ? s.slice(0, 77) + '...' : s;
}
