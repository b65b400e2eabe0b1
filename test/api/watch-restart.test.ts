// `npm run cli -- watch` across a real hub restart (README "A five-minute tour"): the hub process
// stops (SIGTERM: the stream closes with 1001) and starts again on the same data folder and port;
// watch says it lost the stream, connects again, and shows every reading once: those before the
// restart are not replayed twice, the one stored after it arrives, by replay or live.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { closedPort } from '../../dashboard-cli/testing/fake-hub.ts';
import { runCliProcess } from '../../dashboard-cli/testing/run-cli-process.ts';
import { uploadOk, waitFor } from '../support/api-client.ts';
import { startHubProcess, tempDataDir, withTimeout } from '../support/hub-process.ts';
import { exitWhenDone, perTest } from '../support/teardown.ts';

test.after.each(() => perTest.run());
test.after(() => exitWhenDone());

// Each step's own limit, well inside the test's 60 s budget, so a step that hangs fails with its
// name (and, for the hub's stop, the hub's output) rather than as the budget running out.
const WAIT_MS = 25_000;
const T0 = Date.UTC(2025, 10, 21, 8, 0, 0);

const csv = (value: number, offsetMs: number): string =>
  `ts,sensor,room,metric,value,unit\n${T0 + offsetMs},restart-a,lab,temperature,${value},C\n`;

interface Event {
  type: string;
  value?: number;
  replayed?: number;
}

test('watch --json outlives a hub restart: it reconnects, says so, and shows each reading once', async () => {
  const dataDir = (await tempDataDir()).path;
  // A fixed API port, for the restarted hub to be where watch looks for it.
  const httpPort = await closedPort();
  const args = ['--http-port', String(httpPort), '--log-file', 'none'];
  const first = await startHubProcess({ dataDir, args });
  await uploadOk(httpPort, csv(1, 0));

  let stdout = '';
  const events = (): Event[] =>
    stdout
      .split('\n')
      .slice(0, -1)
      .map((l) => JSON.parse(l) as Event);
  const values = (): number[] => events().flatMap((e) => (e.type === 'reading' && e.value !== undefined ? [e.value] : []));
  const watching = runCliProcess(['watch', '--json', '--replay', '5', '--count', '3', '--hub', `http://127.0.0.1:${httpPort}`], {
    budgetMs: 2 * WAIT_MS,
    onStdout: (soFar) => (stdout = soFar),
  });

  await waitFor('the replay and its end', () => events().some((e) => e.type === 'replay_end'), WAIT_MS);
  await uploadOk(httpPort, csv(2, 1_000));
  await waitFor('the live reading', () => values().includes(2), WAIT_MS);

  first.kill('SIGTERM');
  const stopped = await withTimeout(first.exited, WAIT_MS, 'the first hub stopping').catch((err: Error) => {
    throw new Error(`${err.message}; its output:\n${first.output().slice(-3000)}`);
  });
  assert.equal(stopped, { code: 0, signal: null });
  await startHubProcess({ dataDir, args });
  await uploadOk(httpPort, csv(3, 2_000));

  const result = await withTimeout(watching, WAIT_MS, 'watch after the restart').catch((err: Error) => {
    throw new Error(`${err.message}; watch printed:\n${stdout}`);
  });
  assert.is(result.code, 0, result.stderr);
  assert.equal(values(), [1, 2, 3], `each reading once:\n${result.stdout}`);
  assert.is(events().filter((e) => e.type === 'subscribed').length, 2, 'subscribed again after the restart');
  assert.match(result.stderr, /roomwatch: lost the stream from http:\/\/127\.0\.0\.1:\d+ \(the hub closed the stream \(1001\)/);
  assert.match(result.stderr, /roomwatch: reconnected to http:\/\/127\.0\.0\.1:\d+\n/);
});

test.run();
