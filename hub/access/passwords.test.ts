import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { hashPassword, passwordProblem, verifyPassword } from './passwords.ts';

test('the same password hashes differently each time (a random salt), and each hash verifies it', async () => {
  const [a, b] = await Promise.all([hashPassword('password'), hashPassword('password')]);
  assert.is.not(a, b);
  assert.not.ok(a.includes('password'));
  assert.match(a, /^scrypt\$32768\$8\$1\$/);
  assert.ok(await verifyPassword('password', a));
  assert.ok(await verifyPassword('password', b));
});

test('a wrong password, or a damaged hash, does not verify', async () => {
  const h = await hashPassword('correct horse');
  assert.not.ok(await verifyPassword('correct hors', h));
  assert.not.ok(await verifyPassword('correct horse', h.slice(0, -4) + 'AAAA'));
  assert.not.ok(await verifyPassword('correct horse', 'plain$text'));
});

test('new passwords must be 8 to 1024 characters', () => {
  assert.ok(passwordProblem('short'));
  assert.ok(passwordProblem(42));
  assert.ok(passwordProblem('x'.repeat(1025)));
  assert.is(passwordProblem('password'), null);
});

test.run();
