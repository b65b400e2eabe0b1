// docs/API.md "Browser sessions", in a real browser (Debian's chromium through playwright-core,
// test/support/browser.ts): a page of the hub's origin logs in with fetch and "cookie": true;
// its script sees the CSRF cookie but never the session cookie (HttpOnly), and its fetches and
// its WebSocket to the stream are admitted by the cookie. A page of another site can neither
// log it out nor open the stream with it.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { DEMO_PASSWORD, seedDemo, startAccessHub } from '../support/access-setup.ts';
import { launchBrowser, type LaunchedBrowser } from '../support/browser.ts';
import { exitWhenDone, perTest } from '../support/teardown.ts';

// What the page's script uses of the DOM (this project's type check has no DOM library).
declare const document: { cookie: string };
declare const location: { host: string };

test.after.each(() => perTest.run());
test.after(() => exitWhenDone());

async function browser(): Promise<LaunchedBrowser | null> {
  const b = await launchBrowser('the browser-session test');
  if (b) perTest.add('chromium', () => b.close());
  return b;
}

interface PageLogin {
  status: number;
  body: Record<string, unknown>;
  cookies: string;
}

test('a page logs in with a cookie: its script sees the CSRF cookie, not the session; whoami, a POST and the stream work', async () => {
  const b = await browser();
  if (!b) return;
  const h = await startAccessHub();
  await seedDemo(h.httpPort);
  const origin = `http://127.0.0.1:${h.httpPort}`;
  const page = await b.browser.newPage();
  // No dashboard page is needed: any page of the hub's origin is that origin.
  await page.goto(`${origin}/api/v1/health`);
  const login = await page.evaluate(async (password): Promise<PageLogin> => {
    const res = await fetch('/api/v1/login', {
      method: 'POST',
      credentials: 'same-origin',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ user: 'alex', password, cookie: true }),
    });
    return { status: res.status, body: (await res.json()) as Record<string, unknown>, cookies: document.cookie };
  }, DEMO_PASSWORD);
  assert.is(login.status, 200, JSON.stringify(login.body));
  assert.not.ok('token' in login.body, 'no token reaches the page');
  const csrfName = login.body.csrf_cookie as string;
  assert.is(csrfName, `roomwatch_csrf_${h.httpPort}`);
  assert.match(login.cookies, new RegExp(`(^|; )${csrfName}=[^;]+`), `the page reads the CSRF cookie: "${login.cookies}"`);
  assert.not.match(login.cookies, /roomwatch_session/, `the page cannot read the session cookie: "${login.cookies}"`);
  const jar = await page.context().cookies(origin);
  const session = jar.find((c) => c.name === `roomwatch_session_${h.httpPort}`);
  assert.ok(session, 'the browser keeps the session cookie');
  assert.is(session.httpOnly, true);
  assert.is(session.sameSite, 'Strict');

  const after = await page.evaluate(async (csrfName) => {
    const who = await fetch('/api/v1/whoami', { credentials: 'same-origin' });
    const csrf = document.cookie
      .split('; ')
      .find((c: string) => c.startsWith(`${csrfName}=`))!
      .slice(csrfName.length + 1);
    // A change: refused without the header, done with it.
    const bare = await fetch('/api/v1/report-now', { method: 'POST', credentials: 'same-origin' });
    const stream = await new Promise<string>((resolve) => {
      const ws = new WebSocket(`ws://${location.host}/api/v1/stream`);
      ws.onmessage = (m) => {
        resolve(String(m.data));
        ws.close();
      };
      ws.onopen = () => ws.send(JSON.stringify({ type: 'subscribe', replay: 0 }));
      ws.onclose = (e) => resolve(`closed ${e.code}`);
    });
    const out = await fetch('/api/v1/logout', { method: 'POST', credentials: 'same-origin', headers: { 'x-csrf-token': csrf } });
    const gone = await fetch('/api/v1/whoami', { credentials: 'same-origin' });
    return {
      who: (await who.json()) as Record<string, unknown>,
      bare: bare.status,
      bareCode: ((await bare.json()) as { error: { code: string } }).error.code,
      stream,
      out: out.status,
      gone: gone.status,
      cookies: document.cookie,
    };
  }, csrfName);
  assert.is(after.who.user, 'alex', JSON.stringify(after.who));
  assert.is(after.bare, 403);
  assert.is(after.bareCode, 'csrf_refused');
  assert.equal(JSON.parse(after.stream), { type: 'subscribed', replayed: 0 });
  assert.is(after.out, 200, 'logout with the CSRF header');
  assert.is(after.gone, 401, 'whoami after logout');
  assert.is(after.cookies, '', 'logout cleared the CSRF cookie');
});

test('a page of another site can neither log the user out nor open the stream with the cookie', async () => {
  const b = await browser();
  if (!b) return;
  const h = await startAccessHub();
  await seedDemo(h.httpPort);
  const hub = `http://127.0.0.1:${h.httpPort}`;
  const context = await b.browser.newContext();
  const page = await context.newPage();
  await page.goto(`${hub}/api/v1/health`);
  const status = await page.evaluate(async (password) => {
    const res = await fetch('/api/v1/login', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ user: 'alex', password, cookie: true }),
    });
    return res.status;
  }, DEMO_PASSWORD);
  assert.is(status, 200);
  // localhost and 127.0.0.1 are different sites to the browser: the other page is "evil".
  const evil = await context.newPage(); // the same browser profile: the same cookie jar
  await evil.goto(`http://localhost:${h.httpPort}/api/v1/health`);
  const attack = await evil.evaluate(async (hub) => {
    // no-cors: the form-like POST a foreign page can always send; its answer is opaque to the page.
    await fetch(`${hub}/api/v1/logout`, { method: 'POST', mode: 'no-cors', credentials: 'include' }).catch(() => null);
    const stream = await new Promise<string>((resolve) => {
      const ws = new WebSocket(`${hub.replace('http', 'ws')}/api/v1/stream`);
      ws.onopen = () => resolve('open');
      ws.onclose = (e) => resolve(`closed ${e.code}`);
    });
    return stream;
  }, hub);
  assert.is(attack, 'closed 1006', 'the cross-site stream never opened');
  const still = await page.evaluate(async () => (await fetch('/api/v1/whoami')).status);
  assert.is(still, 200, 'the cross-site POST did not end the login');
});

test.run();
