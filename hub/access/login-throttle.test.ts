import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { LoginThrottle } from './login-throttle.ts';

const limits = { perUser: 3, perAddress: 5, windowMs: 1000 };

test('past the failures allowed for a user, logins for that user wait until the window has passed', () => {
  const t = new LoginThrottle(limits);
  for (let i = 0; i < 3; i++) {
    assert.is(t.retryAfterMs('alex', '10.0.0.1', 100 + i), 0);
    t.failed('alex', '10.0.0.1', 100 + i);
  }
  assert.is(t.retryAfterMs('alex', '10.0.0.9', 200), 900, 'another address does not help');
  assert.is(t.retryAfterMs('sue', '10.0.0.9', 200), 0, 'another user is not held');
  assert.is(t.retryAfterMs('alex', '10.0.0.9', 1100), 0, 'the oldest failure left the window');
});

test('an address that tries many user names is held too', () => {
  const t = new LoginThrottle(limits);
  for (let i = 0; i < 5; i++) t.failed(`user${i}`, '10.0.0.1', 0);
  assert.ok(t.retryAfterMs('newname', '10.0.0.1', 10) > 0);
  assert.is(t.retryAfterMs('newname', '10.0.0.2', 10), 0);
});

test('a good login clears the user\u2019s failures', () => {
  const t = new LoginThrottle(limits);
  t.failed('alex', 'a', 0);
  t.failed('alex', 'b', 0);
  t.succeeded('alex');
  t.failed('alex', 'c', 0);
  assert.is(t.retryAfterMs('alex', 'd', 1), 0);
});

test.run();
