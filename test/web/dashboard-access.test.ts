// The dashboard on a hub with users (docs/DASHBOARD.md "Logging in", docs/ADMIN.md "Users, roles
// and rooms"), in real Chromium, with simulated sensors in every demo room, greenhouse included:
// the login form and Log out; alex (viewer of living-room and server-room) never sees greenhouse,
// in the page, in any request or in any stream frame; each role sees only what it may do; an
// admin's activity log follows new events without a reload.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { waitFor } from '../support/api-client.ts';
import { asUser, DEMO_PASSWORD, login, seedDemo, startAccessHub, type DemoTokens } from '../support/access-setup.ts';
import { launchBrowser, type LaunchedBrowser } from '../support/browser.ts';
import type { InProcessHub } from '../support/hub-process.ts';
import { spawnNode } from '../support/node-process.ts';
import { exitWhenDone, perTest, Teardown } from '../support/teardown.ts';
import { chartsDrawn, openPage, roomCard, type DashboardPage } from './dashboard-fixture.ts';

const file = new Teardown();
test.after.each(() => perTest.run());
test.after(async () => {
  await file.run();
  exitWhenDone();
});

const FLEET = 10; // two sensors in each of the five demo rooms

interface Setup {
  hub: InProcessHub;
  tokens: DemoTokens;
  browser: LaunchedBrowser;
}

let setup: Promise<Setup | null> | undefined;

function shared(): Promise<Setup | null> {
  return (setup ??= (async () => {
    const browser = await launchBrowser('dashboard access browser tests');
    if (!browser) return null;
    file.add('browser', () => browser.close());
    const hub = await startAccessHub({}, file);
    const tokens = await seedDemo(hub.httpPort);
    spawnNode(
      ['sensors/main.ts', '--count', String(FLEET), '--host', '127.0.0.1', '--port', String(hub.tcpPort), '--interval', '500'],
      {},
      file,
    );
    await waitFor(
      'the fleet connected',
      async () => {
        const res = await asUser(hub.httpPort, tokens.root).get('/api/v1/sensors');
        return (JSON.parse(res.text) as { sensors: { connected: boolean }[] }).sensors.filter((s) => s.connected).length === FLEET;
      },
      60_000,
      200,
    );
    return { hub, tokens, browser };
  })());
}

async function logInAs(s: Setup, user: string, password = DEMO_PASSWORD): Promise<DashboardPage> {
  const p = await openPage(s.browser.browser, s.hub.httpPort);
  await p.goto('/');
  await p.page.getByLabel('User').fill(user);
  await p.page.getByLabel('Password').fill(password);
  await p.page.getByRole('button', { name: 'Log in' }).click();
  await p.page.getByRole('heading', { name: 'Overview' }).waitFor();
  return p;
}

test('the login form (User, Password, Log in) logs in with an HttpOnly cookie, a wrong password is told, and Log out ends the session', async () => {
  const s = await shared();
  if (!s) return;
  const p = await openPage(s.browser.browser, s.hub.httpPort);
  await p.goto('/');
  await p.page.getByLabel('User').fill('sue');
  await p.page.getByLabel('Password').fill('not-the-password');
  await p.page.getByRole('button', { name: 'Log in' }).click();
  await p.page.getByRole('alert').filter({ hasText: 'Wrong user name or password' }).waitFor();

  await p.page.getByLabel('Password').fill(DEMO_PASSWORD);
  await p.page.getByRole('button', { name: 'Log in' }).click();
  await p.page.getByRole('heading', { name: 'Overview' }).waitFor();
  const cookies = await p.page.context().cookies();
  const session = cookies.find((c) => c.name.startsWith('roomwatch_session'));
  assert.ok(session?.httpOnly, `an HttpOnly session cookie: ${JSON.stringify(cookies.map((c) => c.name))}`);
  assert.is(session.sameSite, 'Strict');
  assert.not.ok(
    p.requests.some((r) => /token=|bearer/i.test(r.url)),
    'no token in any URL',
  );
  await roomCard(p.page, 'greenhouse').waitFor(); // sue's rooms include the greenhouse

  await p.page.getByRole('button', { name: 'Log out' }).click();
  await p.page.getByRole('button', { name: 'Log in' }).waitFor();
  await p.page.reload();
  await p.page.getByRole('button', { name: 'Log in' }).waitFor();
  assert.not.ok(
    (await p.page.context().cookies()).some((c) => c.name.startsWith('roomwatch_session')),
    'the session cookie is gone',
  );
});

test('alex never sees greenhouse: not in the page, not in any request the page makes, not in any stream frame', async () => {
  const s = await shared();
  if (!s) return;
  const p = await logInAs(s, 'alex');
  await roomCard(p.page, 'living-room').waitFor();
  await roomCard(p.page, 'server-room').waitFor();
  // a live value arrives while alex watches, so the stream has been carrying readings
  await waitFor('stream readings reached the page', () => p.frames.some((f) => f.includes('"type":"reading"')), 15_000);
  const seen: string[] = [await p.page.content()];
  for (const room of ['living-room', 'server-room']) {
    await p.page.getByRole('link', { name: room, exact: true }).first().click();
    await chartsDrawn(p.page);
    seen.push(await p.page.content());
    await p.page.getByRole('link', { name: 'Overview' }).click();
    await roomCard(p.page, room).waitFor();
  }
  await p.page.getByRole('link', { name: 'Sensors' }).click();
  await p.page.getByRole('heading', { name: 'Sensors' }).waitFor();
  await p.page.getByRole('row').nth(1).waitFor();
  seen.push(await p.page.content());
  // viewers are not shown what they may not do
  assert.is(await p.page.getByRole('link', { name: 'Upload' }).count(), 0);
  assert.is(await p.page.getByRole('link', { name: 'Admin' }).count(), 0);
  await p.page.getByRole('link', { name: 'Overview' }).click();
  await roomCard(p.page, 'living-room').waitFor();
  assert.is(await p.page.getByRole('button', { name: 'Report now' }).count(), 0);

  for (const html of seen) assert.not.match(html, /greenhouse/i);
  const leaks = p.requests.filter((r) => /greenhouse/i.test(r.url) || /greenhouse/i.test(r.body));
  assert.equal(leaks, [], 'no request names greenhouse');
  assert.ok(
    p.requests.some((r) => r.url.includes('history.csv')),
    'the room views asked for history',
  );
  const frames = p.frames.filter((f) => /greenhouse/i.test(f));
  assert.equal(frames.slice(0, 3), [], `no stream frame names greenhouse (${p.frames.length} frames)`);
});

test('a page opened on a room view of a hub with users asks for no history before the login, and none of a room not the user’s after it', async () => {
  const s = await shared();
  if (!s) return;
  const p = await openPage(s.browser.browser, s.hub.httpPort);
  const link = '/room/greenhouse?range=1h';
  await p.goto(link);
  await p.page.getByLabel('User').fill('alex');
  await p.page.getByLabel('Password').fill(DEMO_PASSWORD);
  await p.page.getByRole('button', { name: 'Log in' }).click();
  await p.page.getByRole('alert').filter({ hasText: 'not one of your rooms' }).waitFor();
  const asked = p.requests.filter((r) => r.url !== `${p.base}${link}` && (/greenhouse/i.test(r.url) || r.url.includes('history.csv')));
  assert.equal(asked, [], 'no request but the link itself names greenhouse or asks for history');
});

test('an operator has Upload and Report now but no Admin; an admin has the activity log, following new events without a reload, and the users and tokens', async () => {
  const s = await shared();
  if (!s) return;
  const sandy = await logInAs(s, 'sandy');
  await sandy.page.getByRole('link', { name: 'Upload' }).waitFor();
  await sandy.page.getByRole('button', { name: 'Report now' }).waitFor();
  assert.is(await sandy.page.getByRole('link', { name: 'Admin' }).count(), 0);

  const sue = await logInAs(s, 'sue');
  await sue.page.getByRole('link', { name: 'Admin' }).click();
  const users = sue.page.getByRole('table', { name: 'Users' });
  for (const u of ['alex', 'sandy', 'sue', 'root']) await users.getByRole('rowheader', { name: u, exact: true }).waitFor();
  await sue.page.getByRole('table', { name: 'Sensor tokens' }).waitFor();
  const log = sue.page.getByRole('table', { name: 'Activity log' });
  await log.getByRole('row').nth(1).waitFor();
  // an event that happens while the log is open appears in it
  const before = await log.getByRole('row').filter({ hasText: 'alex' }).filter({ hasText: 'login' }).count();
  await login(s.hub.httpPort, 'alex', DEMO_PASSWORD);
  await log.getByRole('row').filter({ hasText: 'alex' }).filter({ hasText: 'login' }).nth(before).waitFor();
  // pushed by the activity stream, not polled
  assert.ok(
    sue.requests.some((r) => r.url.startsWith(`ws://127.0.0.1:${s.hub.httpPort}/api/v1/activity/stream`)),
    'the admin view follows the activity stream',
  );
  assert.not.ok(
    sue.requests.some((r) => r.url.includes('/api/v1/activity?after=')),
    'and does not poll',
  );
});

test.run();
