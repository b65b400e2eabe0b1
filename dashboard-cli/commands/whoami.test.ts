// `whoami` (docs/ADMIN.md "Logging in"): a user of some rooms only is told that nothing else shows,
// admins included, and how an admin gives every room; a user of every room is told nothing more.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { FakeHub } from '../testing/fake-hub.ts';
import { startFakeHub } from '../testing/fake-hub.ts';
import { runCliProcess } from '../testing/run-cli-process.ts';
import { roomsNote } from './whoami.ts';

const HOUR_MS = 3600_000;

test("a viewer of two rooms reads that only they show, and the command that gives every room ('*')", () => {
  assert.is(
    roomsNote({ user: 'alex', role: 'viewer', rooms: ['living-room', 'server-room'] }),
    'You see the sensors and readings of rooms living-room, server-room only.\n' +
      "Every room, present and future, is given by an admin: npm run cli -- users set alex --room '*'",
  );
});

test('an admin of some rooms reads that being admin does not widen them, and that they may run the command', () => {
  const note = roomsNote({ user: 'sue', role: 'admin', rooms: ['greenhouse'] }) ?? '';
  assert.match(note, 'of room greenhouse only, admin or not.');
  assert.match(note, "you, as an admin, or another admin: npm run cli -- users set sue --room '*'");
});

test('a user of every room gets no note', () => {
  assert.is(roomsNote({ user: 'root', role: 'admin', rooms: ['*'] }), undefined);
});

let hub: FakeHub | undefined;
test.after.each(async () => {
  await hub?.close();
  hub = undefined;
});

test('whoami prints the note under the table for a user of some rooms, and none with --json', async () => {
  const session = { user: 'alex', role: 'viewer', rooms: ['living-room'], expires_at: Date.now() + HOUR_MS };
  hub = await startFakeHub({ access: { requireLogin: true, sessions: { 'tok-alex': session } } });
  const env = { ROOMWATCH_TOKEN: 'tok-alex', TZ: 'UTC' };
  const result = await runCliProcess(['whoami', '--hub', hub.url], { env });
  assert.is(result.code, 0, result.stderr);
  assert.match(result.stdout, /^rooms +living-room\n/m);
  assert.match(
    result.stdout,
    "\n\nYou see the sensors and readings of room living-room only.\nEvery room, present and future, is given by an admin: npm run cli -- users set alex --room '*'\n",
  );
  const json = await runCliProcess(['whoami', '--json', '--hub', hub.url], { env });
  assert.is(json.code, 0, json.stderr);
  assert.not.match(json.stdout, 'Every room');
});

test.run();
