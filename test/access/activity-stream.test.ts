// docs/API.md "Activity, live": an admin's page follows the activity log on a WebSocket,
// `GET /api/v1/activity/stream`, instead of polling: with `after` (the poll's last_id) the
// stored events after it first, then each new batch, every event once and in id order; the
// poll's filters; admins only (403 before the upgrade), the cookie from the hub's own page
// accepted and a foreign page refused; a logout or a lost admin role closes it (1008); at most
// 10 per user (429); `after` more than 1000 events back is refused.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { json } from '../support/api-client.ts';
import {
  activity,
  asUser,
  DEMO_PASSWORD,
  expectRefused,
  loginRequest,
  putUser,
  seedDemo,
  startAccessHub,
  type DemoTokens,
} from '../support/access-setup.ts';
import { tryUpgrade } from '../support/auth-stream.ts';
import { cookieLogin } from '../support/cookie-session.ts';
import type { InProcessHub } from '../support/hub-process.ts';
import { openStream, type StreamClient, type StreamMessage } from '../support/stream-client.ts';
import { exitWhenDone, perTest } from '../support/teardown.ts';

test.after.each(() => perTest.run());
test.after(() => exitWhenDone());

const PATH = '/api/v1/activity/stream';

interface Event {
  id: number;
  action: string;
  actor: string;
  outcome: string;
}

async function demoHub(): Promise<{ h: InProcessHub; tokens: DemoTokens }> {
  const h = await startAccessHub();
  return { h, tokens: await seedDemo(h.httpPort) };
}

function follow(h: InProcessHub, token: string, query = ''): Promise<StreamClient> {
  return openStream(h.httpPort, perTest, { token, path: `${PATH}${query}` });
}

/** Events from the stream's `activity` messages until `done` says the list is complete. */
async function eventsUntil(c: StreamClient, done: (events: Event[]) => boolean, timeoutMs = 10_000): Promise<Event[]> {
  const events: Event[] = [];
  const deadline = Date.now() + timeoutMs;
  while (!done(events)) {
    const m: StreamMessage = await c.next({ type: 'activity' }, Math.max(1, deadline - Date.now()));
    events.push(...(m.events as Event[]));
  }
  return events;
}

function assertIncreasing(events: Event[], after: number): void {
  let last = after;
  for (const e of events) {
    assert.ok(e.id > last, `ids increase, each once: ${events.map((x) => x.id).join(', ')} (after ${after})`);
    last = e.id;
  }
}

test('an admin follows new events as they are recorded, without polling', async () => {
  const { h, tokens } = await demoHub();
  const c = await follow(h, tokens.root);
  assert.is((await loginRequest(h.httpPort, 'alex', 'wrong-password')).status, 401);
  // The demo hub's own earlier logins of alex (outcome ok) may still be on their way to the
  // stream: wait for the refused one this test made, which must come through.
  const refused = (e: Event) => e.action === 'login' && e.actor === 'alex' && e.outcome === 'denied';
  const events = await eventsUntil(c, (es) => es.some(refused));
  const bad = events.find(refused)!;
  assert.is(bad.outcome, 'denied');
  // The same event as the poll shows it.
  const polled = await activity(h.httpPort, tokens.root, `?after=${bad.id - 1}&limit=1`);
  assert.equal(polled.events[0], bad);
});

test('after=<last_id> sends the stored events after it first, then live ones: each once, in order', async () => {
  const { h, tokens } = await demoHub();
  const { last_id: lastId } = await activity(h.httpPort, tokens.root, '?limit=1');
  for (const user of ['alex', 'sue', 'sandy']) assert.is((await loginRequest(h.httpPort, user, DEMO_PASSWORD)).status, 200);
  const c = await follow(h, tokens.root, `?after=${String(lastId)}`);
  const backfill = await eventsUntil(c, (es) => ['alex', 'sue', 'sandy'].every((u) => es.some((e) => e.actor === u)));
  assertIncreasing(backfill, Number(lastId));
  assert.is(backfill[0]!.id, Number(lastId) + 1, 'nothing between the poll and the stream is missed');
  assert.is((await loginRequest(h.httpPort, 'alex', DEMO_PASSWORD)).status, 200);
  const live = await eventsUntil(c, (es) => es.some((e) => e.actor === 'alex'));
  assertIncreasing([...backfill, ...live], Number(lastId));
});

test('action and actor filter the stream as they filter the poll; a bad filter is a 400 before the upgrade', async () => {
  const { h, tokens } = await demoHub();
  const c = await follow(h, tokens.root, '?action=login&actor=sue');
  await loginRequest(h.httpPort, 'alex', DEMO_PASSWORD);
  await asUser(h.httpPort, tokens.alex).post('/api/v1/logout');
  await loginRequest(h.httpPort, 'sue', DEMO_PASSWORD);
  const events = await eventsUntil(c, (es) => es.length > 0);
  assert.equal(
    events.map((e) => [e.action, e.actor]),
    [['login', 'sue']],
  );
  const bad = await tryUpgrade(h.httpPort, { authorization: `Bearer ${tokens.root}` }, 10_000, `${PATH}?actor=not%20a%20name`);
  expectRefused(bad, 400, 'bad_parameter', 'a bad actor');
  expectRefused(await tryUpgrade(h.httpPort, { authorization: `Bearer ${tokens.root}` }, 10_000, `${PATH}?limit=5`), 400, 'bad_parameter');
});

test('only admins: a viewer gets 403 and no credential 401, before the upgrade; an admin’s cookie works from the hub’s own page only', async () => {
  const { h, tokens } = await demoHub();
  expectRefused(await tryUpgrade(h.httpPort, { authorization: `Bearer ${tokens.alex}` }, 10_000, PATH), 403, 'forbidden', 'a viewer');
  expectRefused(await tryUpgrade(h.httpPort, {}, 10_000, PATH), 401, 'unauthorized', 'no credential');
  const root = await cookieLogin(h.httpPort, 'root', 'root-password-1');
  expectRefused(await tryUpgrade(h.httpPort, root.upgradeHeaders('http://evil.example'), 10_000, PATH), 403, 'csrf_refused');
  const c = await openStream(h.httpPort, perTest, { headers: root.upgradeHeaders(), path: PATH });
  await loginRequest(h.httpPort, 'sandy', DEMO_PASSWORD);
  const events = await eventsUntil(c, (es) => es.some((e) => e.actor === 'sandy'));
  assert.ok(events.length > 0);
});

test('a logout closes the admin’s activity stream, and so does losing the admin role (1008)', async () => {
  const { h, tokens } = await demoHub();
  const byLogout = await follow(h, tokens.sue);
  assert.is((await asUser(h.httpPort, tokens.sue).post('/api/v1/logout')).status, 200);
  assert.is(await byLogout.closed(), 1008);
  const sue = json<{ token: string }>(await loginRequest(h.httpPort, 'sue', DEMO_PASSWORD)).token;
  const byRole = await follow(h, sue);
  await putUser(h.httpPort, 'sue', { role: 'viewer', rooms: ['living-room'] }, tokens.root);
  const error = await byRole.next({ type: 'error' });
  assert.is(error.code, 'forbidden');
  assert.is(await byRole.closed(), 1008);
});

test('at most 10 activity streams per user (429 too_many_streams), and a closed one frees its seat', async () => {
  const { h, tokens } = await demoHub();
  const open: StreamClient[] = [];
  for (let i = 0; i < 10; i++) open.push(await follow(h, tokens.root));
  expectRefused(await tryUpgrade(h.httpPort, { authorization: `Bearer ${tokens.root}` }, 10_000, PATH), 429, 'too_many_streams');
  await open[0]!.close();
  await follow(h, tokens.root);
});

test('after more than 1000 events back is refused with bad_parameter and a close: page with GET /api/v1/activity first', async () => {
  const { h, tokens } = await demoHub();
  const { last_id: lastId } = await activity(h.httpPort, tokens.root, '?limit=1');
  // Refused exports are recorded too, and cost the hub next to nothing: 1001 events quickly.
  for (let batch = 0; batch < 11; batch++) {
    await Promise.all(Array.from({ length: 91 }, () => asUser(h.httpPort, tokens.root).get('/api/v1/history.csv?from=nonsense')));
  }
  await waitForEvents(h, tokens.root, Number(lastId) + 1001);
  const c = await follow(h, tokens.root, `?after=${String(lastId)}`);
  const error = await c.next({ type: 'error' });
  assert.is(error.code, 'bad_parameter');
  assert.match(String(error.message), /GET \/api\/v1\/activity\?after=/);
  assert.is(await c.closed(), 1008);
  // From a recent id, the same stream is fine.
  const recent = await activity(h.httpPort, tokens.root, '?limit=1');
  const ok = await follow(h, tokens.root, `?after=${Number(recent.last_id) - 5}`);
  assert.is((await eventsUntil(ok, (es) => es.length >= 5)).length >= 5, true);
});

async function waitForEvents(h: InProcessHub, token: string, id: number): Promise<void> {
  const { last_id: last } = await activity(h.httpPort, token, '?limit=1');
  assert.ok(Number(last) >= id, `the log reached id ${id} (at ${String(last)})`);
}

test.run();
