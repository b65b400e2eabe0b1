import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { compileSensorPattern, sensorPatternProblem } from './sensor-pattern.ts';
import { roomScope, inScope } from './room-scope.ts';

test('* matches any run, ? one character, and the rest (dots too) literally', () => {
  const rack = compileSensorPattern('rack*');
  assert.ok(rack.test('rack1-temp'));
  assert.ok(rack.test('rack'));
  assert.not.ok(rack.test('xrack1'));
  const two = compileSensorPattern('gh-??');
  assert.ok(two.test('gh-01'));
  assert.not.ok(two.test('gh-1'));
  assert.not.ok(compileSensorPattern('a.b').test('axb'));
  assert.ok(compileSensorPattern('*').test('anything:at-all'));
});

test('a pattern with characters no sensor id has is refused', () => {
  assert.ok(sensorPatternProblem('rack[0-9]'));
  assert.ok(sensorPatternProblem(''));
  assert.ok(sensorPatternProblem(7));
  assert.is(sensorPatternProblem('rack*'), null);
});

test('rooms: * is every room; otherwise exactly the rooms listed', () => {
  assert.ok(inScope(roomScope(['*']), 'greenhouse'));
  const alex = roomScope(['living-room', 'server-room']);
  assert.ok(inScope(alex, 'server-room'));
  assert.not.ok(inScope(alex, 'greenhouse'));
  assert.not.ok(inScope(roomScope([]), 'default'));
});

test.run();
