// Who may do what (principal.ts): roles rank viewer < operator < admin, a user acts within their
// rooms, and a hub with no users yet (open) lets anyone do anything in every room. docs/ADMIN.md.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ROLES, type Role } from './access-records.ts';
import { ANONYMOUS, actorName, mayActAs, scopeOf, type Principal } from './principal.ts';
import { EVERY_ROOM, roomScope } from './room-scope.ts';

const user = (role: Role, rooms: string[] = ['lab']): Principal => ({
  kind: 'user',
  name: `a-${role}`,
  role,
  scope: roomScope(rooms),
  sessionSha256: 'ab'.repeat(32),
  expiresAt: Date.UTC(2030, 0, 1),
});

test('a role may act as itself and as every role below it, never above: viewer < operator < admin', () => {
  const may = (role: Role) => ROLES.filter((needed) => mayActAs(user(role), needed));
  assert.equal(may('viewer'), ['viewer']);
  assert.equal(may('operator'), ['viewer', 'operator']);
  assert.equal(may('admin'), ['viewer', 'operator', 'admin']);
});

test('on an open hub (no users yet) anyone may act as any role, in every room, named "anonymous"', () => {
  for (const role of ROLES) assert.ok(mayActAs(ANONYMOUS, role), role);
  assert.is(scopeOf(ANONYMOUS), EVERY_ROOM);
  assert.is(actorName(ANONYMOUS), 'anonymous');
});

test("a user's rooms are their own whatever their role: an admin of one room does not get the others", () => {
  const admin = user('admin', ['greenhouse']);
  assert.equal(scopeOf(admin), { all: false, rooms: new Set(['greenhouse']) });
  assert.is(actorName(admin), 'a-admin');
  assert.is(scopeOf(user('viewer', ['*'])), EVERY_ROOM, 'only * gives every room');
});

test.run();
