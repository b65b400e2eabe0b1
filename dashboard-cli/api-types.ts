/**
 * The JSON shapes of the hub's user API (PROTOCOL.md §2) that the CLI reads, and checks that
 * an answer has them. The CLI trusts nothing it prints: a hub that answers otherwise gets a
 * message naming the first field that is wrong, rather than a table of `undefined`.
 */

/** One entry of `GET /api/v1/latest`, and the reading shape of report-now and the stream. */
export interface Reading {
  sensor: string;
  room: string;
  metric: string;
  value: number;
  unit: string;
  /** ms since the Unix epoch */
  ts: number;
}

export interface LatestBody {
  readings: Reading[];
}

/** One entry of `GET /api/v1/sensors`. */
export interface SensorInfo {
  sensor: string;
  room: string;
  connected: boolean;
  /** ms since the Unix epoch; null is tolerated for a sensor known only by name */
  last_seen: number | null;
  metrics: string[];
}

export interface SensorsBody {
  sensors: SensorInfo[];
}

/** Every error answer: `{"error":{"code","message"}}`; an upload refusal adds `rows`. */
export interface ErrorBody {
  error: {
    code: string;
    message: string;
    rows?: { line: number; message: string }[];
  };
}

/** Checks a parsed body; returns it typed, or the first problem found as a sentence. */
export type ShapeCheck<T> = (body: unknown) => { ok: true; value: T } | { ok: false; problem: string };

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
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
