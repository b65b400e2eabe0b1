/** `POST /api/v1/report-now` (PROTOCOL.md §2 "Report now"). */
import { Type } from '@sinclair/typebox';
import { closed, Count, Names } from './common.ts';
import { FilterFields } from './filters.ts';
import { Reading } from './readings.ts';

export const DEFAULT_REPORT_TIMEOUT_MS = 2_000;
export const MAX_REPORT_TIMEOUT_MS = 30_000;

/** The body, every field optional; no body at all is `{}`. */
export const ReportNowRequest = closed({
  ...FilterFields,
  /** absent: the default; null or anything but an integer in range is refused */
  timeout_ms: Type.Optional(
    Type.Integer({
      minimum: 0,
      maximum: MAX_REPORT_TIMEOUT_MS,
      errorMessage: `must be an integer from 0 to ${MAX_REPORT_TIMEOUT_MS}`,
    }),
  ),
});

/** A sensor that answered the command with an `error` (e.g. 501): also in `missing`. */
export const ReportNowError = Type.Object({ sensor: Type.String(), code: Type.Integer(), message: Type.String() });

export const ReportNowAnswer = Type.Object({
  /** the round's id: the hub's are strings; the contract does not say, so a number is taken too */
  id: Type.Union([Type.String(), Type.Integer()], { errorMessage: 'must be a string or a number' }),
  requested: Count,
  responded: Count,
  /** sensors that did not report in time, or answered with an error */
  missing: Names,
  readings: Type.Array(Reading),
  errors: Type.Optional(Type.Array(ReportNowError)),
});
