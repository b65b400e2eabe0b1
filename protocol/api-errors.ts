/**
 * Every error code of the user API (PROTOCOL.md §2), with the HTTP status it is answered with
 * and what it means: the one list the hub answers from, the CLI reads refusals with, and the
 * table in docs/API.md is generated from (`npm run docs:errors`). A code not listed here is a
 * type error wherever an `ApiErrorCode` is expected.
 *
 * Stream errors (`{"type":"error","code","message"}` on the WebSocket) use the same codes; the
 * status is then the one the same refusal would get over HTTP.
 */

export interface ApiErrorSpec {
  /** the status the code is answered with */
  readonly status: number;
  /** what it means, in one sentence, for client writers */
  readonly meaning: string;
  /** other statuses the same code is answered with, each with when */
  readonly also?: readonly { readonly status: number; readonly when: string }[];
}

export const API_ERRORS = {
  // ---- 400: the request is wrong as sent ----
  bad_request: {
    status: 400,
    meaning:
      'The request is malformed: not valid HTTP, a body that is not the JSON object the route takes, or a JSON key no route takes (`__proto__`).',
  },
  bad_filter: {
    status: 400,
    meaning: 'A `sensor`, `room` or `metric` filter is not a list of valid names.',
  },
  bad_parameter: {
    status: 400,
    meaning: 'A query parameter or body field is unknown to the route, or its value is out of range.',
  },
  bad_user: {
    status: 400,
    meaning: 'A user to create or import is not valid: a bad name, a name listed twice, an unknown role, or no password for a new user.',
  },
  bad_password: {
    status: 400,
    meaning: 'A new password does not follow the password rules.',
  },
  bad_rooms: {
    status: 400,
    meaning: 'A list of rooms is not an array of room names or `"*"`.',
  },
  bad_token_request: {
    status: 400,
    meaning: 'A sensor token to create names no room, or has a bad note.',
  },
  bad_alert_rule: {
    status: 400,
    meaning:
      'An alert rule is not valid: its text does not follow the rule grammar (docs/ALERTS.md), or its room, sensor pattern or a webhook URL is not valid.',
  },
  missing_header: {
    status: 400,
    meaning: 'An upload has no header row (an empty file, or a first line too long to be one).',
  },
  missing_column: {
    status: 400,
    meaning: "An upload's header lacks a required column (the message says which, and hints at a wrong separator).",
  },
  too_many_columns: {
    status: 400,
    meaning: "An upload's header has more columns than the hub takes.",
  },
  upload_interrupted: {
    status: 400,
    meaning: 'An upload did not arrive whole (the connection broke); nothing was stored.',
  },
  // ---- 401: who is asking is not known ----
  unauthorized: {
    status: 401,
    meaning: 'The hub requires a login and the request carries no token.',
  },
  bad_token: {
    status: 401,
    meaning: 'The token is malformed, or the hub does not know it (logged out, or never issued).',
  },
  token_expired: {
    status: 401,
    meaning: 'The login behind the token has expired; log in again.',
  },
  bad_credentials: {
    status: 401,
    meaning: 'A login with a wrong user name or password.',
  },
  // ---- 403: known, but not allowed ----
  forbidden: {
    status: 403,
    meaning: "The user's role may not do this (the message says which role may).",
  },
  forbidden_room: {
    status: 403,
    meaning: "The request names or writes a room outside the user's rooms (the message lists them).",
  },
  csrf_refused: {
    status: 403,
    meaning: 'A change or a stream asked by a page of another origin, or a change made with the session cookie without its `X-CSRF-Token`.',
  },
  // ---- 404, 405, 408 ----
  not_found: {
    status: 404,
    meaning: 'No such route, user, sensor token or alert rule.',
  },
  method_not_allowed: {
    status: 405,
    meaning: 'The path exists but does not answer this method; `Allow` lists those it does.',
  },
  request_timeout: {
    status: 408,
    meaning: 'The request head or an upload body did not arrive in time; nothing was stored.',
  },
  // ---- 409: the hub's state forbids it ----
  admin_required: {
    status: 409,
    meaning: 'The first users of a hub must include an admin.',
  },
  last_admin: {
    status: 409,
    meaning: 'The change would leave the hub without an admin.',
  },
  replay_in_progress: {
    status: 409,
    meaning: 'Stream only: a new subscription was sent while the replay of the last one is still running; wait for its end.',
  },
  too_many_alert_rules: {
    status: 409,
    meaning: 'The hub keeps as many alert rules as it may (1000); delete one before adding another.',
  },
  // ---- 413 to 431: too big, or not a kind the hub takes ----
  too_large: {
    status: 413,
    meaning: "The body is over the route's limit.",
  },
  too_many_series: {
    status: 413,
    meaning:
      'An upload has more distinct (sensor, room, metric, unit) series than one upload may (send it in parts), or would take the hub past its `--max-series` or `--max-sensors` (an admin raises the limit); nothing of it is stored.',
  },
  uri_too_long: {
    status: 414,
    meaning: 'A name in the path is over 100 characters.',
  },
  unsupported_media_type: {
    status: 415,
    meaning: 'The body has a `Content-Type` the route does not take (JSON routes take `application/json`, the upload `text/csv`).',
  },
  unsupported_encoding: {
    status: 415,
    meaning: 'An upload has a `Content-Encoding`; send it uncompressed.',
  },
  expectation_failed: {
    status: 417,
    meaning: 'An `Expect` header other than `100-continue`.',
  },
  invalid_csv: {
    status: 422,
    meaning: 'An upload has invalid rows, listed in `rows` (`line`, `message`); nothing was stored.',
    also: [{ status: 400, when: 'the body is not CSV text (binary, gzip, UTF-16); `rows` is empty' }],
  },
  // ---- 429: too many, try again later ----
  rate_limited: {
    status: 429,
    meaning: 'More requests in a minute than the hub takes from one user (or address); `Retry-After` says when to retry.',
  },
  too_many_attempts: {
    status: 429,
    meaning: 'Too many failed logins from this address; `Retry-After` says when to retry.',
  },
  too_many_uploads: {
    status: 429,
    meaning: 'The hub is taking as many uploads as it takes at once; `Retry-After` says when to retry.',
  },
  too_many_exports: {
    status: 429,
    meaning: 'The user, or the hub, runs as many history exports as it may at once; `Retry-After` says when to retry.',
  },
  backup_running: {
    status: 429,
    meaning: 'A backup is already being taken (one runs at a time); `Retry-After` says when to retry.',
  },
  too_many_streams: {
    status: 429,
    meaning: 'The user, or the hub, has as many open streams as it may; `Retry-After` says when to retry.',
  },
  too_many_messages: {
    status: 429,
    meaning: 'Stream only: more messages in 10 s than a stream takes; the message was ignored.',
  },
  header_too_large: {
    status: 431,
    meaning: 'The request line and headers are over 16 KB together.',
  },
  // ---- 5xx: the hub cannot answer now ----
  internal: {
    status: 500,
    meaning: 'The hub failed internally; its log says why.',
  },
  starting: {
    status: 503,
    meaning: 'The hub is starting; try again shortly.',
  },
  stopping: {
    status: 503,
    meaning: 'The hub is stopping; try again once it is back.',
  },
  store_unavailable: {
    status: 503,
    meaning: 'The store cannot answer now (an export or the activity log); try again later.',
  },
} as const satisfies Record<string, ApiErrorSpec>;

/** A code of the user API: one of the registry's keys, nothing else. */
export type ApiErrorCode = keyof typeof API_ERRORS;

/** The statuses a code may be answered with other than its own (`never` for most). */
export type OtherStatus<C extends ApiErrorCode> = (typeof API_ERRORS)[C] extends {
  also: readonly { status: infer S }[];
}
  ? S
  : never;

/** Whether `code` (from a hub's answer, any string) is a code of the registry: an own key, never Object.prototype's. */
export function isApiErrorCode(code: unknown): code is ApiErrorCode {
  return typeof code === 'string' && Object.hasOwn(API_ERRORS, code);
}

/** The status `code` is answered with. */
export function statusOfCode(code: ApiErrorCode): number {
  return API_ERRORS[code].status;
}
