import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { LoginThrottle, sourceOf, type LoginAttempt, type ThrottleLimits } from './login-throttle.ts';

const limits: ThrottleLimits = {
  addressFree: 3,
  addressBaseMs: 1_000,
  addressMaxMs: 8_000,
  accountFree: 2,
  accountBaseMs: 100,
  accountMaxMs: 400,
  forgetMs: 60_000,
};

function begin(t: LoginThrottle, user: string, address: string, now: number): LoginAttempt {
  const v = t.begin(user, address, now);
  if (!v.ok) throw new Error(`${user} from ${address} at ${now}: refused for ${v.retryAfterMs} ms`);
  return v.attempt;
}

function fail(t: LoginThrottle, user: string, address: string, now: number): void {
  t.end(begin(t, user, address, now), false, now);
}

test('tries under way count: the address meets its limit while they are still being checked', () => {
  const t = new LoginThrottle(limits);
  const under = [0, 1, 2].map(() => begin(t, 'sue', '10.0.0.1', 0));
  const fourth = t.begin('sue', '10.0.0.1', 0);
  assert.is(fourth.ok, false, 'the 4th parallel try is refused before any check ended');
  assert.is(!fourth.ok && fourth.retryAfterMs, 1_000);
  for (const a of under) t.end(a, false, 0);
});

test('past its free failures an address waits, twice as long after each failure, up to the cap', () => {
  const t = new LoginThrottle(limits);
  let now = 0;
  for (let i = 0; i < 3; i++) fail(t, `user${i}`, '10.0.0.1', now);
  const waits: number[] = [];
  for (let i = 0; i < 6; i++) {
    const v = t.begin('x', '10.0.0.1', now);
    assert.is(v.ok, false);
    const wait = v.ok ? 0 : v.retryAfterMs;
    waits.push(wait);
    now += wait;
    fail(t, 'x', '10.0.0.1', now);
  }
  assert.equal(waits, [1_000, 2_000, 4_000, 8_000, 8_000, 8_000]);
});

test('failures from one address do not hold back another address, even for the same user', () => {
  const t = new LoginThrottle(limits);
  for (let i = 0; i < 10; i++) {
    const v = t.begin('sue', '10.0.0.1', 0);
    if (v.ok) t.end(v.attempt, false, 0);
  }
  const elsewhere = t.begin('sue', '10.0.0.2', 1);
  assert.ok(elsewhere.ok, 'a clean address is let through');
  assert.ok(elsewhere.ok && elsewhere.attempt.delayMs <= limits.accountMaxMs, 'only slowed, up to the cap');
});

test('an account with failures is slowed, doubling up to its cap, and a good login clears it', () => {
  const t = new LoginThrottle(limits);
  const delays: number[] = [];
  for (let i = 0; i < 6; i++) {
    const a = begin(t, 'sue', `10.0.${i}.1`, i);
    delays.push(a.delayMs);
    t.end(a, false, i);
  }
  assert.equal(delays, [0, 0, 100, 200, 400, 400]);
  t.end(begin(t, 'sue', '10.0.9.1', 10), true, 10);
  assert.is(begin(t, 'sue', '10.0.9.1', 11).delayMs, 0, 'cleared by the good login');
});

test('a good login takes back only its own count from the address', () => {
  const t = new LoginThrottle(limits);
  fail(t, 'a', '10.0.0.1', 0);
  fail(t, 'b', '10.0.0.1', 0);
  t.end(begin(t, 'mine', '10.0.0.1', 0), true, 0);
  fail(t, 'c', '10.0.0.1', 0);
  assert.is(t.begin('d', '10.0.0.1', 0).ok, false, 'three failures: the address waits');
});

test('failures are forgotten once none came for forgetMs', () => {
  const t = new LoginThrottle(limits);
  for (let i = 0; i < 3; i++) fail(t, 'sue', '10.0.0.1', 0);
  assert.is(t.begin('sue', '10.0.0.1', 500).ok, false);
  const later = t.begin('sue', '10.0.0.1', 60_000);
  assert.ok(later.ok && later.attempt.delayMs === 0, 'both the address and the account start afresh');
});

test('names of Object.prototype are names like any other', () => {
  const t = new LoginThrottle(limits);
  for (const [i, name] of ['constructor', '__proto__', 'toString', 'hasOwnProperty'].entries()) {
    for (let k = 0; k < 3; k++) fail(t, name, name, 0);
    assert.is(t.begin(name, name, 1).ok, false, name);
    const other = t.begin('sue', `10.0.0.${i}`, 1);
    assert.ok(other.ok && other.attempt.delayMs === 0, `${name}: another address and user are untouched`);
    t.end(other.attempt, true, 1);
  }
});

test('an IPv6 address counts as its /64; an IPv4-mapped one as its IPv4 address', () => {
  assert.is(sourceOf('2001:db8:1:2:aaaa::1'), '2001:db8:1:2::/64');
  assert.is(sourceOf('2001:db8:1:2:ffff:ffff:ffff:ffff'), '2001:db8:1:2::/64');
  assert.is(sourceOf('2001:db8::1'), '2001:db8:0:0::/64');
  assert.is(sourceOf('::1'), '0:0:0:0::/64');
  assert.is(sourceOf('fe80::1%eth0'), 'fe80:0:0:0::/64');
  assert.is(sourceOf('::ffff:127.0.0.2'), '127.0.0.2');
  assert.is(sourceOf('127.0.0.2'), '127.0.0.2');
  const t = new LoginThrottle(limits);
  for (let i = 0; i < 3; i++) fail(t, 'sue', `2001:db8:1:2::${i + 1}`, 0);
  assert.is(t.begin('sue', '2001:db8:1:2:ffff::9', 0).ok, false, 'another address of the same /64 waits too');
  assert.ok(t.begin('sue', '2001:db8:1:3::1', 0).ok, 'the next /64 does not');
});

test.run();
