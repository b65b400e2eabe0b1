// docs/ADMIN.md "Activity log (admin)": no event wedges the log, none is retried for ever, and
// what cannot be stored is logged and counted. The store is a fake sink here; the real store's
// side (a failed batch rolls back whole, a retried batch adds nothing) is in test/access/.
import pino from 'pino';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { ActivityQuery, ActivityRow } from './access-records.ts';
import { ACTIVITY_FIELD_CHARS, ActivityLog, type ActivityEvent } from './activity-log.ts';

/** A sink that stores rows like the store does: a batch is refused whole if `refuse` says so. */
class FakeSink {
  readonly stored: ActivityRow[] = [];
  tries = 0;
  refuse: (rows: ActivityRow[]) => string | null = () => null;

  async appendActivity(rows: ActivityRow[]): Promise<void> {
    this.tries++;
    const problem = this.refuse(rows);
    if (problem) throw new Error(problem);
    const ids = new Set(this.stored.map((r) => r.id));
    for (const r of rows) if (ids.has(r.id)) throw new Error(`Constraint Error: Duplicate key "id: ${r.id}"`);
    this.stored.push(...rows);
  }

  async queryActivity(_q: ActivityQuery): Promise<ActivityRow[]> {
    return this.stored;
  }
}

interface LogLine {
  level: number;
  msg: string;
  event?: ActivityRow;
}

function logCapture(): { log: pino.Logger; lines: LogLine[] } {
  const lines: LogLine[] = [];
  const log = pino({ level: 'warn' }, { write: (s: string) => void lines.push(JSON.parse(s) as LogLine) });
  return { log, lines };
}

const event = (detail: string, extra: Partial<ActivityEvent> = {}): ActivityEvent => ({
  actor: 'root',
  address: '127.0.0.1',
  action: 'export',
  target: '',
  outcome: 'ok',
  code: 200,
  detail,
  ...extra,
});

test('an event with a field that is not a string (an address gone with its socket) is stored, with every field a string', async () => {
  const sink = new FakeSink();
  sink.refuse = (rows) =>
    rows.some((r) => typeof r.address !== 'string' || typeof r.detail !== 'string') ? 'A string was expected' : null;
  const a = new ActivityLog(sink, () => 1, logCapture().log, 5, [1, 1]);
  a.start(0);
  a.record(event('fine'));
  a.record(event('cut', { address: undefined as unknown as string, detail: { toString: null } as unknown as string, code: 499.5 }));
  await a.flush();
  assert.is(sink.stored.length, 2);
  assert.equal(sink.stored[1], {
    id: 2,
    ts: 1,
    actor: 'root',
    address: '-',
    action: 'export',
    target: '',
    outcome: 'ok',
    code: 0,
    detail: '[unprintable]',
  });
  assert.is(a.dropped, 0);
});

test('long fields are cut to their bound', async () => {
  const sink = new FakeSink();
  const a = new ActivityLog(sink, () => 1, logCapture().log);
  a.start(0);
  a.record(event('x'.repeat(5_000), { target: 'y'.repeat(5_000) }));
  await a.flush();
  assert.is(sink.stored[0]!.detail.length, ACTIVITY_FIELD_CHARS.detail);
  assert.is(sink.stored[0]!.target.length, ACTIVITY_FIELD_CHARS.target);
  assert.ok(sink.stored[0]!.detail.endsWith('…'));
});

test('events recorded before start get ids after the largest stored one, never ids already taken', async () => {
  const sink = new FakeSink();
  sink.stored.push({ id: 1, ts: 0, ...event('from an earlier run') });
  const a = new ActivityLog(sink, () => 1, logCapture().log, 5);
  a.record(event('while the store was opening'));
  await a.flush(); // not started: nothing is written, nothing numbered
  assert.is(sink.tries, 0);
  a.start(1);
  await a.query({ after: null, limit: 10, actions: null, actors: null });
  assert.equal(
    sink.stored.map((r) => [r.id, r.detail]),
    [
      [1, 'from an earlier run'],
      [2, 'while the store was opening'],
    ],
  );
});

test('a failing store is tried a bounded number of times, then event by event: one bad event is dropped, logged and counted, the others are stored', async () => {
  const sink = new FakeSink();
  sink.refuse = (rows) => (rows.some((r) => r.detail === 'poison') ? 'Conversion Error' : null);
  const { log, lines } = logCapture();
  const a = new ActivityLog(sink, () => 1, log, 5, [1, 1, 1]);
  a.start(0);
  a.record(event('before'));
  a.record(event('poison'));
  a.record(event('after'));
  await a.flush();
  // the retries come on their own timers
  for (let i = 0; i < 200 && sink.stored.length < 2; i++) await new Promise((r) => setTimeout(r, 5));
  assert.equal(
    sink.stored.map((r) => r.detail),
    ['before', 'after'],
  );
  assert.is(a.dropped, 1);
  const dropped = lines.filter((l) => l.msg.startsWith('activity event dropped'));
  assert.is(dropped.length, 1);
  assert.is(dropped[0]!.event?.detail, 'poison', 'the dropped event is in the hub log, whole');
  assert.ok(sink.tries <= 3 + 1 + 3, `tries: ${sink.tries}`);
  // and the log goes on: a later event is stored at once
  a.record(event('later'));
  await a.flush();
  assert.equal(sink.stored.at(-1)?.detail, 'later');
  await a.stop();
});

test('a retried batch keeps its ids: a store that took it after all adds nothing twice', async () => {
  const sink = new FakeSink();
  let failOnce = true;
  // Stores the rows, then says it failed (a commit whose answer was lost).
  sink.appendActivity = async function (rows: ActivityRow[]) {
    this.tries++;
    const ids = new Set(this.stored.map((r) => r.id));
    const fresh = rows.filter((r) => !ids.has(r.id)); // what INSERT OR IGNORE does
    this.stored.push(...fresh);
    if (failOnce) {
      failOnce = false;
      throw new Error('IO Error: the answer was lost');
    }
  };
  const a = new ActivityLog(sink, () => 1, logCapture().log, 5, [1]);
  a.start(0);
  a.record(event('once'));
  await a.flush();
  for (let i = 0; i < 100 && sink.tries < 2; i++) await new Promise((r) => setTimeout(r, 5));
  assert.equal(
    sink.stored.map((r) => [r.id, r.detail]),
    [[1, 'once']],
  );
  await a.stop();
});

test('stop does not wait for retries: what the store will not take is logged and counted, and stop resolves', async () => {
  const sink = new FakeSink();
  sink.refuse = () => 'IO Error: disk full';
  const { log, lines } = logCapture();
  const a = new ActivityLog(sink, () => 1, log, 5, [60_000]);
  a.start(0);
  a.record(event('one'));
  a.record(event('two'));
  await a.flush();
  const started = performance.now();
  await a.stop();
  assert.ok(performance.now() - started < 5_000, 'no retry wait at stop');
  assert.is(a.dropped, 2);
  assert.equal(
    lines.filter((l) => l.msg.startsWith('activity event dropped')).map((l) => l.event?.detail),
    ['one', 'two'],
  );
  a.record(event('after stop'));
  assert.is(a.dropped, 3, 'an event after stop is logged and counted, not silently lost');
});

test.run();
