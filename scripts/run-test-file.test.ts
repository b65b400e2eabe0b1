// The runner's time budgets: a hung test fails by name and its file goes on; a file that must
// be killed is reported with the test it was stuck in. Fixtures: fixtures/test-files/.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { runTestFile } from './run-test-file.ts';

const env = (extra: NodeJS.ProcessEnv): NodeJS.ProcessEnv => {
  // The budget of the run that runs this test must not decide the fixture's.
  const { ROOMWATCH_TEST_TIMEOUT_MS: _, ...rest } = process.env;
  return { ...rest, ...extra };
};

test('a test past its budget fails with its name, the tests after it still run, and the file ends by itself', async () => {
  const r = await runTestFile('fixtures/test-files/two-tests-hang.ts', {
    fileTimeoutMs: 50_000,
    env: env({ ROOMWATCH_TEST_TIMEOUT_MS: '300' }),
  });
  assert.is(r.passed, 2, r.output);
  assert.is(r.failed, 2, r.output);
  assert.match(r.output, 'test "a test that awaits a promise nothing settles" did not finish within 300 ms');
  assert.match(r.output, 'test "a test that leaves a server listening" did not finish within 300 ms');
  assert.not.match(r.output, '[run-tests]', 'not killed: the listening server did not hold the file open');
  assert.equal(
    r.durations.map((d) => d.what),
    [
      'test "a test that passes"',
      'test "a test that awaits a promise nothing settles"',
      'test "a test that leaves a server listening"',
      'test "a test after them that passes"',
    ],
  );
  assert.ok(r.durations[1]!.ms >= 300, `the hung test ran its whole budget (${r.durations[1]!.ms} ms)`);
});

test('a file killed at its budget is reported with the test it was stuck in, and the tests that passed before it', async () => {
  const r = await runTestFile('fixtures/test-files/one-test-never-yields.ts', { fileTimeoutMs: 4_000, env: env({}) });
  assert.match(r.output, /killed while running test "a test that never yields" \(for \d+ s\)/);
  assert.is(r.passed, 1, r.output);
  assert.is(r.failed, 1, r.output);
});

test('a budget that is not a whole number of ms fails the file with a message naming the variable', async () => {
  const r = await runTestFile('fixtures/test-files/two-tests-hang.ts', {
    fileTimeoutMs: 50_000,
    env: env({ ROOMWATCH_TEST_TIMEOUT_MS: '1m' }),
  });
  assert.is(r.passed, 0);
  assert.ok(r.failed > 0);
  assert.match(r.output, 'ROOMWATCH_TEST_TIMEOUT_MS must be a whole number of ms above 0, got "1m"');
});

test.run();
