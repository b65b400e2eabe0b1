// docs/ADMIN.md "Logging in": the login throttle over real HTTP. It throttles the source: an
// address past its free failures waits (429 too_many_attempts with Retry-After), twice as long
// after each failure; an account with failures is only slowed, never locked, so the right
// password from another address still logs in. Tries are counted before the password check, so
// parallel guesses meet the limit. Other addresses: 127.0.0.2 and up, which are local on Linux.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { json, request, type RawResponse } from '../support/api-client.ts';
import {
  ADMIN_NAME,
  ADMIN_PASSWORD,
  asUser,
  assertRetryAfter,
  bootstrapAdmin,
  codeOf,
  expectRefused,
  movableClock,
  putUser,
  startAccessHub,
  type LoginAnswer,
} from '../support/access-setup.ts';
import { exitWhenDone, perTest } from '../support/teardown.ts';

test.after.each(() => perTest.run());
test.after(() => exitWhenDone());

/** docs/ADMIN.md: the failures an address has before it waits */
const ADDRESS_FREE = 10;

/** `POST /api/v1/login` from a chosen local address. */
function loginFrom(port: number, localAddress: string, user: string, password: string): Promise<RawResponse> {
  const body = JSON.stringify({ user, password });
  return request(port, '/api/v1/login', { method: 'POST', headers: { 'content-type': 'application/json' }, body, localAddress });
}

/** `status code` of each answer, counted: {"401 bad_credentials": 10, ...} */
function tally(answers: RawResponse[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const a of answers) {
    const key = a.status === 200 ? '200' : `${a.status} ${codeOf(a)}`;
    out[key] = (out[key] ?? 0) + 1;
  }
  return out;
}

async function hubWithSue(options: Parameters<typeof startAccessHub>[0] = {}) {
  const h = await startAccessHub({ failedLoginFloorMs: 0, ...options });
  const root = await bootstrapAdmin(h.httpPort);
  await putUser(h.httpPort, 'sue', { role: 'viewer', rooms: ['*'], password: 'sue-password' }, root);
  return { h, root };
}

test('30 parallel logins for one user from one address (29 wrong, 1 right): only the free tries are checked, the rest answer 429', async () => {
  // ADMIN.md "Logging in": a try is counted before its password is checked
  const { h } = await hubWithSue();
  const passwords = [...Array.from({ length: 29 }, (_, i) => `wrong-${i}-password`), 'sue-password'];
  const answers = await Promise.all(passwords.map((p) => loginFrom(h.httpPort, '127.0.0.2', 'sue', p)));
  const counts = tally(answers);
  const checked = (counts['401 bad_credentials'] ?? 0) + (counts['200'] ?? 0);
  assert.ok(checked <= ADDRESS_FREE, `at most ${ADDRESS_FREE} passwords checked, not ${checked}: ${JSON.stringify(counts)}`);
  assert.is(counts['429 too_many_attempts'], 30 - checked, JSON.stringify(counts));
  for (const a of answers) if (a.status === 429) expectRefused(a, 429, 'too_many_attempts');
});

test('failures from one address for sue do not stop sue logging in from another address; that address waits', async () => {
  // ADMIN.md "Logging in": the source is throttled, the account only slowed (at most 4 s), never locked
  const { h } = await hubWithSue();
  const spray = await Promise.all(Array.from({ length: 15 }, (_, i) => loginFrom(h.httpPort, '127.0.0.2', 'sue', `guess-${i}-password`)));
  assert.equal(tally(spray), { '401 bad_credentials': ADDRESS_FREE, '429 too_many_attempts': 15 - ADDRESS_FREE });
  const attacker = await loginFrom(h.httpPort, '127.0.0.2', 'sue', 'sue-password');
  expectRefused(attacker, 429, 'too_many_attempts', 'the right password from the sprayed address');
  assert.ok(assertRetryAfter(attacker) >= 1, 'Retry-After says how long to wait');

  const started = Date.now();
  const sue = await loginFrom(h.httpPort, '127.0.0.1', 'sue', 'sue-password');
  assert.is(sue.status, 200, `sue from a clean address: ${sue.text.slice(0, 200)}`);
  assert.is(json<LoginAnswer>(sue).user, 'sue');
  assert.ok(Date.now() - started < 10_000, 'slowed by a few seconds at most');
});

test('an address spraying wrong passwords at many names gets 429 with Retry-After, and waits twice as long after each further failure', async () => {
  // ADMIN.md "Logging in": past 10 failures an address waits 1 s, then 2 s, 4 s, ... up to 15 min
  const clock = movableClock();
  const { h } = await hubWithSue({ now: clock.now });
  for (let i = 0; i < ADDRESS_FREE; i++) {
    const res = await loginFrom(h.httpPort, '127.0.0.3', `spray-${i}`, 'not-the-password');
    expectRefused(res, 401, 'bad_credentials', `failure ${i + 1}`);
  }
  const waits: number[] = [];
  for (let round = 0; round < 3; round++) {
    const refused = await loginFrom(h.httpPort, '127.0.0.3', 'spray-x', 'not-the-password');
    expectRefused(refused, 429, 'too_many_attempts', `round ${round}`);
    const wait = assertRetryAfter(refused);
    waits.push(wait);
    clock.advance(wait * 1000);
    expectRefused(
      await loginFrom(h.httpPort, '127.0.0.3', 'spray-x', 'not-the-password'),
      401,
      'bad_credentials',
      `after waiting, round ${round}`,
    );
  }
  assert.ok(waits[1]! >= 2 * waits[0]! - 1 && waits[2]! >= 2 * waits[1]! - 1, `the waits double: ${waits.join(', ')} s`);
  const fresh = await loginFrom(h.httpPort, '127.0.0.1', 'sue', 'sue-password');
  assert.is(fresh.status, 200, 'another address is not held');
});

test('an unknown user name gets exactly the answers a real one gets', async () => {
  // ADMIN.md "Logging in": a wrong password and an unknown user get the same answer, and are throttled alike
  const { h } = await hubWithSue();
  const tries = (address: string, user: string) =>
    Promise.all(Array.from({ length: 12 }, () => loginFrom(h.httpPort, address, user, 'wrong-password')));
  const [real, ghost] = await Promise.all([tries('127.0.0.4', ADMIN_NAME), tries('127.0.0.5', 'auth-ghost')]);
  assert.equal(tally(ghost), tally(real));
  assert.equal(tally(real), { '401 bad_credentials': ADDRESS_FREE, '429 too_many_attempts': 12 - ADDRESS_FREE });
});

test('names of Object.prototype are user names like any other: 401, never a crash', async () => {
  const { h, root } = await hubWithSue();
  for (const name of ['constructor', '__proto__', 'toString', 'hasOwnProperty', 'valueOf']) {
    expectRefused(
      await asUser(h.httpPort).post('/api/v1/login', { user: name, password: 'whatever-password' }),
      401,
      'bad_credentials',
      name,
    );
    expectRefused(await asUser(h.httpPort, root).del(`/api/v1/users/${name}`), 404, 'not_found', `delete user ${name}`);
    expectRefused(await asUser(h.httpPort, root).del(`/api/v1/tokens/${name}`), 404, 'not_found', `revoke token ${name}`);
  }
  assert.is((await asUser(h.httpPort).post('/api/v1/login', { user: ADMIN_NAME, password: ADMIN_PASSWORD })).status, 200);
});

test.run();
