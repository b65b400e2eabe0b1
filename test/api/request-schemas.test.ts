// docs/API.md "Filters" and "Errors": a query parameter or body field a route does not take is a
// 400 `bad_parameter` naming it, on every route, rather than an answer wider than asked (or a
// report-now that asks every sensor); a value of the wrong kind keeps the code its route gives.
// The requests are checked by the API's schemas (protocol/schemas/) before any route runs.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { TSchema } from '@sinclair/typebox';
import { SchemaCheck } from '../../protocol/schema-check.ts';
import { ActivityAnswer } from '../../protocol/schemas/activity.ts';
import { ErrorBody } from '../../protocol/schemas/errors.ts';
import { HealthAnswer } from '../../protocol/schemas/health.ts';
import { LoginAnswer, LogoutAnswer, WhoamiAnswer } from '../../protocol/schemas/login.ts';
import { LatestAnswer, SensorsAnswer } from '../../protocol/schemas/readings.ts';
import { ReportNowAnswer } from '../../protocol/schemas/report-now.ts';
import { CreatedTokenAnswer, RevokedTokenAnswer, TokensAnswer } from '../../protocol/schemas/tokens.ts';
import { UploadAnswer } from '../../protocol/schemas/upload.ts';
import { UserDeletedAnswer, UsersAnswer, UsersImportAnswer, UserView } from '../../protocol/schemas/users.ts';
import { errorBody, request, upload, type RawResponse } from '../support/api-client.ts';
import { sharedHub, stopSharedHubs } from '../support/shared-hub.ts';
import { openStream } from '../support/stream-client.ts';
import { exitWhenDone, perTest } from '../support/teardown.ts';

const hub = sharedHub();
test.after.each(() => perTest.run());
test.after(async () => {
  await stopSharedHubs();
  exitWhenDone();
});

async function send(method: string, path: string, body?: unknown): Promise<RawResponse> {
  const { httpPort } = await hub();
  return request(httpPort, path, {
    method,
    ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
  });
}

function refused(res: RawResponse, code: string, message: RegExp, what: string): void {
  assert.is(res.status, 400, `${what}: ${res.text.slice(0, 300)}`);
  const e = errorBody(res);
  assert.is(e.code, code, `${what}: ${e.message}`);
  assert.match(e.message, message, what);
}

test('an unknown query parameter is refused with 400 bad_parameter naming it, and saying what the route takes', async () => {
  const cases: [string, string, RegExp, unknown?][] = [
    ['GET', '/api/v1/latest?sensors=x', /^unknown parameter "sensors"; this route takes sensor, room, metric$/],
    [
      'GET',
      '/api/v1/history.csv?form=2025-11-21T00:00Z',
      /^unknown parameter "form"; this route takes sensor, room, metric, from, to, every, time$/,
    ],
    ['GET', '/api/v1/activity?limits=5', /^unknown parameter "limits"; this route takes after, limit, action, actor$/],
    ['GET', '/api/v1/sensors?room=x', /^unknown parameter "room"; this route takes no parameters$/],
    ['GET', '/api/v1/whoami?verbose=1', /unknown parameter "verbose"/],
    ['GET', '/api/v1/users?all=1', /unknown parameter "all"/],
    ['GET', '/api/v1/tokens?all=1', /unknown parameter "all"/],
    ['GET', '/metrics?room=x', /unknown parameter "room"/],
    ['POST', '/api/v1/logout?everywhere=1', /unknown parameter "everywhere"/],
    ['POST', '/api/v1/login?user=x', /unknown parameter "user"/, { user: 'x', password: 'y' }],
    ['POST', '/api/v1/report-now?sensor=x', /unknown parameter "sensor"/],
    ['POST', '/api/v1/readings?dry_run=1', /unknown parameter "dry_run"/],
    ['PUT', '/api/v1/users/sue?role=admin', /unknown parameter "role"/],
    ['DELETE', '/api/v1/users/sue?force=1', /unknown parameter "force"/],
    ['DELETE', '/api/v1/tokens/t-1?force=1', /unknown parameter "force"/],
    ['GET', '/api/v1/latest?__proto__=1', /unknown parameter "__proto__"/],
  ];
  for (const [method, path, message, body] of cases) refused(await send(method, path, body), 'bad_parameter', message, `${method} ${path}`);
});

test('an unknown body field is refused with 400 bad_parameter naming it, before anything is done', async () => {
  const cases: [string, string, unknown, RegExp][] = [
    [
      'POST',
      '/api/v1/report-now',
      { sensors: 'one' },
      /^unknown field "sensors" in the body; this route takes sensor, room, metric, timeout_ms$/,
    ],
    ['POST', '/api/v1/login', { user: 'sue', password: 'password', remember: true }, /^unknown field "remember" in the body/],
    [
      'PUT',
      '/api/v1/users/sue',
      { role: 'admin', rooms: ['*'], password: 'password1', nickname: 'S' },
      /unknown field "nickname" in the body; this route takes role, rooms, password$/,
    ],
    [
      'POST',
      '/api/v1/users/import',
      { users: [{ user: 'sue', role: 'admin', rooms: ['*'], password: 'password1' }], dryRun: true },
      /unknown field "dryRun"/,
    ],
    [
      'POST',
      '/api/v1/users/import',
      { users: [{ user: 'sue', role: 'admin', rooms: ['*'], password: 'password1', mail: 's@x' }] },
      /^users\[0\] has an unknown field "mail"; it takes user, role, rooms, password$/,
    ],
    [
      'POST',
      '/api/v1/tokens',
      { sensor: 'rack*', rooms: ['*'], expires: 1 },
      /unknown field "expires" in the body; this route takes sensor, rooms, note$/,
    ],
  ];
  for (const [method, path, body, message] of cases) refused(await send(method, path, body), 'bad_parameter', message, `${method} ${path}`);
  // Nothing was done: no user was created, so the hub still asks for no login.
  const who = await send('GET', '/api/v1/whoami');
  assert.is(who.status, 200, who.text);
  assert.is((JSON.parse(who.text) as { auth: string }).auth, 'open');
});

test('a value of the wrong kind keeps the code its route gives, with a message naming the field', async () => {
  const cases: [string, string, unknown, string, RegExp][] = [
    ['POST', '/api/v1/report-now', { timeout_ms: null }, 'bad_parameter', /^timeout_ms must be an integer from 0 to 30000$/],
    ['POST', '/api/v1/report-now', { timeout_ms: '2000' }, 'bad_parameter', /^timeout_ms must be an integer/],
    ['POST', '/api/v1/report-now', { timeout_ms: 30_001 }, 'bad_parameter', /^timeout_ms must be an integer/],
    [
      'POST',
      '/api/v1/report-now',
      { sensor: 5 },
      'bad_filter',
      /^sensor must be a string, a comma-separated list, or an array of strings$/,
    ],
    ['POST', '/api/v1/report-now', { room: 'a,,b' }, 'bad_filter', /^room has an empty item in "a,,b"$/],
    ['POST', '/api/v1/report-now', [], 'bad_request', /^the body must be a JSON object$/],
    ['POST', '/api/v1/login', { user: 'sue' }, 'bad_request', /^password is missing$/],
    ['POST', '/api/v1/login', { user: 5, password: 'x' }, 'bad_request', /^user must be a string$/],
    [
      'PUT',
      '/api/v1/users/sue',
      { role: 'root', rooms: ['*'], password: 'password1' },
      'bad_user',
      /^role must be admin, operator or viewer$/,
    ],
    [
      'PUT',
      '/api/v1/users/sue',
      { role: 'admin', rooms: 'lab', password: 'password1' },
      'bad_rooms',
      /^rooms must be an array of room names/,
    ],
    ['PUT', '/api/v1/users/sue', { role: 'admin', rooms: ['*'], password: 12345678 }, 'bad_password', /^password must be a string$/],
    ['POST', '/api/v1/users/import', { users: [] }, 'bad_request', /^users must be an array of 1 to 10,000 users/],
    ['POST', '/api/v1/users/import', { users: ['sue'] }, 'bad_user', /^users\[0\] must be an object$/],
    ['POST', '/api/v1/tokens', { sensor: 'rack*', rooms: 'lab' }, 'bad_rooms', /^rooms must be an array of room names/],
    ['POST', '/api/v1/tokens', { sensor: 5, rooms: ['lab'] }, 'bad_token_request', /^sensor must be a sensor id pattern/],
    [
      'POST',
      '/api/v1/tokens',
      { sensor: 'rack*', rooms: ['lab'], note: 'x'.repeat(201) },
      'bad_token_request',
      /^note must be a string of at most 200/,
    ],
  ];
  for (const [method, path, body, code, message] of cases)
    refused(await send(method, path, body), code, message, `${method} ${path} ${JSON.stringify(body)}`);
});

test('a query parameter given twice where one is taken says so; filters may repeat', async () => {
  refused(await send('GET', '/api/v1/history.csv?from=1&from=2'), 'bad_parameter', /^from must be given once, as a time$/, 'from twice');
  refused(await send('GET', '/api/v1/history.csv?time=iso&time=ms'), 'bad_parameter', /^time must be iso or ms$/, 'time twice');
  refused(
    await send('GET', '/api/v1/activity?limit=1&limit=2'),
    'bad_parameter',
    /^limit must be a whole number from 1 to 1000$/,
    'limit twice',
  );
  refused(await send('GET', '/api/v1/activity?limit=0'), 'bad_parameter', /^limit must be a whole number from 1 to 1000$/, 'limit 0');
  refused(await send('GET', '/api/v1/activity?after=-1'), 'bad_parameter', /^after must be a whole number/, 'after -1');
  const repeated = await send('GET', '/api/v1/latest?sensor=a&sensor=b,c');
  assert.is(repeated.status, 200, repeated.text);
  const every = await send('GET', '/api/v1/history.csv?every=1w');
  assert.is(every.status, 200, `every=1w: ${every.text.slice(0, 200)}`);
});

test('report-now with no body, or an empty object, asks with the defaults', async () => {
  for (const body of [undefined, {}]) {
    const res = await send('POST', '/api/v1/report-now', body);
    assert.is(res.status, 200, res.text);
    assert.is((JSON.parse(res.text) as { requested: number }).requested, 0);
  }
});

test('a subscribe with an unknown field gets an error naming it, and the subscription stays as it was', async () => {
  const { httpPort } = await hub();
  const stream = await openStream(httpPort);
  await stream.subscribe({ sensor: 'rs-one', replay: 0 });
  const typo = await stream.subscribeReply({ sensors: 'rs-other' });
  assert.is(typo.type, 'error');
  assert.is(typo.code, 'bad_parameter');
  assert.match(String(typo.message), /^unknown field "sensors"; the message takes type, sensor, room, metric, replay, batch$/);
  const replay = await stream.subscribeReply({ replay: -1 });
  assert.equal([replay.type, replay.code, replay.message], ['error', 'bad_parameter', 'replay must be a whole number of readings']);
  const filter = await stream.subscribeReply({ metric: ['temperature', 7] });
  assert.equal([filter.type, filter.code], ['error', 'bad_filter']);
  // §2 "replay default 10, larger than 1000 is taken as 1000": null is the default, a large one no error
  assert.is((await stream.subscribeReply({ replay: null })).type, 'subscribed');
  assert.is((await stream.subscribeReply({ replay: 5000 })).type, 'subscribed');
  assert.is(stream.closeCode, null, 'a refused subscribe leaves the stream open');
});

/** The answer, checked against its schema: what the CLI will check it with. */
function conforms(res: RawResponse, status: number, schema: TSchema, what: string): Record<string, unknown> {
  assert.is(res.status, status, `${what}: ${res.text.slice(0, 300)}`);
  const body = JSON.parse(res.text) as unknown;
  const checked = new SchemaCheck(schema, 'the answer').check(body);
  assert.ok(checked.ok, `${what}: ${checked.ok ? '' : checked.problem.message} in ${res.text.slice(0, 300)}`);
  return body as Record<string, unknown>;
}

// Last in this file: it creates users, and from then on the shared hub asks for a login.
test('the hub’s own answers on every route are as its answer schemas say', async () => {
  conforms(await send('GET', '/api/v1/health'), 200, HealthAnswer, 'health');
  conforms(
    await upload((await hub()).httpPort, `ts,sensor,room,metric,value,unit\n${Date.now() - 1000},rs-shape,lab,temperature,21.5,C\n`),
    200,
    UploadAnswer,
    'upload',
  );
  conforms(await send('GET', '/api/v1/latest'), 200, LatestAnswer, 'latest');
  conforms(await send('GET', '/api/v1/latest?room=lab'), 200, LatestAnswer, 'latest filtered');
  conforms(await send('GET', '/api/v1/sensors'), 200, SensorsAnswer, 'sensors');
  conforms(await send('POST', '/api/v1/report-now', { timeout_ms: 0 }), 200, ReportNowAnswer, 'report-now');
  conforms(await send('GET', '/api/v1/whoami'), 200, WhoamiAnswer, 'whoami, open hub');
  conforms(await send('GET', '/api/v1/latest?sensor=bad%20id'), 400, ErrorBody, 'a refusal');
  const users = [
    { user: 'rs-root', password: 'password1', role: 'admin', rooms: ['*'] },
    { user: 'rs-sue', password: 'password1', role: 'viewer', rooms: ['lab'] },
  ];
  conforms(await send('POST', '/api/v1/users/import', { users }), 200, UsersImportAnswer, 'users import');
  const { httpPort } = await hub();
  const login = conforms(await send('POST', '/api/v1/login', { user: 'rs-root', password: 'password1' }), 200, LoginAnswer, 'login');
  const as = (method: string, path: string, body?: unknown) =>
    request(httpPort, path, {
      method,
      headers: { authorization: `Bearer ${String(login.token)}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    });
  conforms(await as('GET', '/api/v1/whoami'), 200, WhoamiAnswer, 'whoami, logged in');
  conforms(await as('GET', '/api/v1/users'), 200, UsersAnswer, 'users');
  conforms(
    await as('PUT', '/api/v1/users/rs-new', { role: 'viewer', rooms: ['lab'], password: 'password1' }),
    201,
    UserView,
    'user created',
  );
  conforms(await as('DELETE', '/api/v1/users/rs-new'), 200, UserDeletedAnswer, 'user deleted');
  const created = conforms(
    await as('POST', '/api/v1/tokens', { sensor: 'rs-*', rooms: ['lab'] }),
    201,
    CreatedTokenAnswer,
    'token created',
  );
  conforms(await as('GET', '/api/v1/tokens'), 200, TokensAnswer, 'tokens');
  conforms(await as('DELETE', `/api/v1/tokens/${String(created.id)}`), 200, RevokedTokenAnswer, 'token revoked');
  conforms(await as('GET', '/api/v1/activity'), 200, ActivityAnswer, 'activity');
  conforms(await as('GET', '/api/v1/activity?after=999999'), 200, ActivityAnswer, 'activity, nothing after');
  conforms(await as('POST', '/api/v1/logout'), 200, LogoutAnswer, 'logout');
  conforms(await as('GET', '/api/v1/whoami'), 401, ErrorBody, 'whoami after logout');
});

test.run();
