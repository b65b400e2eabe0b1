// docs/ADMIN.md "Activity log (admin)": every sensor connection (accepted or refused), login
// (good or bad) and logout, report-now, upload, history export and change to users or tokens
// is recorded with time, who, from where, what and the outcome; GET /api/v1/activity with
// after, limit, action and actor; admins only; kept in the store across a restart.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { waitFor } from '../support/api-client.ts';
import {
  activity,
  asUser,
  createSensorToken,
  expectRefused,
  login,
  loginRequest,
  putUser,
  revokeSensorToken,
  startAccessHub,
  type ActivityEvent,
} from '../support/access-setup.ts';
import type { InProcessHub } from '../support/hub-process.ts';
import { connect } from '../support/tcp-sensor.ts';
import { exitWhenDone, perTest, Teardown } from '../support/teardown.ts';
import { tsSequence } from '../support/wire.ts';

const fileScope = new Teardown();
const nextTs = tsSequence();
test.after.each(() => perTest.run());
test.after(async () => {
  await fileScope.run();
  exitWhenDone();
});

/** A field the test reads as text whatever the hub sent: absent or null is empty, a string as it is, anything else as JSON. */
const asText = (v: unknown): string => (v === undefined || v === null ? '' : typeof v === 'string' ? v : JSON.stringify(v));

const ACTIONS = [
  'sensor.connect',
  'login',
  'logout',
  'report-now',
  'upload',
  'export',
  'user.put',
  'user.delete',
  'token.create',
  'token.revoke',
];

interface Expected {
  action: string;
  actor: string;
  outcome: 'ok' | 'denied' | 'failed';
  code?: number;
  /** the target or the detail must contain this */
  target?: string;
  what: string;
}

interface Story {
  h: InProcessHub;
  root: string;
  tokenId: string;
  startedAt: number;
  expected: Expected[];
}

/** One hub on which every kind of event happens once, in this order. */
let telling: Promise<Story> | undefined;
function story(): Promise<Story> {
  return (telling ??= (async () => {
    const startedAt = Date.now();
    const h = await startAccessHub({}, fileScope);
    const port = h.httpPort;
    // an open hub: a sensor connects without a token, and anyone creates the first user
    const open = await connect(h.tcpPort, '127.0.0.1', fileScope);
    await open.hello('act-open', 'lab');
    await open.close();
    await putUser(port, 'root', { role: 'admin', rooms: ['*'], password: 'root-password' });
    const root = (await login(port, 'root', 'root-password')).token;
    expectRefused(await loginRequest(port, 'root', 'not-the-password'), 401, 'bad_credentials');
    const token = await createSensorToken(port, { sensor: 'act-rack-*', rooms: ['lab'] }, root);
    // now the sensor port asks for a token
    const refused = await connect(h.tcpPort, '127.0.0.1', fileScope);
    await refused.send({ type: 'hello', v: 1, sensor: 'act-refused', room: 'lab' });
    const e = await refused.next();
    assert.is(e.code, 401, `a hello without a token: ${JSON.stringify(e)}`);
    const rack = await connect(h.tcpPort, '127.0.0.1', fileScope);
    await rack.hello('act-rack-1', 'lab', { token: token.token });
    await rack.send({ type: 'reading', metric: 'temperature', value: 20, unit: 'C', ts: nextTs(), seq: 1 });
    await rack.ackCovering(1);
    await rack.close();

    const admin = asUser(port, root);
    assert.is((await admin.post('/api/v1/report-now', { timeout_ms: 0 })).status, 200, 'report-now');
    const up = await admin.upload(`ts,sensor,room,metric,value,unit\n${nextTs()},act-upload,lab,temperature,19,C\n`);
    assert.is(up.status, 200, `upload: ${up.text}`);
    assert.is((await admin.get('/api/v1/history.csv?room=lab')).status, 200, 'export');
    await putUser(port, 'alex', { role: 'viewer', rooms: ['lab'], password: 'alex-password' }, root);
    const alex = (await login(port, 'alex', 'alex-password')).token;
    const out = await asUser(port, alex).post('/api/v1/logout');
    assert.ok(out.status === 200 || out.status === 204, `logout: ${out.status}`);
    const del = await admin.del('/api/v1/users/alex');
    assert.ok(del.status === 200 || del.status === 204, `delete alex: ${del.status}`);
    await revokeSensorToken(port, token.id, root);

    const expected: Expected[] = [
      { what: 'a sensor on the open hub', action: 'sensor.connect', actor: 'act-open', outcome: 'ok' },
      { what: 'the first user, made on the open API', action: 'user.put', actor: 'anonymous', outcome: 'ok', code: 201, target: 'root' },
      { what: 'a good login', action: 'login', actor: 'root', outcome: 'ok', code: 200 },
      { what: 'a bad login', action: 'login', actor: 'root', outcome: 'denied', code: 401 },
      { what: 'a token created', action: 'token.create', actor: 'root', outcome: 'ok', code: 201, target: token.id },
      { what: 'a sensor refused for want of a token', action: 'sensor.connect', actor: 'act-refused', outcome: 'denied', code: 401 },
      { what: 'a sensor with a good token', action: 'sensor.connect', actor: 'act-rack-1', outcome: 'ok' },
      { what: 'report-now', action: 'report-now', actor: 'root', outcome: 'ok', code: 200 },
      { what: 'an upload', action: 'upload', actor: 'root', outcome: 'ok', code: 200 },
      { what: 'a history export', action: 'export', actor: 'root', outcome: 'ok', code: 200 },
      { what: 'a user created by an admin', action: 'user.put', actor: 'root', outcome: 'ok', code: 201, target: 'alex' },
      { what: 'a logout', action: 'logout', actor: 'alex', outcome: 'ok' },
      { what: 'a user deleted', action: 'user.delete', actor: 'root', outcome: 'ok', target: 'alex' },
      { what: 'a token revoked', action: 'token.revoke', actor: 'root', outcome: 'ok', target: token.id },
    ];
    return { h, root, tokenId: token.id, startedAt, expected };
  })());
}

function fits(e: ActivityEvent, x: Expected): boolean {
  return (
    e.action === x.action &&
    e.actor === x.actor &&
    e.outcome === x.outcome &&
    (x.code === undefined || Number(e.code) === x.code) &&
    (x.target === undefined || `${asText(e.target)} ${asText(e.detail)}`.includes(x.target))
  );
}

/** The whole log once every expected event is in it (the log may be written a moment after the answer). */
async function fullLog(s: Story): Promise<ActivityEvent[]> {
  let last: ActivityEvent[] = [];
  try {
    return await waitFor('every expected event in the activity log', async () => {
      last = (await activity(s.h.httpPort, s.root, '?limit=1000')).events;
      return s.expected.every((x) => last.some((e) => fits(e, x))) ? last : undefined;
    });
  } catch {
    const missing = s.expected.filter((x) => !last.some((e) => fits(e, x))).map((x) => `${x.what}: ${JSON.stringify(x)}`);
    assert.equal(missing, [], `events missing; the log holds:\n${last.map((e) => JSON.stringify(e)).join('\n')}`);
    return last;
  }
}

test('every kind of action is recorded, with who did it, the outcome and the code', async () => {
  // ADMIN.md "Activity log": sensor connections accepted or refused, logins good or bad, logout, report-now,
  // upload, history export, changes to users or tokens; outcome ok/denied/failed; code the status or protocol code
  const s = await story();
  const events = await fullLog(s);
  const seen = new Set(events.map((e) => e.action));
  assert.equal(
    ACTIONS.filter((a) => !seen.has(a)),
    [],
    'an event of each action',
  );
});

test('each event has an id, a ts, an actor, the address, an action, a target, an outcome, a code and a detail', async () => {
  // ADMIN.md: {"events":[{"id","ts","actor","address","action","target","outcome","code","detail"}],"last_id"}
  const s = await story();
  const events = await fullLog(s);
  const ids = new Set<string>();
  for (const e of events) {
    const label = JSON.stringify(e);
    for (const k of ['id', 'ts', 'actor', 'address', 'action', 'target', 'outcome', 'code', 'detail'])
      assert.ok(k in e, `${k} in ${label}`);
    assert.ok(Number.isInteger(e.ts) && e.ts >= s.startedAt - 1_000 && e.ts <= Date.now() + 1_000, `ts is ms of the test: ${label}`);
    assert.ok(typeof e.actor === 'string' && e.actor.length > 0, `an actor: ${label}`);
    assert.match(String(e.address), /127\.0\.0\.1/, `the address: ${label}`);
    assert.ok(ACTIONS.includes(e.action), `a documented action: ${label}`);
    assert.ok(['ok', 'denied', 'failed'].includes(e.outcome), `a documented outcome: ${label}`);
    ids.add(String(e.id));
  }
  assert.is(ids.size, events.length, 'ids are unique');
});

test('events come oldest first, in the order they happened, and last_id is the last one’s id', async () => {
  // ADMIN.md: "answers, oldest first"
  const s = await story();
  const events = await fullLog(s);
  const positions = s.expected.map((x) => events.findIndex((e) => fits(e, x)));
  assert.equal(
    positions,
    [...positions].sort((a, b) => a - b),
    `the story's events in order: ${positions.join(', ')}`,
  );
  for (let i = 1; i < events.length; i++) assert.ok(events[i]!.ts >= events[i - 1]!.ts, `ts never goes back (event ${i})`);
  const page = await activity(s.h.httpPort, s.root, '?limit=1000');
  assert.equal(page.last_id, page.events.at(-1)?.id);
});

test('after=<id> answers only the events after that one', async () => {
  // ADMIN.md: "after (an event id: only later events)"
  const s = await story();
  const events = await fullLog(s);
  const pivot = events.findIndex((e) => e.action === 'report-now');
  assert.ok(pivot > 0, 'the report-now event');
  const later = await activity(s.h.httpPort, s.root, `?after=${encodeURIComponent(String(events[pivot]!.id))}&limit=1000`);
  const wanted = events.slice(pivot + 1);
  assert.equal(
    later.events.slice(0, wanted.length).map((e) => e.id),
    wanted.map((e) => e.id),
  );
  // the GET activity requests themselves are not in the documented actions, so nothing else came after
  assert.ok(later.events.every((e) => ACTIONS.includes(e.action)));
  const none = await activity(s.h.httpPort, s.root, `?after=${encodeURIComponent(asText(later.last_id ?? events.at(-1)!.id))}`);
  assert.equal(none.events, [], 'after the last id: nothing');
});

test('limit gives the newest events; action and actor filter; a limit out of 1..1000 is refused', async () => {
  // ADMIN.md: "limit (1 to 1000, default 100), action and actor (lists) ... Without after it gives the newest limit events"
  const s = await story();
  const events = await fullLog(s);
  const three = await activity(s.h.httpPort, s.root, '?limit=3');
  assert.equal(
    three.events.map((e) => e.id),
    events.slice(-3).map((e) => e.id),
  );
  const logins = (await activity(s.h.httpPort, s.root, '?action=login&limit=1000')).events;
  assert.ok(logins.length >= 3, 'root good and bad, alex');
  assert.ok(logins.every((e) => e.action === 'login'));
  assert.equal([...new Set(logins.map((e) => e.outcome))].sort(), ['denied', 'ok']);
  const two = (await activity(s.h.httpPort, s.root, '?action=token.create,token.revoke&limit=1000')).events;
  assert.equal(
    two.map((e) => e.action),
    ['token.create', 'token.revoke'],
  );
  const alex = (await activity(s.h.httpPort, s.root, '?actor=alex&limit=1000')).events;
  assert.ok(alex.length >= 2 && alex.every((e) => e.actor === 'alex'), `alex's events: ${JSON.stringify(alex)}`);
  for (const bad of ['0', '1001', 'ten']) {
    const res = await asUser(s.h.httpPort, s.root).get(`/api/v1/activity?limit=${bad}`);
    assert.is(res.status, 400, `limit=${bad}: ${res.status}`);
  }
});

test('refused and failed requests are recorded as denied and failed, with their status', async () => {
  // ADMIN.md: "outcome is ok, denied (401, 403, 429) or failed; code is the status or protocol code given"
  const s = await story();
  await putUser(s.h.httpPort, 'vera', { role: 'viewer', rooms: ['lab'], password: 'vera-password' }, s.root);
  const vera = (await login(s.h.httpPort, 'vera', 'vera-password')).token;
  expectRefused(
    await asUser(s.h.httpPort, vera).upload(`ts,sensor,room,metric,value,unit\n${nextTs()},act-x,lab,temperature,1,C\n`),
    403,
    'forbidden',
  );
  const invalid = await asUser(s.h.httpPort, s.root).upload(`ts,sensor,room,metric,value,unit\nyesterday,act-x,lab,temperature,1,C\n`);
  assert.is(invalid.status, 422, invalid.text);
  const wanted: Expected[] = [
    { what: 'a viewer’s upload', action: 'upload', actor: 'vera', outcome: 'denied', code: 403 },
    { what: 'an invalid upload', action: 'upload', actor: 'root', outcome: 'failed', code: 422 },
  ];
  let last: ActivityEvent[] = [];
  await waitFor('the refused and the failed upload in the log', async () => {
    last = (await activity(s.h.httpPort, s.root, '?action=upload&limit=1000')).events;
    return wanted.every((x) => last.some((e) => fits(e, x)));
  }).catch(() => {
    assert.equal(
      wanted.filter((x) => !last.some((e) => fits(e, x))).map((x) => x.what),
      [],
      `the uploads in the log:\n${last.map((e) => JSON.stringify(e)).join('\n')}`,
    );
  });
});

test('a viewer and an operator get 403 forbidden for the activity log', async () => {
  // ADMIN.md: admin: "read the activity log"
  const s = await story();
  await putUser(s.h.httpPort, 'olga', { role: 'operator', rooms: ['*'], password: 'olga-password' }, s.root);
  await putUser(s.h.httpPort, 'vince', { role: 'viewer', rooms: ['*'], password: 'vince-password' }, s.root);
  for (const [name, password] of [
    ['olga', 'olga-password'],
    ['vince', 'vince-password'],
  ] as const) {
    const token = (await login(s.h.httpPort, name, password)).token;
    expectRefused(await asUser(s.h.httpPort, token).get('/api/v1/activity'), 403, 'forbidden', name);
  }
});

test('the activity log survives a restart of the hub on the same data folder', async () => {
  // ADMIN.md: "The hub records, in the store, ..."
  const h1 = await startAccessHub();
  await putUser(h1.httpPort, 'keeper', { role: 'admin', rooms: ['*'], password: 'keeper-password' });
  const t1 = (await login(h1.httpPort, 'keeper', 'keeper-password')).token;
  const before = await waitFor('the first events', async () => {
    const ev = (await activity(h1.httpPort, t1, '?limit=1000')).events;
    return ev.some((e) => e.action === 'user.put') && ev.some((e) => e.action === 'login') ? ev : undefined;
  });
  await h1.stop();

  const h2 = await startAccessHub({ dataDir: h1.dataDir });
  const t2 = (await login(h2.httpPort, 'keeper', 'keeper-password')).token;
  const after = await waitFor('the events after the restart', async () => {
    const ev = (await activity(h2.httpPort, t2, '?limit=1000')).events;
    return ev.filter((e) => e.action === 'login').length >= 2 ? ev : undefined;
  });
  assert.equal(
    after.slice(0, before.length).map((e) => [e.id, e.action, e.actor, e.ts]),
    before.map((e) => [e.id, e.action, e.actor, e.ts]),
    'the events from before the restart, unchanged',
  );
  const newLogin = after.slice(before.length).find((e) => e.action === 'login');
  assert.ok(newLogin, 'the login after the restart comes after them');
  assert.ok(!before.some((e) => String(e.id) === String(newLogin.id)), 'a new id, not one reused');
  const tail = await activity(h2.httpPort, t2, `?after=${encodeURIComponent(String(before.at(-1)!.id))}&limit=1000`);
  assert.ok(
    tail.events.some((e) => e.id === newLogin.id),
    'after=<an id from before the restart> finds the new events',
  );
});

test.run();
