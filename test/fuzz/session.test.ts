// Property-based fuzz of the sensor session state machine, end to end: random sequences of
// lines from several sensors (hello, reading, batch, report, ping, bye, bad JSON, unknown types,
// names of Object.prototype as sensor, room, metric and unit, seq up/down/repeated, ts in and
// out of range, reconnects) against a real hub on a real TCP socket. After each sequence:
// PROTOCOL.md §1 "Session rules" (acks, identity, errors) hold for everything the hub stored
// (session-model.ts), a fresh sensor's reading is acked and in latest, and health is ok.
import fc from 'fast-check';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { csvRecords, history } from '../support/api-client.ts';
import { startHub, type InProcessHub } from '../support/hub-process.ts';
import { getJson, latest } from '../support/http.ts';
import { Teardown, exitWhenDone } from '../support/teardown.ts';
import { check } from './fuzz-support.ts';
import { Driver, Sockets, step } from './session-driver.ts';
import { SessionModel } from './session-model.ts';

const model = new SessionModel();
const sockets = new Sockets();

const scope = new Teardown();
test.after(async () => {
  await scope.run();
  exitWhenDone();
});

async function storedRows(httpPort: number) {
  return csvRecords(await history(httpPort, { time: 'ms' })).map((r) => ({
    ts: Number(r.ts),
    sensor: r.sensor!,
    room: r.room!,
    metric: r.metric!,
    value: Number(r.value),
    unit: r.unit!,
  }));
}

/** The hub still serves: a fresh sensor's reading is acked and in latest, and health is ok. */
async function stillServing(hub: InProcessHub, run: number): Promise<void> {
  const id = `fz-fresh-${run}`;
  const driver = new Driver(hub.tcpPort, model, sockets, scope);
  await driver.run({ slot: 0, hello: undefined, action: { type: 'hello', sensor: id, room: 'lab', metrics: undefined, v: 1 } });
  await driver.run({
    slot: 0,
    hello: undefined,
    action: { type: 'reading', reading: { metric: 'temperature', unit: undefined, ts: { kind: 'none' } }, seq: 'next' },
  });
  await driver.finish();
  const fresh = model.messages.at(-2)!;
  assert.equal(fresh.errors, [], `a fresh sensor's reading was refused: ${fresh.line}`);
  const readings = await latest(hub.httpPort, { sensor: id });
  assert.is(readings.length, 1, `latest for ${id} after its acked reading: ${JSON.stringify(readings)}`);
  const health = await getJson<{ status: string; store_error?: string }>(hub.httpPort, '/api/v1/health');
  assert.is(health.status, 200, `health: ${JSON.stringify(health.body)}`);
  assert.is(health.body.status, 'ok');
  assert.is(health.body.store_error, undefined);
}

test('random line sequences from several sensors keep every ack promise, store each identity once, and leave the hub serving', async () => {
  // §1 Session rules: acks, identity, errors; §1 Names and values: names of Object.prototype
  const hub = await startHub({}, scope);
  let run = 0;
  let rows = 0;
  await check(
    'session state machine',
    fc.asyncProperty(fc.array(step, { minLength: 5, maxLength: 50 }), async (steps) => {
      run++;
      const driver = new Driver(hub.tcpPort, model, sockets, scope);
      for (const st of steps) await driver.run(st);
      await driver.finish();
      await stillServing(hub, run);
      sockets.updateAcks();
      const stored = await storedRows(hub.httpPort);
      rows = stored.length;
      const problems = model.check(stored);
      assert.equal(problems, [], `after run ${run}:\n  ${problems.slice(0, 20).join('\n  ')}`);
    }),
    { seed: 80301, numRuns: 40, shrink: false },
  );
  process.stdout.write(`[fuzz] session: ${run} runs, ${model.summary(rows)}\n`);
  // The sequences reached both sides of the state machine: messages stored and acked, and refused.
  assert.ok(model.coverage().acked > 100 && model.coverage().refused > 100, `coverage: ${model.summary(rows)}`);
});

test.run();
