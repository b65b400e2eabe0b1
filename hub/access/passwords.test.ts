import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFile } from 'node:fs/promises';
import { DUMMY_HASH, hashPassword, passwordProblem, verifyPassword } from './passwords.ts';

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

test('a flood of password checks leaves libuv threads free: a file read finishes before the first check does', async () => {
  // 8 checks at once used to take all 4 of libuv's threads (and queue before any file work)
  const order: string[] = [];
  const checks = Array.from({ length: 8 }, (_, i) => verifyPassword(`guess-${i}`, DUMMY_HASH).then(() => order.push('check')));
  const read = readFile(import.meta.filename).then(() => order.push('read'));
  await Promise.all([...checks, read]);
  assert.is(order[0], 'read', order.join(' '));
});

test('new passwords must be 8 to 1024 characters', () => {
  assert.ok(passwordProblem('short'));
  assert.ok(passwordProblem(42));
  assert.ok(passwordProblem('x'.repeat(1025)));
  assert.is(passwordProblem('password'), null);
});

test.run();
