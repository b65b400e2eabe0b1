// `tokens list|create|revoke` (docs/ADMIN.md "Sensor tokens"): the requests, the token shown once
// with a line that says so, the table, and patterns and rooms checked before sending.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { TokenInfo } from '../access-types.ts';
import { startFakeHub } from '../testing/fake-hub.ts';
import type { FakeHub } from '../testing/fake-hub.ts';
import { runCliInProcess } from '../testing/run-cli-in-process.ts';
import { runCliProcess } from '../testing/run-cli-process.ts';

const T0 = Date.UTC(2025, 10, 21, 8, 0, 0);
const existing: TokenInfo[] = [
  { id: 't-6f3a9c2e', sensor: 'rack*', rooms: ['server-room'], note: 'rack sensors', created_at: T0, created_by: 'sue', revoked_at: null },
  { id: 't-0b1c2d3e', sensor: '*', rooms: ['*'], note: '', created_at: T0 + 60_000, created_by: 'sue', revoked_at: T0 + 120_000 },
];

let hub: FakeHub;
const env = { ROOMWATCH_TOKEN: 'admin-token', TZ: 'UTC' };

test.before.each(async () => {
  hub = await startFakeHub({ access: { tokens: existing } });
});

test.after.each(async () => {
  await hub.close();
});

/** The hub of this test replaced by one whose only tokens are `tokens` (none in force: the next is the first). */
async function hubWithTokens(tokens: TokenInfo[]): Promise<void> {
  await hub.close();
  hub = await startFakeHub({ access: { tokens } });
}

const cli = (args: string[]) => runCliProcess([...args, '--hub', hub.url], { env });
const routes = (): string[] => hub.requests.map((r) => `${r.method} ${r.url}`);

test('tokens create POSTs sensor, rooms and note, and prints the token on its own line, saying it is shown once', async () => {
  const result = await cli(['tokens', 'create', '--sensor', 'greenhouse-??', '--room', 'greenhouse', '--note', 'greenhouse sensors']);
  assert.is(result.code, 0, result.stderr);
  assert.equal(routes(), ['GET /api/v1/tokens', 'POST /api/v1/tokens'], 'a token is in force: no question');
  assert.is(result.stderr, '');
  assert.is(hub.requests[1]?.authorization, 'Bearer admin-token');
  assert.equal(JSON.parse(hub.requests[1]?.body.toString('utf8') ?? ''), {
    sensor: 'greenhouse-??',
    rooms: ['greenhouse'],
    note: 'greenhouse sensors',
  });
  const lines = result.stdout.split('\n');
  assert.is(lines[0], 'created token t-00000003 for sensors greenhouse-?? in room greenhouse (greenhouse sensors):');
  assert.ok(lines.includes('    rws_secret_t-00000003'), result.stdout);
  assert.match(result.stdout, 'This is the only time the token is shown');
});

test("tokens create --room '*' without a note sends no note; --json prints the hub's whole answer", async () => {
  const result = await cli(['tokens', 'create', '--sensor', '*', '--room', '*', '--json']);
  assert.is(result.code, 0, result.stderr);
  assert.equal(JSON.parse(hub.requests[1]?.body.toString('utf8') ?? ''), { sensor: '*', rooms: ['*'] });
  const answer = JSON.parse(result.stdout) as { token: string; id: string };
  assert.is(answer.token, 'rws_secret_t-00000003');
  assert.is(answer.id, 't-00000003');
});

test('tokens create refuses, before sending, a missing or bad pattern, two patterns, and missing or bad rooms', async () => {
  const cases: [string[], RegExp][] = [
    [['--room', 'hall'], /needs --sensor PATTERN/],
    [['--sensor', 'rack *', '--room', 'hall'], /invalid --sensor pattern "rack \*"/],
    [['--sensor', 'a*,b*', '--room', 'hall'], /takes one --sensor pattern/],
    [['--sensor', 'rack*'], /needs --room/],
    [['--sensor', 'rack*', '--room', 'server room'], /neither a room name/],
    [['--sensor', 'rack*', '--room', 'hall', '--metric', 'temperature'], /--metric does not apply to tokens/],
  ];
  for (const [args, message] of cases) {
    const result = await cli(['tokens', 'create', ...args]);
    assert.is(result.code, 2, `${args.join(' ')}: ${result.stderr}`);
    assert.match(result.stderr, message);
  }
  const listWithSensor = await cli(['tokens', 'list', '--sensor', 'x']);
  assert.is(listWithSensor.code, 2);
  assert.match(listWithSensor.stderr, 'option --sensor does not apply to tokens list');
  assert.equal(routes(), []);
});

test("the hub's first token, without a terminal: refused without --yes, saying it disconnects every sensor without one", async () => {
  // Only a revoked token: none in force, so the sensor port asks no sensor for one yet.
  await hubWithTokens([existing[1]!]);
  const refused = await cli(['tokens', 'create', '--sensor', 'rack*', '--room', 'server-room']);
  assert.is(refused.code, 2, refused.stderr);
  assert.match(refused.stderr, "This is the hub's first sensor token");
  assert.match(refused.stderr, 'every sensor connected without one now is disconnected (error 401)');
  assert.match(refused.stderr, 'add --yes to create it all the same');
  assert.equal(routes(), ['GET /api/v1/tokens'], 'nothing created');

  const forced = await cli(['tokens', 'create', '--sensor', 'rack*', '--room', 'server-room', '--yes']);
  assert.is(forced.code, 0, forced.stderr);
  assert.equal(routes().slice(1), ['POST /api/v1/tokens'], '--yes: not even asked whether it is the first');
  assert.match(forced.stdout, /^created token /);
});

test("the hub's first token, on a terminal: the warning and a question; only yes creates it", async () => {
  await hubWithTokens([]);
  const args = ['tokens', 'create', '--sensor', 'rack*', '--room', 'server-room', '--hub', hub.url];
  const declined = await runCliInProcess(args, { env, stdinTTY: true, stdin: '\n' });
  assert.is(declined.code, 2, declined.stderr);
  assert.match(declined.stderr, 'every sensor connected without one now is disconnected (error 401)');
  assert.match(declined.stderr, 'Create it? [y/N] ');
  assert.match(declined.stderr, 'no token created');
  assert.equal(routes(), ['GET /api/v1/tokens']);

  const accepted = await runCliInProcess(args, { env, stdinTTY: true, stdin: 'yes\n' });
  assert.is(accepted.code, 0, accepted.stderr);
  assert.equal(routes().slice(1), ['GET /api/v1/tokens', 'POST /api/v1/tokens']);
  assert.match(accepted.stdout, /rws_secret_t-00000001/);
});

test('tokens list prints id, sensor, rooms, note, created, by and revoked, in local time', async () => {
  const result = await cli(['tokens', 'list']);
  assert.is(result.code, 0, result.stderr);
  assert.equal(
    result.stdout
      .trimEnd()
      .split('\n')
      .map((l) => l.split(/\s{2,}/)),
    [
      ['id', 'sensor', 'rooms', 'note', 'created', 'by', 'revoked'],
      ['t-6f3a9c2e', 'rack*', 'server-room', 'rack sensors', '2025-11-21 08:00:00', 'sue', '-'],
      ['t-0b1c2d3e', '*', '*', '2025-11-21 08:01:00', 'sue', '2025-11-21 08:02:00'],
    ],
  );
  assert.equal(routes(), ['GET /api/v1/tokens']);
  const json = await cli(['tokens', 'list', '--json']);
  assert.equal(JSON.parse(json.stdout), { tokens: existing });
});

test("tokens revoke DELETEs the token and says when; an unknown id is the hub's 404 (exit 1)", async () => {
  const result = await cli(['tokens', 'revoke', 't-6f3a9c2e']);
  assert.is(result.code, 0, result.stderr);
  assert.equal(routes(), ['DELETE /api/v1/tokens/t-6f3a9c2e']);
  assert.match(result.stdout, /^revoked token t-6f3a9c2e at \d{4}-\d\d-\d\d \d\d:\d\d:\d\d; sensors connected with it are disconnected\n$/);
  assert.ok(hub.access.tokens[0]?.revoked_at);
  const unknown = await cli(['tokens', 'revoke', 't-nope']);
  assert.is(unknown.code, 1);
  assert.match(unknown.stderr, 'hub refused (404 not_found)');
  const none = await cli(['tokens', 'revoke']);
  assert.is(none.code, 2);
  assert.match(none.stderr, 'tokens revoke needs ID');
});

test.run();
