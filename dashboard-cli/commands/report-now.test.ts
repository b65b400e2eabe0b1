// `report-now` (PROTOCOL.md §2 "Report now", §3): the request body, the widened HTTP timeout,
// and what people see: who answered with which fresh reading, and who did not.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { ReportNowBody } from '../api-types.ts';
import type { CommandContext } from '../command.ts';
import { ExitCode } from '../errors.ts';
import type { HubClient } from '../hub-client.ts';
import { closedPort, startFakeHub } from '../testing/fake-hub.ts';
import { runCliInProcess } from '../testing/run-cli-in-process.ts';
import { runCliProcess } from '../testing/run-cli-process.ts';
import { sessionStub } from '../testing/session-stub.ts';
import { renderReportNow, reportNowCommand } from './report-now.ts';

const nowMs = Date.now();
const answer: ReportNowBody = {
  id: 'c-7f3a',
  requested: 4,
  responded: 2,
  missing: ['d-door', 'c-old'],
  readings: [
    { sensor: 'b-rack', room: 'server-room', metric: 'temperature', value: 24.5, unit: 'C', ts: nowMs - 3_000 },
    { sensor: 'a-hall', room: 'hall', metric: 'humidity', value: 40.25, unit: '%', ts: nowMs - 3_000 },
    { sensor: 'b-rack', room: 'server-room', metric: 'cpu_load', value: 37, unit: '%', ts: nowMs - 3_000 },
  ],
  errors: [{ sensor: 'c-old', code: 501, message: 'report-now is not known to this sensor' }],
};

test('report-now sends the filters as arrays and timeout_ms, and shows readings and missing sensors [§2]', async () => {
  const hub = await startFakeHub({ reportNow: { body: answer } });
  try {
    const result = await runCliProcess([
      'report-now',
      '--hub',
      hub.url,
      '--sensor',
      'a-hall,b-rack',
      '--sensor',
      'c-old,d-door',
      '--room',
      'hall',
      '--timeout-ms',
      '1500',
    ]);
    assert.is(result.code, 0, result.stderr);
    const request = hub.requests[0];
    assert.is(request?.method, 'POST');
    assert.is(request?.url, '/api/v1/report-now');
    assert.is(request?.headers['content-type'], 'application/json');
    assert.equal(JSON.parse(request?.body.toString('utf8') ?? ''), {
      sensor: ['a-hall', 'b-rack', 'c-old', 'd-door'],
      room: ['hall'],
      timeout_ms: 1500,
    });
    const lines = result.stdout.split('\n');
    assert.match(lines[0] ?? '', /^2 of 4 sensors answered in \d+ ms$/);
    const table = lines.slice(2, 6).map((line) => line.trim().split(/\s+/));
    assert.equal(table, [
      ['room', 'sensor', 'metric', 'value', 'unit', 'age'],
      ['hall', 'a-hall', 'humidity', '40.25', '%', table[1]?.[5] ?? '?'],
      ['server-room', 'b-rack', 'cpu_load', '37', '%', table[2]?.[5] ?? '?'],
      ['server-room', 'b-rack', 'temperature', '24.5', 'C', table[3]?.[5] ?? '?'],
    ]);
    assert.match(result.stdout, 'no answer within 1500 ms from 1 sensor:\n  d-door\n');
    assert.match(result.stdout, /answered with an error:\n {2}c-old +501 +report-now is not known to this sensor\n/);
  } finally {
    await hub.close();
  }
});

test('without filters the body has only timeout_ms, the contract default 2000', async () => {
  const hub = await startFakeHub({ reportNow: { body: answer } });
  try {
    const result = await runCliProcess(['report-now', '--hub', hub.url]);
    assert.is(result.code, 0, result.stderr);
    assert.equal(JSON.parse(hub.requests[0]?.body.toString('utf8') ?? ''), { timeout_ms: 2000 });
  } finally {
    await hub.close();
  }
});

test("report-now --json prints the hub's body as it came", async () => {
  const hub = await startFakeHub({ reportNow: { body: answer } });
  try {
    const result = await runCliProcess(['report-now', '--json', '--hub', hub.url]);
    assert.is(result.code, 0, result.stderr);
    assert.is(result.stdout, JSON.stringify(answer) + '\n');
  } finally {
    await hub.close();
  }
});

test('no sensor connected says so and exits 0 [§2]', async () => {
  const hub = await startFakeHub({ reportNow: { body: { id: 'c-1', requested: 0, responded: 0, missing: [], readings: [] } } });
  try {
    const result = await runCliProcess(['report-now', '--hub', hub.url]);
    assert.is(result.code, 0, result.stderr);
    assert.is(result.stdout, 'no sensor is connected\n');
    const filtered = await runCliProcess(['report-now', '--room', 'attic', '--hub', hub.url]);
    assert.is(filtered.stdout, 'no connected sensor matches the filters\n');
  } finally {
    await hub.close();
  }
});

test('--timeout-ms outside 0..30000 is a usage error (exit 2) and nothing is sent [§2]', async () => {
  const hub = await startFakeHub({ reportNow: { body: answer } });
  try {
    for (const value of ['99999', '-1', '2s', '30001']) {
      const result = await runCliInProcess(['report-now', '--hub', hub.url, `--timeout-ms=${value}`]);
      assert.is(result.code, 2, `${value}: ${result.stderr}`);
      assert.match(result.stderr, '--timeout-ms must be a whole number from 0 to 30000');
    }
    assert.is(hub.requests.length, 0);
  } finally {
    await hub.close();
  }
});

test('a 400 exits 1 with its message; nothing listening exits 3 [§3]', async () => {
  const body = JSON.stringify({ error: { code: 'bad_request', message: 'timeout_ms must be an integer from 0 to 30000' } });
  const hub = await startFakeHub({ refuse: { status: 400, body } });
  try {
    const refused = await runCliProcess(['report-now', '--hub', hub.url]);
    assert.is(refused.code, 1);
    assert.match(refused.stderr, 'hub refused (400 bad_request): timeout_ms must be an integer');
  } finally {
    await hub.close();
  }
  const port = await closedPort();
  const unreachable = await runCliProcess(['report-now', '--hub', `http://127.0.0.1:${port}`]);
  assert.is(unreachable.code, 3);
});

test('the HTTP timeout of report-now is at least timeout_ms + 5 s, and never below --timeout', async () => {
  const budgets: (number | undefined)[] = [];
  const hub = (timeoutMs: number): HubClient => ({
    displayUrl: 'http://hub.test',
    timeoutMs,
    getJson: () => Promise.reject(new Error('not used')),
    requestJson: () => Promise.reject(new Error('not used')),
    stream: () => Promise.reject(new Error('not used')),
    websocketTarget: () => {
      throw new Error('not used');
    },
    async postJson(_path, _body, check, options) {
      budgets.push(options?.timeoutMs);
      const checked = check(answer);
      if (!checked.ok) throw new Error(checked.problem);
      return { value: checked.value, text: JSON.stringify(answer) };
    },
  });
  const context = (timeoutMs: number, options: Record<string, string>): CommandContext => ({
    hub: hub(timeoutMs),
    filters: { sensor: [], room: [], metric: [] },
    json: true,
    options,
    args: [],
    stdout: { write: () => undefined, isTTY: false },
    stderr: { write: () => undefined, isTTY: false },
    streams: { stdin: () => process.stdin, stdinIsTTY: false, stdout: process.stdout },
    color: false,
    now: () => nowMs,
    signal: new AbortController().signal,
    session: sessionStub(),
  });
  assert.is(await reportNowCommand.run(context(100, { 'timeout-ms': '3000' })), ExitCode.Done);
  assert.is(await reportNowCommand.run(context(100, {})), ExitCode.Done);
  assert.is(await reportNowCommand.run(context(60_000, { 'timeout-ms': '30000' })), ExitCode.Done);
  assert.equal(budgets, [8000, 7000, 60_000]);
});

test('every sensor answering shows no missing section; one sensor reads in the singular', () => {
  const all: ReportNowBody = { id: 1, requested: 1, responded: 1, missing: [], readings: [answer.readings[0]!] };
  const text = renderReportNow(all, { nowMs, roundTripMs: 37.6, timeoutMs: 2000, color: false, filtered: false });
  assert.is(text.split('\n')[0], '1 of 1 sensor answered in 38 ms');
  assert.not.match(text, 'no answer');
  assert.not.match(text, 'error');
});

test.run();
