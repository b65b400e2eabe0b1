// Users and their logins as wired by access-control.ts, in process: who is admitted, what ends
// a login, the admin rule, and that nothing changes in memory before the store has it.
// docs/ADMIN.md "Users, roles and rooms", "Logging in".
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { HubError } from '../hub-error.ts';
import { AccessControl, type PrincipalChange } from './access-control.ts';
import type { AccessChange } from './access-records.ts';
import type { Principal } from './principal.ts';

const TTL_MS = 60_000;
const ADDRESS = '127.0.0.1';

function hub() {
  let clockMs = Date.UTC(2026, 0, 1);
  const persisted: AccessChange[][] = [];
  let failing = false;
  const heard: [string, PrincipalChange][] = [];
  const access = new AccessControl({
    persist: async (changes) => {
      if (failing) throw new Error('disk full');
      persisted.push(changes);
    },
    now: () => clockMs,
    sessionTtlMs: TTL_MS,
    exposed: false,
    failedLoginFloorMs: 0,
  });
  access.onPrincipalChanged((user, kind) => heard.push([user, kind]));
  return {
    access,
    persisted,
    heard,
    advance: (ms: number) => (clockMs += ms),
    failStore: (on: boolean) => (failing = on),
    /** logs in and returns the principal its token opens */
    async loginAs(user: string, password: string): Promise<{ token: string; principal: Principal }> {
      const r = await access.login(user, password, ADDRESS);
      if (!r.ok) throw new Error(`login as ${user}: ${r.code}`);
      const p = access.authenticate(`Bearer ${r.token}`);
      if (!('kind' in p)) throw new Error(`authenticate ${user}: ${p.code}`);
      return { token: r.token, principal: p };
    },
  };
}

const codeOf = (p: Promise<unknown>) =>
  p.then(
    () => 'done',
    (err: unknown) => (err instanceof HubError ? err.code : String(err)),
  );
const failure = (r: ReturnType<AccessControl['authenticate']>) => ('kind' in r ? r.kind : r.code);

test('a hub asks for a login once it has a user; its first users must include an admin', async () => {
  const h = hub();
  assert.is(h.access.loginRequired, false);
  assert.is(
    await codeOf(h.access.putUsers([{ name: 'val', input: { role: 'viewer', rooms: ['lab'], password: 'password-1' } }])),
    'admin_required',
  );
  assert.is(h.access.loginRequired, false, 'a refused import changes nothing');
  await h.access.putUsers([
    { name: 'sue', input: { role: 'admin', rooms: ['*'], password: 'password-1' } },
    { name: 'val', input: { role: 'viewer', rooms: ['lab'], password: 'password-2' } },
  ]);
  assert.ok(h.access.loginRequired);
  assert.ok(h.access.hasAdmin);
  assert.equal(
    h.access.listUsers().map((u) => [u.user, u.role, u.rooms]),
    [
      ['sue', 'admin', ['*']],
      ['val', 'viewer', ['lab']],
    ],
  );
  assert.is(await codeOf(h.access.deleteUser('sue')), 'last_admin');
  assert.is(await codeOf(h.access.putUsers([{ name: 'sue', input: { role: 'viewer' } }])), 'last_admin');
});

test('a bearer token opens its session with the role and rooms the user has now, until it expires', async () => {
  const h = hub();
  await h.access.putUsers([{ name: 'sue', input: { role: 'admin', rooms: ['lab'], password: 'password-1' } }]);
  const { token, principal } = await h.loginAs('sue', 'password-1');
  assert.equal(principal.kind === 'user' && [principal.name, principal.role, principal.expiresAt], [
    'sue',
    'admin',
    Date.UTC(2026, 0, 1) + TTL_MS,
  ]);
  await h.access.putUsers([{ name: 'sue', input: { rooms: ['kitchen'] } }]);
  const now = h.access.recheck(principal);
  assert.ok('kind' in now && now.kind === 'user' && now.scope.all === false && now.scope.rooms.has('kitchen'), 'rooms as they are now');
  assert.is(failure(h.access.authenticate(undefined)), 'unauthorized');
  assert.is(failure(h.access.authenticate(`Basic ${token}`)), 'bad_token');
  assert.is(failure(h.access.authenticate('Bearer rwu_never-issued')), 'bad_token');
  h.advance(TTL_MS);
  assert.is(failure(h.access.authenticate(`Bearer ${token}`)), 'token_expired');
  assert.is(failure(h.access.recheck({ kind: 'anonymous' })), 'unauthorized', 'anonymous only while no login is asked for');
});

test('a wrong password is refused like an unknown user, and a malformed body is a bad request', async () => {
  const h = hub();
  await h.access.putUsers([{ name: 'sue', input: { role: 'admin', rooms: ['*'], password: 'password-1' } }]);
  const wrong = await h.access.login('sue', 'password-2', ADDRESS);
  const unknown = await h.access.login('nobody', 'password-1', ADDRESS);
  assert.equal(
    [wrong, unknown],
    [
      { ok: false, status: 401, code: 'bad_credentials', message: 'wrong user name or password' },
      { ok: false, status: 401, code: 'bad_credentials', message: 'wrong user name or password' },
    ],
  );
  assert.is(await codeOf(h.access.login(7, 'password-1', ADDRESS)), 'bad_request');
});

test("logout ends one session; a password change ends all the user's sessions in the same stored change; deletion ends them too", async () => {
  const h = hub();
  await h.access.putUsers([
    { name: 'sue', input: { role: 'admin', rooms: ['*'], password: 'password-1' } },
    { name: 'val', input: { role: 'viewer', rooms: ['lab'], password: 'password-2' } },
  ]);
  const a = await h.loginAs('val', 'password-2');
  const b = await h.loginAs('val', 'password-2');
  const sue = await h.loginAs('sue', 'password-1');
  await h.access.logout(a.principal);
  assert.is(failure(h.access.recheck(a.principal)), 'bad_token');
  assert.is(failure(h.access.recheck(b.principal)), 'user');
  const before = h.persisted.length;
  await h.access.putUsers([{ name: 'val', input: { password: 'password-3' } }]);
  assert.equal(
    h.persisted.slice(before).map((changes) => changes.map((c) => c.kind)),
    [['put-user', 'delete-sessions']],
  );
  assert.is(failure(h.access.recheck(b.principal)), 'bad_token');
  assert.is(failure(h.access.recheck(sue.principal)), 'user', "another user's session stays");
  const c = await h.loginAs('val', 'password-3');
  await h.access.deleteUser('val');
  assert.is(failure(h.access.recheck(c.principal)), 'bad_token');
  assert.equal(
    h.heard.filter(([user]) => user === 'val').map(([, kind]) => kind),
    ['access', 'logout', 'password', 'deleted'],
  );
});

test('nothing changes in memory until the store has it', async () => {
  const h = hub();
  await h.access.putUsers([
    { name: 'sue', input: { role: 'admin', rooms: ['*'], password: 'password-1' } },
    { name: 'val', input: { role: 'viewer', rooms: ['lab'], password: 'password-2' } },
  ]);
  const { principal } = await h.loginAs('sue', 'password-1');
  h.failStore(true);
  assert.is(await codeOf(h.access.putUsers([{ name: 'sue', input: { password: 'password-2' } }])), 'Error: disk full');
  assert.is(
    await codeOf(h.access.putUsers([{ name: 'amy', input: { role: 'admin', rooms: ['*'], password: 'password-2' } }])),
    'Error: disk full',
  );
  assert.is(await codeOf(h.access.deleteUser('val')), 'Error: disk full');
  assert.is(failure(h.access.recheck(principal)), 'user', 'the session survived every failed change');
  assert.equal(
    h.access.listUsers().map((u) => u.user),
    ['sue', 'val'],
  );
  h.failStore(false);
  assert.ok((await h.access.login('sue', 'password-1', ADDRESS)).ok, 'the old password still works');
});

// Cluster mode: two hubs share one store; the other hub's change reaches this one as the store's state.
test('a reload replaces users, logins and tokens with the store’s, and ends what the other hub ended', async () => {
  const a = hub();
  const b = hub();
  await a.access.putUsers([
    { name: 'ada', input: { role: 'admin', rooms: [], password: 'password-1' } },
    { name: 'val', input: { role: 'viewer', rooms: ['lab'], password: 'password-2' } },
  ]);
  const stateOf = (h: ReturnType<typeof hub>) => {
    const inner = h.access as unknown as Record<'users' | 'sessions' | 'tokens', { rows(): never[] }>;
    return { users: inner.users.rows(), sessions: inner.sessions.rows(), tokens: inner.tokens.rows(), maxActivityId: 0 };
  };
  b.access.reload(stateOf(a));
  const onB = await b.loginAs('val', 'password-2');
  const rules: number[] = [];
  b.access.onSensorRulesChanged(() => rules.push(1));
  a.access.reload(stateOf(b));
  const vals = await a.loginAs('val', 'password-2');
  assert.ok('kind' in a.access.authenticate(`Bearer ${onB.token}`), 'a login made on B works on A after its reload');

  // On A: val logs out there, and ada is changed to viewer of lab; B reloads.
  await a.access.logout(vals.principal);
  b.access.reload(stateOf(a));
  assert.equal(b.heard, []);
  await a.access.logout(a.access.authenticate(`Bearer ${onB.token}`) as Principal);
  b.access.reload(stateOf(a));
  assert.equal(b.heard, [['val', 'logout']], 'the login ended on A ends on B');
  assert.is(failure(b.access.authenticate(`Bearer ${onB.token}`)), 'bad_token');
  await a.access.deleteUser('val');
  await a.access.createToken({ sensor: 'lab-*', rooms: ['lab'] }, 'ada');
  b.access.reload(stateOf(a));
  assert.equal(b.heard.at(-1), ['val', 'deleted']);
  assert.is(rules.length, 1, 'a new token changes the sensor rules');
  assert.equal(
    b.access.listUsers().map((u) => u.user),
    ['ada'],
  );
  b.access.reload(stateOf(a));
  assert.is(rules.length, 1, 'an unchanged state changes nothing');
});

test.run();
