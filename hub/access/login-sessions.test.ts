// docs/ADMIN.md "Logging in": the logins one user may hold are bounded; a login beyond the cap
// ends that user's expired logins first, then the oldest (their streams close as at a logout),
// in the same store write, and no other user's.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { AccessControl, type PrincipalChange } from './access-control.ts';
import type { AccessChange } from './access-records.ts';

const TTL_MS = 60_000;
const CAP = 3;

test('a login beyond the cap ends the expired logins of that user first, then the oldest, and only theirs', async () => {
  let clockMs = Date.UTC(2026, 0, 1);
  const persisted: AccessChange[][] = [];
  const heard: [string, PrincipalChange][] = [];
  const access = new AccessControl({
    persist: async (changes) => void persisted.push(changes),
    now: () => clockMs,
    sessionTtlMs: TTL_MS,
    exposed: false,
    failedLoginFloorMs: 0,
    maxSessionsPerUser: CAP,
  });
  access.onPrincipalChanged((user, kind) => heard.push([user, kind]));
  await access.putUsers([
    { name: 'sue', input: { role: 'admin', rooms: ['*'], password: 'password-1' } },
    { name: 'val', input: { role: 'viewer', rooms: ['lab'], password: 'password-2' } },
  ]);
  heard.length = 0; // the users' creation is heard too
  const login = async (user: string, password: string): Promise<string> => {
    const r = await access.login(user, password, '127.0.0.1');
    if (!r.ok) throw new Error(`login as ${user}: ${r.code}`);
    clockMs += 1_000;
    return r.token;
  };
  const works = (token: string) => 'kind' in access.authenticate(`Bearer ${token}`);

  const first = await login('sue', 'password-1');
  clockMs += TTL_MS; // the first expires
  const val = await login('val', 'password-2');
  const second = await login('sue', 'password-1');
  const third = await login('sue', 'password-1');
  persisted.length = 0;
  const fourth = await login('sue', 'password-1'); // 3 held: the expired one goes
  assert.equal(
    persisted.map((batch) => batch.map((c) => c.kind)),
    [['put-session', 'delete-sessions']],
    'one store write',
  );
  assert.equal(
    [first, second, third, fourth].map((t) => access.authenticate(`Bearer ${t}`)).map((r) => ('kind' in r ? 'ok' : r.code)),
    ['bad_token', 'ok', 'ok', 'ok'],
  );
  assert.equal(heard, [], 'an expired login has no stream left to close');

  const fifth = await login('sue', 'password-1'); // none expired: the oldest goes
  assert.not.ok(works(second), 'the oldest login ended');
  assert.ok(works(third) && works(fourth) && works(fifth));
  assert.equal(heard, [['sue', 'logout']], 'its streams close as at a logout');
  assert.ok(works(val), "another user's login is untouched");
  const held = (await Promise.all([0, 1, 2].map(() => login('sue', 'password-1')))).filter(works);
  assert.is(held.length, CAP, 'logins at once stay within the cap too');
});

test.run();
