/**
 * The JSON shapes of the hub's user API (PROTOCOL.md §2) that the CLI reads, and checks that
 * an answer has them. The CLI trusts nothing it prints: a hub that answers otherwise gets a
 * message naming the first field that is wrong, rather than a table of `undefined`.
 */
import type { ErrorBody, LatestBody, Reading, SensorInfo, SensorsBody, UploadBody } from '../protocol/api.ts';

export type { ErrorBody, LatestBody, Reading, SensorInfo, SensorsBody, UploadBody };

/** Checks a parsed body; returns it typed, or the first problem found as a sentence. */
export type ShapeCheck<T> = (body: unknown) => { ok: true; value: T } | { ok: false; problem: string };

type Json = Record<string, unknown>;

export function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const readingFields = [
  ['sensor', 'string'],
  ['room', 'string'],
  ['metric', 'string'],
  ['value', 'number'],
  ['unit', 'string'],
  ['ts', 'number'],
] as const;

function readingProblem(r: unknown, where: string): string | null {
  if (!isObject(r)) return `${where} is not an object`;
  for (const [field, type] of readingFields) {
    if (typeof r[field] !== type) return `${where}.${field} is not a ${type}`;
  }
  return null;
}

export const checkLatestBody: ShapeCheck<LatestBody> = (body) => {
  if (!isObject(body) || !Array.isArray(body.readings)) return { ok: false, problem: 'no "readings" array' };
  for (let i = 0; i < body.readings.length; i++) {
    const problem = readingProblem(body.readings[i], `readings[${i}]`);
    if (problem) return { ok: false, problem };
  }
  return { ok: true, value: body as unknown as LatestBody };
};

export const checkSensorsBody: ShapeCheck<SensorsBody> = (body) => {
  if (!isObject(body) || !Array.isArray(body.sensors)) return { ok: false, problem: 'no "sensors" array' };
  for (let i = 0; i < body.sensors.length; i++) {
    const s: unknown = body.sensors[i];
    const where = `sensors[${i}]`;
    if (!isObject(s)) return { ok: false, problem: `${where} is not an object` };
    if (typeof s.sensor !== 'string') return { ok: false, problem: `${where}.sensor is not a string` };
    if (typeof s.room !== 'string') return { ok: false, problem: `${where}.room is not a string` };
    if (typeof s.connected !== 'boolean') return { ok: false, problem: `${where}.connected is not a boolean` };
    if (typeof s.last_seen !== 'number' && s.last_seen !== null) {
      return { ok: false, problem: `${where}.last_seen is not a number` };
    }
    if (!Array.isArray(s.metrics) || !s.metrics.every((m) => typeof m === 'string')) {
      return { ok: false, problem: `${where}.metrics is not an array of strings` };
    }
  }
  return { ok: true, value: body as unknown as SensorsBody };
};

/** The error body of a refusal, or null when the hub (or a proxy before it) sent something else. */
export function asErrorBody(body: unknown): ErrorBody | null {
  if (!isObject(body) || !isObject(body.error)) return null;
  const { code, message, rows } = body.error;
  if (typeof code !== 'string' || typeof message !== 'string') return null;
  const goodRows = Array.isArray(rows)
    ? rows.filter((r): r is { line: number; message: string } => isObject(r) && typeof r.line === 'number' && typeof r.message === 'string')
    : undefined;
  return { error: { code, message, ...(goodRows ? { rows: goodRows } : {}) } };
}

export const checkUploadBody: ShapeCheck<UploadBody> = (body) => {
  if (!isObject(body)) return { ok: false, problem: 'not an object' };
  for (const field of ['accepted', 'duplicates'] as const) {
    const n = body[field];
    if (typeof n !== 'number' || !Number.isSafeInteger(n) || n < 0) return { ok: false, problem: `"${field}" is not a count` };
  }
  return { ok: true, value: body as unknown as UploadBody };
};

/** `POST /api/v1/report-now`: who was asked, who answered, and the fresh readings. */
export interface ReportNowBody {
  id: string | number;
  requested: number;
  responded: number;
  /** Sensor ids that did not report in time, or answered with an error. */
  missing: string[];
  readings: Reading[];
  /** Sensors that answered the command with an `error` (e.g. 501); they are also in `missing`. */
  errors?: { sensor: string; code: number | string; message: string }[];
}

export const checkReportNowBody: ShapeCheck<ReportNowBody> = (body) => {
  if (!isObject(body)) return { ok: false, problem: 'not an object' };
  if (typeof body.id !== 'string' && typeof body.id !== 'number') return { ok: false, problem: '"id" is missing' };
  for (const field of ['requested', 'responded'] as const) {
    if (typeof body[field] !== 'number') return { ok: false, problem: `"${field}" is not a number` };
  }
  if (!Array.isArray(body.missing) || !body.missing.every((s) => typeof s === 'string')) {
    return { ok: false, problem: '"missing" is not an array of sensor ids' };
  }
  if (!Array.isArray(body.readings)) return { ok: false, problem: 'no "readings" array' };
  for (let i = 0; i < body.readings.length; i++) {
    const problem = readingProblem(body.readings[i], `readings[${i}]`);
    if (problem) return { ok: false, problem };
  }
  if (body.errors !== undefined) {
    if (!Array.isArray(body.errors)) return { ok: false, problem: '"errors" is not an array' };
    for (let i = 0; i < body.errors.length; i++) {
      const e: unknown = body.errors[i];
      if (
        !isObject(e) ||
        typeof e.sensor !== 'string' ||
        (typeof e.code !== 'number' && typeof e.code !== 'string') ||
        typeof e.message !== 'string'
      ) {
        return { ok: false, problem: `errors[${i}] is not {sensor, code, message}` };
      }
    }
  }
  return { ok: true, value: body as unknown as ReportNowBody };
};

/** A message of `GET /api/v1/stream` (§2 "Live stream"), hub to client. */
export type StreamMessage =
  | { type: 'subscribed'; replayed: number }
  | ({ type: 'reading' } & Reading)
  | { type: 'dropped'; count: number }
  /** The hub refuses the subscription (docs/ADMIN.md: a room outside the user's rooms), then closes with 1008. */
  | { type: 'error'; code: string | number; message: string }
  /** A type this CLI does not know: shown with --json, skipped otherwise. */
  | { type: 'other'; original: string };

export const NOT_JSON = 'not JSON';

/** A stream message, checked; a known type with wrong fields is a problem, an unknown type is `other`. */
export function parseStreamMessage(text: string): { ok: true; value: StreamMessage } | { ok: false; problem: string } {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return { ok: false, problem: NOT_JSON };
  }
  if (!isObject(body) || typeof body.type !== 'string') return { ok: false, problem: 'not an object with a "type"' };
  switch (body.type) {
    case 'subscribed':
      return typeof body.replayed === 'number'
        ? { ok: true, value: { type: 'subscribed', replayed: body.replayed } }
        : { ok: false, problem: '"replayed" is not a number' };
    case 'dropped':
      return typeof body.count === 'number'
        ? { ok: true, value: { type: 'dropped', count: body.count } }
        : { ok: false, problem: '"count" is not a number' };
    case 'error':
      return (typeof body.code === 'string' || typeof body.code === 'number') && typeof body.message === 'string'
        ? { ok: true, value: { type: 'error', code: body.code, message: body.message } }
        : { ok: false, problem: 'an error without a code and a message' };
    case 'reading': {
      const problem = readingProblem(body, 'the reading');
      if (problem) return { ok: false, problem };
      const r = body as unknown as Reading;
      return {
        ok: true,
        value: { type: 'reading', sensor: r.sensor, room: r.room, metric: r.metric, value: r.value, unit: r.unit, ts: r.ts },
      };
    }
  }
  return { ok: true, value: { type: 'other', original: body.type } };
}
