// A user's rooms (room-scope.ts): `*` is every room, otherwise exactly the rooms listed, matched
// as written. What a refusal says about them (describeScope) is what a user reads when told no.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { EVERY_ROOM, describeScope, inScope, roomScope } from './room-scope.ts';

test('* is every room, also next to named rooms, and also rooms no sensor has yet', () => {
  assert.is(roomScope(['*']), EVERY_ROOM);
  assert.is(roomScope(['lab', '*']), EVERY_ROOM);
  for (const room of ['greenhouse', 'default', 'a-room-made-tomorrow']) assert.ok(inScope(roomScope(['*']), room), room);
});

test('otherwise exactly the rooms listed: no prefix, no case folding, no pattern', () => {
  const alex = roomScope(['living-room', 'server-room']);
  assert.ok(inScope(alex, 'server-room'));
  assert.ok(inScope(alex, 'living-room'));
  for (const room of ['greenhouse', 'server', 'server-room2', 'Server-Room', 'server-*', 'default']) {
    assert.not.ok(inScope(alex, room), room);
  }
});

test('no rooms at all is no room, not every room', () => {
  assert.not.ok(roomScope([]).all);
  assert.not.ok(inScope(roomScope([]), 'default'));
});

test('a room named like a property of Object.prototype is not in a scope that does not list it', () => {
  for (const room of ['constructor', 'toString', '__proto__', 'hasOwnProperty']) assert.not.ok(inScope(roomScope(['lab']), room), room);
  assert.ok(inScope(roomScope(['constructor']), 'constructor'));
});

test('a scope reads as "every room", "no room", or its rooms in the order given', () => {
  assert.is(describeScope(EVERY_ROOM), 'every room');
  assert.is(describeScope(roomScope([])), 'no room');
  assert.is(describeScope(roomScope(['server-room', 'living-room'])), 'server-room, living-room');
  assert.is(describeScope(roomScope(['lab', 'lab'])), 'lab', 'a room listed twice reads once');
});

test.run();
