import { test } from 'uvu';
import * as assert from 'uvu/assert';
import fc from 'fast-check';
import { compileSensorPattern, globMatch, sensorPatternProblem } from './sensor-pattern.ts';

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

test('a pathological pattern against a 64-character id is matched in at most (pattern+1) x (id+1) steps, well under 50 ms', () => {
  // a backtracking RegExp took about 5 s for this one
  const pattern = '*a*a*a*a*a*a*ac';
  const id = 'a'.repeat(64);
  const started = performance.now();
  const { matched, steps } = globMatch(pattern, id);
  const ms = performance.now() - started;
  assert.not.ok(matched);
  assert.ok(steps <= (pattern.length + 1) * (id.length + 1), `${steps} steps`);
  assert.ok(ms < 50, `${ms.toFixed(1)} ms`);
  assert.not.ok(compileSensorPattern('*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*ac').test(id));
  assert.ok(compileSensorPattern('*a*a*a*a*a*a*a').test(id));
});

test('the matcher agrees with an anchored regular expression on random patterns and ids', () => {
  const alphabet = fc.constantFrom('a', 'b', '.', '*', '?');
  const idChars = fc.constantFrom('a', 'b', '.', 'c');
  fc.assert(
    fc.property(fc.string({ unit: alphabet, minLength: 1, maxLength: 8 }), fc.string({ unit: idChars, maxLength: 10 }), (pattern, id) => {
      const reference = new RegExp(`^${pattern.replace(/[.*?]/g, (c) => (c === '*' ? '.*' : c === '?' ? '.' : '\\.'))}$`);
      return compileSensorPattern(pattern).test(id) === reference.test(id);
    }),
    { numRuns: 2000 },
  );
});

test('a pattern with characters no sensor id has is refused', () => {
  assert.ok(sensorPatternProblem('rack[0-9]'));
  assert.ok(sensorPatternProblem(''));
  assert.ok(sensorPatternProblem(7));
  assert.is(sensorPatternProblem('rack*'), null);
});

test('a pattern is 1 to 64 characters: those of a sensor id, * and ?; the refusal says what a pattern is', () => {
  for (const ok of ['r', '*', '?', 'rack1.temp:0_a-b', 'x'.repeat(64), '**', '-*']) assert.is(sensorPatternProblem(ok), null, ok);
  for (const bad of ['x'.repeat(65), 'rack 1', 'rack/1', 'räck', null, undefined, ['rack*']]) {
    assert.match(sensorPatternProblem(bad) ?? '', 'sensor id pattern', JSON.stringify(bad));
  }
});

test('a run of stars means what one star means, and ? never matches nothing', () => {
  assert.ok(compileSensorPattern('rack**temp').test('rack1-temp'));
  assert.ok(compileSensorPattern('rack***').test('rack'));
  assert.not.ok(compileSensorPattern('rack?').test('rack'));
  assert.is(compileSensorPattern('rack**').source, 'rack**', 'the pattern is kept as written, for listing');
});

test.run();
