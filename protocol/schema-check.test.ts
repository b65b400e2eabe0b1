// The API's schemas (protocol/schemas/) and what a failed check says (protocol/schema-check.ts):
// one wording for the hub's 400s and the CLI's "the hub's answer is not as the contract says".
import { Type, type TSchema } from '@sinclair/typebox';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { isApiErrorCode } from './api-errors.ts';
import { SchemaCheck, type SchemaProblem } from './schema-check.ts';
import * as activity from './schemas/activity.ts';
import * as errors from './schemas/errors.ts';
import * as health from './schemas/health.ts';
import * as history from './schemas/history.ts';
import * as login from './schemas/login.ts';
import * as readings from './schemas/readings.ts';
import * as reportNow from './schemas/report-now.ts';
import * as stream from './schemas/stream.ts';
import * as tokens from './schemas/tokens.ts';
import * as upload from './schemas/upload.ts';
import * as users from './schemas/users.ts';

const problem = (schema: TSchema, value: unknown, whole?: string): SchemaProblem => {
  const r = new SchemaCheck(schema, whole).check(value);
  if (r.ok) throw new Error(`${JSON.stringify(value)} passed`);
  return r.problem;
};
const passes = (schema: TSchema, value: unknown): boolean => new SchemaCheck(schema).check(value).ok;

const reading = { sensor: 'a', room: 'r', metric: 'temperature', value: 21.5, unit: 'C', ts: 1_763_712_000_000 };

test('a wrong field is named by its path, as JavaScript would write it', () => {
  assert.is(
    problem(readings.LatestAnswer, { readings: [reading, { ...reading, value: '21.5' }] }).message,
    'readings[1].value must be a number',
  );
  assert.is(
    problem(readings.LatestAnswer, { readings: [{ ...reading, ts: 1.5 }] }).message,
    'readings[0].ts must be a time in ms since the epoch',
  );
  assert.is(problem(readings.LatestAnswer, {}).message, 'readings is missing');
  assert.is(problem(readings.LatestAnswer, [], 'the answer').message, 'the answer must be an object');
  assert.is(problem(Type.Object({ 'a b': Type.String() }), { 'a b': 1 }).message, '["a b"] must be a string');
});

test('an unknown property is named, with the names the object takes', () => {
  const p = problem(reportNow.ReportNowRequest, { sensors: 'x' });
  assert.equal([p.unknownProperty, p.path, p.known], ['sensors', '', ['sensor', 'room', 'metric', 'timeout_ms']]);
  const nested = problem(users.UsersImportRequest, { users: [{ user: 'a', password: 'p', x: 1 }] });
  assert.equal([nested.unknownProperty, nested.path, nested.message], ['x', 'users[0]', 'users[0] has an unknown field "x"']);
  assert.equal(problem(users.UsersImportRequest, { users: [{ user: 'a', password: 'p', x: 1 }] }).known, [
    'user',
    'role',
    'rooms',
    'password',
  ]);
  assert.is(
    problem(Type.Object({}, { additionalProperties: false }), { 'a/b~c': 1 }).unknownProperty,
    'a/b~c',
    'JSON pointer escapes undone',
  );
});

test('a schema’s errorMessage is what is said, and the innermost errorCode on the way is the code', () => {
  const timeout = problem(reportNow.ReportNowRequest, { timeout_ms: -1 });
  assert.equal([timeout.message, timeout.errorCode], ['timeout_ms must be an integer from 0 to 30000', null]);
  const filter = problem(reportNow.ReportNowRequest, { room: 3 });
  assert.equal([filter.message, filter.errorCode], ['room must be a string, a comma-separated list, or an array of strings', 'bad_filter']);
  const role = problem(users.UsersImportRequest, { users: [{ user: 'a', role: 'root' }] });
  assert.equal([role.message, role.errorCode], ['users[0].role must be admin, operator or viewer', 'bad_user']);
  const rooms = problem(users.UsersImportRequest, { users: [{ user: 'a', rooms: 'x' }] });
  assert.is(rooms.errorCode, 'bad_rooms');
  assert.is(problem(users.UsersImportRequest, { users: [] }).errorCode, 'bad_request');
});

test('a union without its own message is explained by the variant that got furthest', () => {
  const who = problem(login.WhoamiAnswer, { auth: 'required', user: 'sue', role: 'admin', rooms: [] });
  assert.is(who.message, 'expires_at is missing');
});

test('the hub’s own answers pass, and extra fields of a newer hub are taken', () => {
  assert.ok(passes(readings.SensorsAnswer, { sensors: [{ sensor: 'a', room: 'r', connected: true, last_seen: null, metrics: [] }] }));
  assert.ok(
    passes(reportNow.ReportNowAnswer, {
      id: 'c-1',
      requested: 1,
      responded: 0,
      missing: ['a'],
      readings: [],
      errors: [{ sensor: 'a', code: 501, message: 'no' }],
    }),
  );
  assert.ok(passes(upload.UploadAnswer, { accepted: 0, duplicates: 0, took_ms: 5 }));
  assert.ok(passes(health.HealthAnswer, { status: 'ok', auth: { users: 'open', sensors: 'open' }, version: '0.1.0', uptime_ms: 5 }));
  assert.ok(passes(login.WhoamiAnswer, { auth: 'open', user: null, role: 'admin', rooms: ['*'] }));
  assert.ok(passes(errors.ErrorBody, { error: { code: 'invalid_csv', message: 'x', rows: [{ line: 2, message: 'y' }] } }));
  assert.ok(passes(stream.ReadingMessage, { type: 'reading', ...reading }));
  assert.ok(
    passes(tokens.CreatedTokenAnswer, {
      id: 't',
      sensor: '*',
      rooms: ['*'],
      note: '',
      created_at: 1,
      created_by: 'sue',
      revoked_at: null,
      token: 'rws_x',
    }),
  );
  assert.ok(passes(activity.ActivityAnswer, { events: [], last_id: 0 }));
});

test('requests take what the contract lists, and filters in each of their forms', () => {
  assert.ok(passes(readings.LatestQuery, { sensor: 'a,b', room: ['x', 'y'] }));
  assert.ok(passes(history.HistoryQuery, { from: '1', to: '2', every: '1w', time: 'ms' }));
  assert.ok(passes(stream.SubscribeMessage, { type: 'subscribe', replay: null }));
  assert.ok(!passes(stream.SubscribeMessage, { type: 'unsubscribe' }));
  assert.ok(passes(reportNow.ReportNowRequest, {}));
  assert.ok(passes(health.HealthQuery, { anything: 'at all' }), 'health takes any parameter');
});

test('every errorCode a schema names is a code of the registry', () => {
  const found: string[] = [];
  const walk = (v: unknown): void => {
    if (typeof v !== 'object' || v === null) return;
    for (const [k, child] of Object.entries(v)) {
      if (k === 'errorCode') found.push(String(child));
      else walk(child);
    }
  };
  walk([activity, errors, health, history, login, readings, reportNow, stream, tokens, upload, users]);
  assert.ok(found.length >= 5, `found ${found.length}`);
  for (const code of found) assert.ok(isApiErrorCode(code), `errorCode "${code}" is not in protocol/api-errors.ts`);
});

test.run();
