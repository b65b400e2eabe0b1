// `activity` (docs/ADMIN.md "Activity log"): the table, the query sent, and --follow printing events
// that happen later until Ctrl-C (exit 0) or the hub goes away (exit 3). Every wait is on the
// CLI's output or its exit, never a sleep, so a busy machine only makes these tests slower.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { ActivityEvent } from '../access-types.ts';
import { startFakeHub } from '../testing/fake-hub.ts';
import type { FakeHub } from '../testing/fake-hub.ts';
import { runCliProcess } from '../testing/run-cli-process.ts';

const T0 = Date.UTC(2025, 10, 21, 8, 0, 0);
const events: ActivityEvent[] = [
  {
    id: 1,
    ts: T0,
    actor: 'rack-01',
    address: '10.0.0.7',
    action: 'sensor.connect',
    target: 'server-room',
    outcome: 'ok',
    code: 200,
    detail: '',
  },
  {
    id: 2,
    ts: T0 + 5_000,
    actor: 'alex',
    address: '10.0.0.9',
    action: 'login',
    target: 'alex',
    outcome: 'denied',
    code: 401,
    detail: 'bad password',
  },
  {
    id: 3,
    ts: T0 + 9_000,
    actor: 'sue',
    address: '127.0.0.1',
    action: 'user.put',
    target: 'sandy',
    outcome: 'ok',
    code: 201,
    detail: '',
  },
];
const later: Omit<ActivityEvent, 'id'> = {
  ts: T0 + 60_000,
  actor: 'sue',
  address: '127.0.0.1',
  action: 'token.create',
  target: 't-6f3a9c2e',
  outcome: 'ok',
  code: 201,
  detail: 'rack sensors',
};

let hub: FakeHub;
const env = { ROOMWATCH_TOKEN: 'admin-token', TZ: 'UTC' };

test.before.each(async () => {
  hub = await startFakeHub({ access: { activity: events } });
});

test.after.each(async () => {
  await hub.close();
});

const cli = (args: string[], extra: Parameters<typeof runCliProcess>[1] = {}) =>
  runCliProcess([...args, '--hub', hub.url], { env, ...extra });
const query = (i: number): URLSearchParams => new URL(hub.requests[i]?.url ?? '', hub.url).searchParams;

test('activity prints time, actor, address, action, target, outcome with code, and detail, oldest first; 50 by default', async () => {
  const result = await cli(['activity']);
  assert.is(result.code, 0, result.stderr);
  assert.equal(
    result.stdout
      .trimEnd()
      .split('\n')
      .map((l) => l.split(/\s{2,}/)),
    [
      ['time', 'actor', 'address', 'action', 'target', 'outcome', 'detail'],
      ['2025-11-21 08:00:00', 'rack-01', '10.0.0.7', 'sensor.connect', 'server-room', 'ok 200'],
      ['2025-11-21 08:00:05', 'alex', '10.0.0.9', 'login', 'alex', 'denied 401', 'bad password'],
      ['2025-11-21 08:00:09', 'sue', '127.0.0.1', 'user.put', 'sandy', 'ok 201'],
    ],
  );
  assert.is(hub.requests[0]?.url, '/api/v1/activity?limit=50');
  assert.is(hub.requests[0]?.authorization, 'Bearer admin-token');
});

test("--action, --actor and --limit are sent as the hub's parameters; --json prints the hub's answer", async () => {
  const result = await cli(['activity', '--action', 'login,user.put', '--actor', 'alex', '--limit', '10', '--json']);
  assert.is(result.code, 0, result.stderr);
  assert.is(hub.requests[0]?.url, '/api/v1/activity?limit=10&action=login,user.put&actor=alex');
  assert.equal(JSON.parse(result.stdout), { events: [events[1]], last_id: 2 });
  const none = await cli(['activity', '--actor', 'nobody']);
  assert.is(none.stdout, 'no events match the filters\n');
});

test('an unknown action, a bad limit, and the reading filters are usage errors before any request', async () => {
  const cases: [string[], RegExp][] = [
    [['--action', 'logins'], /unknown --action "logins"; the actions are sensor.connect, login/],
    [['--limit', '0'], /--limit must be a whole number from 1 to 1000/],
    [['--limit', '1001'], /--limit/],
    [['--room', 'hall'], /option --room does not apply to activity/],
    [['--actor', 'a b'], /invalid --actor/],
  ];
  for (const [args, message] of cases) {
    const result = await cli(['activity', ...args]);
    assert.is(result.code, 2, `${args.join(' ')}: ${result.stderr}`);
    assert.match(result.stderr, message);
  }
  const follow = await cli(['latest', '--follow']);
  assert.is(follow.code, 2);
  assert.is(hub.requests.length, 0);
});

test('--follow prints the events, then new ones as the hub records them, asking after the last id; Ctrl-C exits 0', async () => {
  let step: 'first' | 'later' | 'done' = 'first';
  const result = await cli(['activity', '--follow'], {
    onStdout: (stdout, child) => {
      if (step === 'first' && stdout.includes('user.put')) {
        step = 'later';
        hub.access.addActivity(later);
      } else if (step === 'later' && stdout.includes('token.create')) {
        step = 'done';
        child.kill('SIGINT');
      }
    },
  });
  assert.is(step, 'done');
  assert.is(result.code, 0, result.stderr);
  assert.is(result.stderr, '');
  const lines = result.stdout.trimEnd().split('\n');
  assert.match(lines[0] ?? '', /^time +actor +address +action +target +outcome +detail$/);
  assert.equal(
    lines.slice(1).map((l) => l.split(/\s{2,}/)[3]),
    ['sensor.connect', 'login', 'user.put', 'token.create'],
  );
  assert.match(lines[4] ?? '', /2025-11-21 08:01:00 +sue +127\.0\.0\.1 +token\.create +t-6f3a9c2e +ok 201 +rack sensors$/);
  // The first request as without --follow; every poll after the last event seen.
  assert.is(query(0).get('after'), null);
  for (let i = 1; i < hub.requests.length; i++) assert.ok(['3', '4'].includes(query(i).get('after') ?? ''), hub.requests[i]?.url);
});

test('--follow --json prints one event per line (NDJSON), the later ones included', async () => {
  let added = false;
  let interrupted = false;
  const result = await cli(['activity', '--follow', '--json', '--action', 'token.create,login'], {
    onStdout: (stdout, child) => {
      const count = stdout.split('\n').length - 1;
      if (!added && count >= 1) {
        added = true;
        hub.access.addActivity({ ...later, action: 'user.delete' }, later);
      } else if (!interrupted && count >= 2) {
        interrupted = true;
        child.kill('SIGINT');
      }
    },
  });
  assert.is(result.code, 0, result.stderr);
  assert.equal(
    result.stdout
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as unknown),
    [events[1], { ...later, id: 5 }],
  );
  assert.ok(hub.requests.slice(1).every((_, i) => query(i + 1).get('action') === 'token.create,login'));
});

test('--follow exits 3 with a message when the hub goes away', async () => {
  let closing: Promise<void> | undefined;
  const result = await cli(['activity', '--follow'], {
    onStdout: (stdout) => {
      if (!closing && stdout.includes('user.put')) closing = hub.close();
    },
  });
  await closing;
  assert.is(result.code, 3);
  // Refused, or reset if a poll was under way as it closed: either way the hub is gone.
  assert.match(result.stderr, `cannot reach the hub at ${hub.url} (connection re`);
  hub = await startFakeHub(); // for after.each
});

test.run();
