// docs/ALERTS.md "Events": the service numbers events, writes them to the store in the
// background (ingest never waits for it), keeps them through failed writes and stores each once
// and in order when the store is back; a query first writes what is pending.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { AlertService } from '../../hub/alerts/alert-service.ts';
import { SeriesCatalog } from '../../hub/ingest/series-catalog.ts';
import type { AlertCall } from '../../hub/store/alert-sql.ts';
import type { AlertEvent } from '../../protocol/schemas/alerts.ts';
import { FakeClock } from '../support/fake-clock.ts';

/** A store in memory whose appends fail while `failing`. */
function memoryStore() {
  const stored: AlertEvent[] = [];
  const s = {
    stored,
    failing: false,
    appends: 0,
    alerts(call: AlertCall): Promise<unknown> {
      switch (call.kind) {
        case 'load':
          return Promise.resolve({ rules: [], firing: [], maxId: 41 });
        case 'append':
          s.appends++;
          if (s.failing) return Promise.reject(new Error('IO Error: disk full'));
          for (const e of call.events) if (!stored.some((x) => x.id === e.id)) stored.push(e);
          return Promise.resolve(null);
        case 'query':
          return Promise.resolve(stored.filter((e) => call.query.after === null || e.id > call.query.after));
        default:
          return Promise.resolve(null);
      }
    },
  };
  return s;
}

function rows(catalog: SeriesCatalog, values: number[]) {
  const id = catalog.seriesId('s1', 'lab', 'temperature', 'C');
  return {
    n: values.length,
    series: Int32Array.from(values.map(() => id)),
    ts: Float64Array.from(values.map((_, i) => i + 1)),
    value: Float64Array.from(values),
  };
}

test('events are numbered after the stored ones, kept through failed writes, and stored once and in order when the store is back', async () => {
  const clock = new FakeClock(1_700_000_000_000);
  const store = memoryStore();
  const errors: string[] = [];
  const service = new AlertService({
    store,
    now: clock.now,
    clock,
    log: { warn: () => {}, error: (_o: unknown, m: string) => errors.push(m) } as never,
  });
  const catalog = new SeriesCatalog();
  await service.start(catalog, () => []);
  await service.putRule({ name: 'hot', rule: 'temperature > 30', room: null, sensor: null, webhooks: [], updatedAt: 0 });
  store.failing = true;
  service.committed(catalog, rows(catalog, [31, 20, 32]));
  assert.equal(
    service.firing().map((e) => [e.id, e.value]),
    [[44, 32]],
    'the firing list is known at once, before any write',
  );
  await service.flush();
  assert.equal(store.stored, []);
  assert.ok(errors.some((m) => /could not store alert events/.test(m)));
  store.failing = false;
  clock.advance(1_000); // the retry
  await service.flush();
  assert.equal(
    store.stored.map((e) => [e.id, e.state, e.value]),
    [
      [42, 'firing', 31],
      [43, 'cleared', 20],
      [44, 'firing', 32],
    ],
  );
  service.committed(catalog, rows(catalog, [10]));
  const listed = await service.events({ after: 43, limit: 10, rule: null, sensor: null, rooms: null, state: null });
  assert.equal(
    listed.map((e) => e.id),
    [44, 45],
    'a query writes what is pending first',
  );
  await service.stop();
  assert.is(clock.pendingTimers, 0, 'stop leaves no timer behind');
});

test('a no-data rule added later counts silence from when it was added, for sensors the hub knew', async () => {
  const clock = new FakeClock(1_700_000_000_000);
  const store = memoryStore();
  const service = new AlertService({ store, now: clock.now, clock, log: { warn: () => {}, error: () => {} } as never });
  await service.start(new SeriesCatalog(), () => [{ sensor: 'quiet', room: 'lab' }]);
  clock.advance(3_600_000); // an hour without rules: readings were not looked at
  await service.putRule({ name: 'silent', rule: 'no data for 5m', room: null, sensor: null, webhooks: [], updatedAt: 0 });
  clock.advance(299_000);
  assert.equal(service.firing(), [], 'not at once: the hour before the rule is not silence it saw');
  clock.advance(1_000);
  assert.equal(
    service.firing().map((e) => [e.rule, e.sensor]),
    [['silent', 'quiet']],
  );
  await service.stop();
});

test.run();
