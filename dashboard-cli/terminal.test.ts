import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { bold, colorEnabled } from './terminal.ts';

test('colour is used only on a TTY, and never with a non-empty NO_COLOR or TERM=dumb', () => {
  assert.is(colorEnabled({}, true), true);
  assert.is(colorEnabled({}, false), false);
  assert.is(colorEnabled({ NO_COLOR: '1' }, true), false);
  assert.is(colorEnabled({ NO_COLOR: '0' }, true), false);
  assert.is(colorEnabled({ NO_COLOR: '' }, true), true);
  assert.is(colorEnabled({ TERM: 'dumb' }, true), false);
});

test('styles add escape codes only when colour is on', () => {
  assert.is(bold('x', false), 'x');
  assert.is(bold('x', true), '\x1b[1mx\x1b[22m');
});

test.run();
