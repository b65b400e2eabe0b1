/**
 * The frame of every cluster fault test: a cluster (3 nats-servers, PostgreSQL, hubs a and b,
 * one writer), a recording fleet spread over both hubs and streaming readings with ts and seq,
 * then, after the test's fault, the same end: stop making new readings, wait until every one
 * sent is acked (sensors resend what was not), wait until the writers have taken everything
 * from the stream, and compare PostgreSQL with the record.
 */
import * as assert from 'uvu/assert';
import type { HubProcess } from '../support/hub-process.ts';
import type { NodeProcess } from '../support/node-process.ts';
import { perTest } from '../support/teardown.ts';
import { compareWithSent, startCluster, type TestCluster } from './cluster-setup.ts';
import { RecordingFleet } from './recording-fleet.ts';

export interface FaultRun {
  c: TestCluster;
  a: HubProcess;
  b: HubProcess;
  writer: NodeProcess;
  fleet: RecordingFleet;
}

/** Sensors in the fleet; each sends 5 readings every 100 ms, at most 2 batches unacked. */
export const FLEET_SENSORS = 20;

export async function startFaultRun(prefix: string, ports?: (run: { a: HubProcess; b: HubProcess }) => () => number[]): Promise<FaultRun> {
  const c = await startCluster();
  const [a, b] = await Promise.all([c.startHub('a'), c.startHub('b')]);
  const writer = await c.startWriter();
  const fleet = new RecordingFleet({
    sensors: FLEET_SENSORS,
    prefix,
    ports: ports ? ports({ a, b }) : () => [a.tcpPort, b.tcpPort],
    readingsPerBatch: 5,
    window: 2,
    intervalMs: 100,
  });
  perTest.add('recording fleet', () => fleet.close());
  await fleet.start();
  // a first stretch of normal operation, so the fault lands in a running cluster
  await fleet.waitAcked(500, 60_000);
  return { c, a, b, writer, fleet };
}

/** Waits for `n` more readings acked than now: the cluster still takes readings. */
export async function progress(fleet: RecordingFleet, n: number, what: string, timeoutMs = 60_000): Promise<void> {
  await fleet.waitAcked(fleet.ackedCount() + n, timeoutMs).catch((err: Error) => {
    throw new Error(`${what}: ${err.message}`);
  });
}

/** The end of every fault test: drain, writers caught up, PostgreSQL checked against the record. */
export async function finishAndCheck(run: FaultRun, drainMs = 60_000, catchUpMs = 90_000): Promise<void> {
  const { c, fleet } = run;
  fleet.stopSending();
  await fleet.drain(drainMs);
  const consumer = await c.writersCaughtUp(catchUpMs).catch((err: Error) => {
    throw new Error(`${err.message}\nthe writers' stderr: ${c.writers.map((w) => w.stderr().slice(-1500)).join('\n---\n')}`);
  });
  const stored = (await c.storedReadings()).filter((r) => r.sensor.startsWith(`${fleet.options.prefix}-`));
  const problems = compareWithSent(stored, fleet.sentReadings(), fleet.ackedReadings());
  assert.equal(
    problems,
    [],
    `PostgreSQL against the fleet's record (${fleet.describe()}; consumer delivered ${consumer.delivered.stream_seq})`,
  );
  assert.ok(fleet.sentCount() >= 1_000, `a real load: ${fleet.sentCount()} readings`);
}
