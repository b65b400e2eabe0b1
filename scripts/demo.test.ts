// The demo's rooms and the demo users are one story (README "Who may see what", docs/ADMIN.md
// "Demo users"): after `users import fixtures/demo-users.json` on the demo's hub, every room the
// demo's sensors are in is seen by its admin, and no demo user is given a room the demo lacks.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { DEFAULT_ROOMS } from '../sensors/fleet.ts';

const demoUsers = (
  JSON.parse(readFileSync(join(import.meta.dirname, '..', 'fixtures', 'demo-users.json'), 'utf8')) as {
    users: { user: string; role: string; rooms: string[] }[];
  }
).users;

const sees = (rooms: readonly string[], room: string): boolean => rooms.includes('*') || rooms.includes(room);

test("every room of the demo's sensors is seen by the demo's admin", () => {
  const admins = demoUsers.filter((u) => u.role === 'admin');
  assert.ok(admins.length > 0, 'the demo users include an admin');
  for (const room of DEFAULT_ROOMS) {
    assert.ok(
      admins.some((a) => sees(a.rooms, room)),
      `${room}: no admin sees it`,
    );
  }
});

test('every room a demo user is given is a room of the demo (or * for all)', () => {
  for (const u of demoUsers) {
    for (const room of u.rooms) assert.ok(room === '*' || DEFAULT_ROOMS.includes(room), `${u.user}: ${room} is not a room of the demo`);
  }
});

test.run();
