/**
 * The hub's answers the CLI reads (PROTOCOL.md §2), checked against the API's own schemas
 * (protocol/schemas/): the CLI trusts nothing it prints, and a hub that answers otherwise gets a
 * message naming the first field that is wrong (`readings[0].value must be a number`), rather
 * than a table of `undefined`. An answer may carry fields the CLI does not know: a newer hub's.
 */
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import type { ErrorBody } from '../protocol/api.ts';
import { SchemaCheck } from '../protocol/schema-check.ts';
import { ErrorBody as ErrorBodySchema } from '../protocol/schemas/errors.ts';
import { LatestAnswer, SensorsAnswer } from '../protocol/schemas/readings.ts';
import { ReportNowAnswer } from '../protocol/schemas/report-now.ts';
import { HUB_STREAM_MESSAGES } from '../protocol/schemas/stream.ts';
import { UploadAnswer } from '../protocol/schemas/upload.ts';

export type { ErrorBody, LatestBody, Reading, ReportNowBody, SensorInfo, SensorsBody, UploadBody } from '../protocol/api.ts';

/** Checks a parsed body; returns it typed, or the first problem found as a sentence. */
export type ShapeCheck<T> = (body: unknown) => { ok: true; value: T } | { ok: false; problem: string };

/** The ShapeCheck of one of the API's answer schemas. */
export function answerCheck<S extends TSchema>(schema: S): ShapeCheck<Static<S>> {
  const checker = new SchemaCheck(schema, 'the answer');
  return (body) => {
    const checked = checker.check(body);
    return checked.ok ? checked : { ok: false, problem: checked.problem.message };
  };
}

export function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

export const checkLatestBody = answerCheck(LatestAnswer);
export const checkSensorsBody = answerCheck(SensorsAnswer);
export const checkUploadBody = answerCheck(UploadAnswer);
export const checkReportNowBody = answerCheck(ReportNowAnswer);

const errorBodyCheck = new SchemaCheck(ErrorBodySchema);
/** An error body whose `rows` are not as documented is still a refusal worth showing: its code and message. */
const bareErrorBodyCheck = new SchemaCheck(Type.Object({ error: Type.Object({ code: Type.String(), message: Type.String() }) }));

/** The error body of a refusal, or null when the hub (or a proxy before it) sent something else. */
export function asErrorBody(body: unknown): ErrorBody | null {
  const full = errorBodyCheck.check(body);
  if (full.ok) {
    const { code, message, rows } = full.value.error;
    return { error: { code, message, ...(rows ? { rows } : {}) } };
  }
  const bare = bareErrorBodyCheck.check(body);
  return bare.ok ? { error: { code: bare.value.error.code, message: bare.value.error.message } } : null;
}

/** A message of `GET /api/v1/stream` (§2 "Live stream"), hub to client. */
export type StreamMessage =
  | { [K in keyof typeof HUB_STREAM_MESSAGES]: Static<(typeof HUB_STREAM_MESSAGES)[K]> }[keyof typeof HUB_STREAM_MESSAGES]
  /** A type this CLI does not know: shown with --json, skipped otherwise. */
  | { type: 'other'; original: string };

export const NOT_JSON = 'not JSON';

/** by message type: its check */
const streamChecks = new Map(Object.entries(HUB_STREAM_MESSAGES).map(([type, schema]) => [type, new SchemaCheck(schema, 'the message')]));

/** A stream message, checked; a known type with wrong fields is a problem, an unknown type is `other`. */
export function parseStreamMessage(text: string): { ok: true; value: StreamMessage } | { ok: false; problem: string } {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    return { ok: false, problem: NOT_JSON };
  }
  if (!isObject(body) || typeof body.type !== 'string') return { ok: false, problem: 'not an object with a "type"' };
  const check = streamChecks.get(body.type);
  if (!check) return { ok: true, value: { type: 'other', original: body.type } };
  const checked = check.check(body);
  return checked.ok ? { ok: true, value: checked.value as StreamMessage } : { ok: false, problem: checked.problem.message };
}
