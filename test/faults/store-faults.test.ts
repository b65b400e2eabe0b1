// Fault injection in the store (hub/store/store-faults.ts): commits that throw a retryable
// error, slow commits (a slow fsync), a store that cannot commit at all, and readings the store
// cannot take, each under a fleet of resending sensors. After each: every acked reading is
// stored exactly once, nothing else is lost (PROTOCOL.md §1 "Acks": sensors resend what no ack
// covered, so the store ends with every reading generated, except the messages answered with
// 422/500, which are exactly the poisoned ones), the hub served throughout, and health is ok
// once the faults stop.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { request, waitFor } from '../support/api-client.ts';
import { startHub, startHubProcess, tempDataDir, withTimeout } from '../support/hub-process.ts';
import { getJson, latest } from '../support/http.ts';
import { parseExposition, value } from '../support/prometheus.ts';
import { connect } from '../support/tcp-sensor.ts';
import { exitWhenDone, perTest } from '../support/teardown.ts';
import { checkStore, describeHealth, fleet, pollHealth, storedCounts, type HealthSample } from './fault-harness.ts';
import type { ResendingSensor } from './resending-sensor.ts';

test.after.each(() => perTest.run());
test.after(() => exitWhenDone());

async function commitCounts(httpPort: number): Promise<{ commits: number; failures: number }> {
  const e = parseExposition((await request(httpPort, '/metrics')).text);
  return { commits: value(e, 'roomwatch_commits_total'), failures: value(e, 'roomwatch_commit_failures_total') };
}

async function allFinished(sensors: ResendingSensor[], timeoutMs: number): Promise<void> {
  await Promise.all(sensors.map((s) => s.finished(timeoutMs)));
}

/** A sensor that was never part of the run connects, sends one reading, gets its ack, and sees it in latest. */
async function stillServing(tcpPort: number, httpPort: number, id: string): Promise<void> {
  const s = await connect(tcpPort);
  await s.hello(id, 'lab');
  await s.send({ type: 'reading', metric: 'temperature', value: 21.5, ts: Date.now(), seq: 1 });
  await s.ackCovering(1, 10_000);
  assert.is((await latest(httpPort, { sensor: id })).length, 1, `${id}'s acked reading is in latest`);
  await s.close();
}

function assertHealthAnswered(samples: HealthSample[]): void {
  assert.ok(samples.length > 0, 'health was polled');
  const silent = samples.filter((s) => s.status === 0);
  assert.is(silent.length, 0, `health did not answer ${silent.length} time(s): ${describeHealth(samples)}`);
  // 503 must say why: a load balancer's log is all an operator sees.
  for (const s of samples.filter((x) => x.status === 503))
    assert.ok(
      typeof s.body?.store_error === 'string' || s.body?.status === 'stopping' || s.body?.status === 'starting',
      `a 503 without a reason: ${JSON.stringify(s.body)}`,
    );
}

test('commits that fail a third of the time and a slow fsync lose nothing, ack nothing early, and health is ok after', async () => {
  // §1 Acks: "a message that carries a seq is acknowledged once it is durably stored"
  const data = await tempDataDir();
  const faults = { seed: 11, commitFailureRate: 0.33, commitDelayMs: 15 };
  // As a process, so ROOMWATCH_STORE_FAULTS is read the way an operator would set it.
  const hub = await startHubProcess({
    dataDir: data.path,
    args: ['--log-level', 'fatal'],
    env: { ROOMWATCH_STORE_FAULTS: JSON.stringify(faults) },
  });
  const health = pollHealth(() => hub.httpPort, 50);
  // Small messages, two in flight per sensor: many commits, so many of them fail.
  const sensors = fleet({ seed: 11, sensors: 6, messagesPerSensor: 100, maxReadings: 12, window: 2, port: () => hub.tcpPort });
  const started = Date.now();
  sensors.forEach((s) => s.start());
  await allFinished(sensors, 60_000);
  const { commits, failures } = await commitCounts(hub.httpPort);
  assert.ok(failures >= 3, `the faults took effect (${failures} failed commits of ${commits + failures})`);
  await waitFor(
    'health ok once the sensors are done',
    async () => (await getJson<{ status: string }>(hub.httpPort, '/api/v1/health')).status === 200,
    15_000,
  );
  await stillServing(hub.tcpPort, hub.httpPort, 'fault-fresh-1');
  await health.stop();
  hub.kill('SIGTERM');
  assert.equal(await withTimeout(hub.exited, 20_000, 'hub exit'), { code: 0, signal: null });
  const result = checkStore(sensors, await storedCounts(data.path, 'fault-11-'), () => false);
  assert.equal(result.problems, [], result.problems.join('\n'));
  assert.is(result.refused, 0);
  assertHealthAnswered(health.samples);
  process.stdout.write(
    `[faults] 33% failing commits, 15 ms fsync: ${result.readings} readings in ${result.acked} messages from 6 sensors in ${Date.now() - started} ms, ${failures} of ${commits + failures} commits failed, ${sensors.reduce((n, s) => n + s.log.connections, 0)} connections; health ${describeHealth(health.samples)}\n`,
  );
});

test('a store that cannot commit at all: no acks, 503 to sensors and on health with the reason; after the faults stop everything is stored once', async () => {
  // §1 Error codes 503: "its store is unavailable; nothing after the last ack is stored"; §2 health
  const data = await tempDataDir();
  let ports = { tcpPort: 0, httpPort: 0 };
  const first = await startHub({
    dataDir: data.path,
    storeFaults: { seed: 12, commitFailureRate: 1, commitDelayMs: 0 },
    storeUnavailableAfterMs: 1_000,
  });
  ports = first;
  const health = pollHealth(() => ports.httpPort, 50);
  const sensors = fleet({ seed: 12, sensors: 4, messagesPerSensor: 25, maxReadings: 20, port: () => ports.tcpPort });
  sensors.forEach((s) => s.start());
  await waitFor('503 from the hub to every sensor', () => sensors.every((s) => s.log.errors.some((e) => e.code === 503)), 20_000);
  await waitFor(
    'health 503 with store_error',
    () => health.samples.some((s) => s.status === 503 && typeof s.body?.store_error === 'string'),
    10_000,
  );
  assert.is(
    sensors.reduce((n, s) => n + s.log.acks.length, 0),
    0,
    'no ack from a store that stored nothing',
  );
  await first.stop();

  const second = await startHub({ dataDir: data.path });
  ports = second;
  await allFinished(sensors, 60_000);
  await waitFor(
    'health ok after the faults stop',
    () => health.samples.at(-1)?.status === 200 && health.samples.at(-1)?.body?.status === 'ok',
    10_000,
  );
  await stillServing(second.tcpPort, second.httpPort, 'fault-fresh-2');
  await health.stop();
  await second.stop();
  const result = checkStore(sensors, await storedCounts(data.path, 'fault-12-'), () => false);
  assert.equal(result.problems, [], result.problems.join('\n'));
  // Between the two hubs nothing answered: only the window while no hub ran may go silent.
  assertHealthAnswered(health.samples.filter((s) => s.error === undefined || !/ECONNREFUSED/.test(s.error)));
});

test('readings the store cannot take: exactly their messages are refused with 500 (or 422), every other message is stored once, also with failing commits', async () => {
  // §1 Error codes 500: "the message was not stored"; one message the store cannot take is refused, never retried for ever
  const data = await tempDataDir();
  const hub = await startHub({
    dataDir: data.path,
    storeFaults: { seed: 13, commitFailureRate: 0.2, commitDelayMs: 5, poisonMetric: 'poison' },
  });
  const health = pollHealth(() => hub.httpPort, 50);
  const sensors = fleet({
    seed: 13,
    sensors: 5,
    messagesPerSensor: 40,
    maxReadings: 30,
    port: () => hub.tcpPort,
    poison: { metric: 'poison', share: 0.1 },
  });
  sensors.forEach((s) => s.start());
  await allFinished(sensors, 60_000);
  await waitFor(
    'health ok once the sensors are done',
    async () => (await getJson<{ status: string }>(hub.httpPort, '/api/v1/health')).status === 200,
    15_000,
  );
  await stillServing(hub.tcpPort, hub.httpPort, 'fault-fresh-3');
  await health.stop();
  await hub.stop();
  const poisoned = (m: { readings: { metric: string }[] }) => m.readings.some((r) => r.metric === 'poison');
  const result = checkStore(sensors, await storedCounts(data.path, 'fault-13-'), poisoned);
  assert.equal(result.problems, [], result.problems.join('\n'));
  assert.ok(result.refused > 0, 'some messages were poisoned');
  assertHealthAnswered(health.samples);
  process.stdout.write(
    `[faults] poison and 20% failing commits: ${result.refused} messages refused, ${result.acked} acked, ${result.readings} readings\n`,
  );
});

test.run();
