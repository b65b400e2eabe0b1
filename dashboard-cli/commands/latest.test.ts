// `latest` in-process, with a scripted hub: the table, and the --refresh loop on a TTY and piped.
import { Writable } from 'node:stream';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { LatestBody, Reading, ShapeCheck } from '../api-types.ts';
import type { CommandContext } from '../command.ts';
import { ExitCode, HubUnreachable, UsageError } from '../errors.ts';
import type { HubClient, JsonAnswer, Query } from '../hub-client.ts';
import { CLEAR_SCREEN } from '../terminal.ts';
import { sessionStub } from '../testing/session-stub.ts';
import { latestCommand, renderLatest } from './latest.ts';

const NOW_MS = 1_763_712_000_000;
const r = (room: string, sensor: string, metric: string, value: number, ageMs: number): Reading => ({
  sensor,
  room,
  metric,
  value,
  unit: metric === 'temperature' ? 'C' : '%',
  ts: NOW_MS - ageMs,
});

/** A hub whose answers are scripted: a body, or an error to throw. */
function scriptedHub(answers: (LatestBody | Error)[]): HubClient & { queries: Query[] } {
  const queries: Query[] = [];
  const unused = (): never => {
    throw new Error('latest only reads JSON');
  };
  return {
    displayUrl: 'http://hub.test:8080',
    timeoutMs: 10_000,
    postJson: unused,
    requestJson: unused,
    stream: unused,
    websocketTarget: unused,
    queries,
    async getJson<T>(_path: string, query: Query, check: ShapeCheck<T>): Promise<JsonAnswer<T>> {
      queries.push(query);
      const next = answers.length > 1 ? answers.shift() : answers[0];
      if (next === undefined) throw new Error('script ran out');
      if (next instanceof Error) throw next;
      const checked = check(next);
      if (!checked.ok) throw new Error(checked.problem);
      return { value: checked.value, text: JSON.stringify(next) };
    },
  };
}

const unusedStream = (): never => {
  throw new Error('latest reads no stdin');
};

function context(hub: HubClient, options: Partial<CommandContext> = {}) {
  let stdout = '';
  let stderr = '';
  const ctx: CommandContext = {
    hub,
    filters: { sensor: [], room: [], metric: [] },
    json: false,
    options: {},
    args: [],
    stdout: { write: (t) => void (stdout += t), isTTY: false },
    stderr: { write: (t) => void (stderr += t), isTTY: false },
    streams: {
      stdin: unusedStream,
      stdinIsTTY: false,
      stdout: new Writable({ write: (_c, _e, done) => done(new Error('latest writes through stdout')) }),
    },
    color: false,
    now: () => NOW_MS,
    signal: new AbortController().signal,
    session: sessionStub(),
    ...options,
  };
  return { ctx, out: () => stdout, err: () => stderr };
}

test('the table is sorted by room, then sensor, then metric, with ages by the local clock', () => {
  const body = {
    readings: [
      r('kitchen', 'a', 'temperature', 21.5, 4_000),
      r('hall', 'b', 'humidity', 40, 125_000),
      r('hall', 'b', 'cpu_load', 7, 0),
      r('hall', 'a', 'temperature', 19, 3 * 3600_000 + 600_000),
    ],
  };
  assert.is(
    renderLatest(body, NOW_MS, { color: false, filtered: false }),
    [
      'room     sensor  metric       value  unit    age',
      'hall     a       temperature     19  C     3h10m',
      'hall     b       cpu_load         7  %        0s',
      'hall     b       humidity        40  %     2m05s',
      'kitchen  a       temperature   21.5  C        4s',
      '',
    ].join('\n'),
  );
});

test('an empty answer says so, and says whether filters were the reason', () => {
  assert.is(renderLatest({ readings: [] }, NOW_MS, { color: false, filtered: false }), 'no readings yet\n');
  assert.is(renderLatest({ readings: [] }, NOW_MS, { color: false, filtered: true }), 'no readings match the filters\n');
});

test('the filters are passed to the hub as query lists', async () => {
  const hub = scriptedHub([{ readings: [] }]);
  const { ctx } = context(hub, { filters: { sensor: ['a', 'b'], room: [], metric: ['temperature'] } });
  assert.is(await latestCommand.run(ctx), ExitCode.Done);
  assert.equal(hub.queries, [{ sensor: ['a', 'b'], room: [], metric: ['temperature'] }]);
});

test('piped, --refresh prints one snapshot after another, each under a header naming the hub', async () => {
  const hub = scriptedHub([{ readings: [r('hall', 'a', 'temperature', 19, 0)] }]);
  const { ctx, out } = context(hub, { options: { refresh: '100', times: '3' } });
  assert.is(await latestCommand.run(ctx), ExitCode.Done);
  assert.is(hub.queries.length, 3);
  assert.is(out().split('latest from http://hub.test:8080 at ').length - 1, 3);
  assert.not.match(out(), CLEAR_SCREEN);
});

test('on a TTY, --refresh clears the screen and redraws in place', async () => {
  const hub = scriptedHub([{ readings: [r('hall', 'a', 'temperature', 19, 0)] }]);
  const { ctx, out } = context(hub, { options: { refresh: '100', times: '2' } });
  const tty = { ...ctx, stdout: { write: (t: string) => ctx.stdout.write(t), isTTY: true } };
  assert.is(await latestCommand.run(tty), ExitCode.Done);
  const frames = out().split(CLEAR_SCREEN);
  assert.is(frames.length, 3, 'two redraws');
  assert.match(frames[1] ?? '', /^latest from http:\/\/hub\.test:8080 at .*Ctrl-C to stop\)\n\nroom /);
});

test('on a TTY of 20 lines, the redrawn table of 30 readings becomes a summary per room and metric, under the title', async () => {
  const readings = Array.from({ length: 30 }, (_, i) => r(i % 2 ? 'hall' : 'kitchen', `s-${i}`, 'temperature', 19 + i, 0));
  const hub = scriptedHub([{ readings }]);
  const { ctx, out } = context(hub, { options: { refresh: '100', times: '1' } });
  const tty = { ...ctx, stdout: { write: (t: string) => ctx.stdout.write(t), isTTY: true, rows: 20 } };
  assert.is(await latestCommand.run(tty), ExitCode.Done);
  const frame = (out().split(CLEAR_SCREEN)[1] ?? '').split('\n');
  assert.ok(frame.length <= 20, `${frame.length} lines on a 20-line screen`);
  assert.match(frame[0] ?? '', /^latest from http:\/\/hub\.test:8080 at /);
  assert.match(frame[2] ?? '', /^room +metric +sensors +min +mean +max/);
  assert.match(out(), '30 readings, one line per room and metric to fit');
});

test('with --json, --refresh prints one JSON line per snapshot and no headers', async () => {
  const body = { readings: [r('hall', 'a', 'temperature', 19, 0)] };
  const { ctx, out } = context(scriptedHub([body]), { json: true, options: { refresh: '100', times: '2' } });
  assert.is(await latestCommand.run(ctx), ExitCode.Done);
  assert.equal(
    out()
      .trimEnd()
      .split('\n')
      .map((l) => JSON.parse(l) as unknown),
    [body, body],
  );
});

test('a failure on the first snapshot ends the loop at once with that error', async () => {
  const unreachable = new HubUnreachable('http://hub.test:8080', 'connection refused');
  const { ctx } = context(scriptedHub([unreachable]), { options: { refresh: '100', times: '5' } });
  try {
    await latestCommand.run(ctx);
    assert.unreachable('should have thrown');
  } catch (error) {
    assert.is(error, unreachable);
  }
});

test('a later failure is reported on stderr and retried; the exit code is that of the last snapshot', async () => {
  const ok = { readings: [r('hall', 'a', 'temperature', 19, 0)] };
  const down = new HubUnreachable('http://hub.test:8080', 'connection refused');
  const recovers = context(scriptedHub([ok, down, ok]), { options: { refresh: '100', times: '3' } });
  assert.is(await latestCommand.run(recovers.ctx), ExitCode.Done);
  assert.match(recovers.err(), /cannot reach the hub at http:\/\/hub\.test:8080/);
  assert.match(recovers.err(), /retrying in 100 ms/);

  const staysDown = context(scriptedHub([ok, down]), { options: { refresh: '100', times: '2' } });
  assert.is(await latestCommand.run(staysDown.ctx), ExitCode.NoConnection);
});

test('Ctrl-C (the abort signal) ends an endless refresh cleanly with exit 0', async () => {
  const interrupt = new AbortController();
  const hub = scriptedHub([{ readings: [] }]);
  const { ctx } = context(hub, { options: { refresh: '100' }, signal: interrupt.signal });
  const done = latestCommand.run(ctx);
  interrupt.abort();
  assert.is(await done, ExitCode.Done);
  assert.is(hub.queries.length, 1);
});

test('--times without --refresh, and a refresh below 100 ms, are usage errors', async () => {
  const cases: Record<string, string>[] = [{ times: '2' }, { refresh: '10' }, { refresh: 'soon' }];
  for (const options of cases) {
    const { ctx } = context(scriptedHub([{ readings: [] }]), { options });
    try {
      await latestCommand.run(ctx);
      assert.unreachable('should have thrown');
    } catch (error) {
      assert.instance(error, UsageError);
    }
  }
});

test.run();
