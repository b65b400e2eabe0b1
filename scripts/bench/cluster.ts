/**
 * Cluster mode's benchmark (`npm run bench -- --only cluster`, or alone:
 * `tsx scripts/bench/cluster.ts [--sensors N] [--seconds S]`). On this one machine, in one run:
 *
 * 1. ingest through a single hub, then through a cluster (3 nats-servers, PostgreSQL, hubs a and
 *    b sharing the fleet, one writer), the same dataset both ways, in batches of 100 and one
 *    reading per line; a reading counts when acked (for the cluster: stored by JetStream), and
 *    the cluster's readings also count when the writer has them all in PostgreSQL. Every process
 *    shares the same 2 cores, so the ratio is the cost of the cluster's extra work, not its scale;
 * 2. CPU seconds per million readings of each role (hubs, nats-servers, writer, PostgreSQL),
 *    bytes per reading in PostgreSQL (the readings partitions with their key) and in the stream;
 * 3. the time from a hub's kill -9 to each of its sensors acked by the other hub (a streaming
 *    fleet that moves on, test/cluster/recording-fleet.ts);
 * 4. from those costs, on paper, the nodes for 1M sensors at one reading per 10 s.
 * Returns Markdown; docs/BENCHMARKS.md "Cluster mode" records it.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect } from '@nats-io/transport-node';
import { jetstreamManager } from '@nats-io/jetstream';
import { STREAM_NAME, WRITERS_CONSUMER } from '../../hub/cluster/cluster-names.ts';
import { NATS_SERVER_INSTALL, natsServerPath, startNatsCluster } from '../../test/support/nats-cluster.ts';
import { POSTGRES_INSTALL, postgresBin, startPostgres } from '../../test/support/postgres-server.ts';
import { Teardown } from '../../test/support/teardown.ts';
import { RecordingFleet } from '../../test/cluster/recording-fleet.ts';
import type { Dataset } from './dataset.ts';
import { cpuSeconds, startHub, type RunningHub } from './hub-process.ts';
import { buildPayloads, runIngest, type IngestMode } from './ingest.ts';
import { sizing, type RoleCosts } from './cluster-sizing.ts';

export interface ClusterBenchOptions {
  sensors: number;
  seconds: number;
  progress: (s: string) => void;
}

const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
const root = join(import.meta.dirname, '..', '..');
const MODES: { name: string; mode: IngestMode }[] = [
  { name: 'batches of 100', mode: { kind: 'batch', size: 100 } },
  { name: 'one reading per line', mode: { kind: 'line' } },
];

export async function runClusterBench(o: ClusterBenchOptions): Promise<string> {
  if (natsServerPath() === undefined || postgresBin() === undefined) {
    return `Cluster mode: skipped; it needs nats-server and PostgreSQL (${NATS_SERVER_INSTALL}; ${POSTGRES_INSTALL})\n`;
  }
  const d: Dataset = { sensors: o.sensors, seconds: o.seconds, startTs: Date.now() - 86_400_000 };
  const out: string[] = [];
  const singles = new Map<string, number>();
  for (const { name, mode } of MODES) {
    o.progress(`cluster bench: single hub, ${name}`);
    singles.set(name, await singleHub(d, mode));
  }
  const scope = new Teardown();
  try {
    o.progress('cluster bench: starting 3 nats-servers and PostgreSQL');
    const [nats, pg] = await Promise.all([startNatsCluster({ scope }), startPostgres({ scope })]);
    const clusterArgs = (id: string) => ['--cluster', nats.urls.join(','), '--history', pg.url, '--hub-id', id, '--log-level', 'warn'];
    const hubs: RunningHub[] = [];
    for (const id of ['a', 'b']) {
      const dir = mkdtempSync(join(tmpdir(), 'roomwatch-bench-'));
      scope.add(`bench dir ${dir}`, () => rmSync(dir, { recursive: true, force: true }));
      const hub = await startHub(dir, clusterArgs(id));
      scope.add(`hub ${id}`, () => hub.stop());
      hubs.push(hub);
    }
    const writerPid = await startWriter(scope, nats.urls.join(','), pg.url);
    const nc = await connect({ servers: nats.urls, name: 'cluster bench' });
    scope.add('bench nats connection', () => nc.close());
    const jsm = await jetstreamManager(nc, { timeout: 10_000 });
    const caughtUp = async (): Promise<void> => {
      for (;;) {
        const info = await jsm.consumers.info(STREAM_NAME, WRITERS_CONSUMER);
        if (info.num_pending === 0 && info.num_ack_pending === 0) return;
        await new Promise((r) => setTimeout(r, 50));
      }
    };
    const roles = () => ({
      hubs: hubs.reduce((s, h) => s + cpuSeconds(h.child.pid!), 0),
      nats: nats.nodes.reduce((s, n) => s + cpuSeconds(n.pid()!), 0),
      writer: cpuSeconds(writerPid),
      postgres: pg.pids().reduce((s, p, i) => s + (i === 0 ? cpuWithChildren(p) : backendCpu(p)), 0),
    });

    out.push(
      `| workload (${fmt(readingsOf(d))} readings, ${fmt(d.sensors)} connections) | single hub | cluster: 2 hubs, 3 nats-servers, 1 writer, PostgreSQL | ratio, cluster / single |`,
      '|---|---|---|---|',
    );
    const bundles: { readings: number; bundles: number; avgBytes: number }[] = [];
    let costs: RoleCosts | undefined;
    let lineCosts: RoleCosts | undefined;
    for (const [i, { name, mode }] of MODES.entries()) {
      // each mode its own sensor ids' times: a later run must not be all duplicates of the first
      const run: Dataset = { ...d, startTs: d.startTs + i * (d.seconds + 10) * 1000 };
      const { payloads, lastSeqs, readings } = buildPayloads(run, mode);
      o.progress(`cluster bench: cluster, ${name}: sending ${fmt(readings)} readings`);
      const before = roles();
      const seq0 = (await jsm.streams.info(STREAM_NAME)).state.last_seq;
      const t0 = performance.now();
      const { elapsedMs } = await runIngest((s) => hubs[s % 2]!.tcpPort, run, payloads, lastSeqs);
      // The stream keeps only what the writers have not acked (interest retention): the size of
      // what is still there is the average bundle's; the sequence counts every bundle published.
      const held = await jsm.streams.info(STREAM_NAME);
      bundles.push({
        readings,
        bundles: held.state.last_seq - seq0,
        avgBytes: held.state.messages > 0 ? held.state.bytes / held.state.messages : NaN,
      });
      o.progress(`cluster bench: cluster, ${name}: waiting for the writer`);
      await caughtUp();
      const intoPgMs = performance.now() - t0;
      const after = roles();
      const perMillion = (k: keyof typeof after) => ((after[k] - before[k]) / readings) * 1e6;
      const c: RoleCosts = {
        hubs: perMillion('hubs'),
        nats: perMillion('nats'),
        writer: perMillion('writer'),
        postgres: perMillion('postgres'),
      };
      if (mode.kind === 'batch') costs = c;
      else lineCosts = c;
      const single = singles.get(name)!;
      const acked = (readings / elapsedMs) * 1000;
      const intoPg = (readings / intoPgMs) * 1000;
      out.push(
        `| ingest, ${name}, acked | ${fmt(single)} readings/s | ${fmt(acked)} readings/s | ${(acked / single).toFixed(2)} |`,
        `| ingest, ${name}, all in PostgreSQL | (acked = stored) | ${fmt(intoPg)} readings/s | ${(intoPg / single).toFixed(2)} |`,
      );
    }

    // A hub's CPU is its own sensors' ingest plus the follow of every other hub's bundles (latest,
    // live stream, alerts), which grows with the cluster's total rate. Split them: everything to
    // hub a, one reading per line; a's CPU is ingest (it skips its own bundles), b's is follow.
    const split: Dataset = { ...d, startTs: d.startTs + MODES.length * (d.seconds + 10) * 1000 };
    const sp = buildPayloads(split, { kind: 'line' });
    o.progress(`cluster bench: all ${fmt(sp.readings)} readings to hub a, one per line: ingest and follow costs`);
    const cpu0 = hubs.map((h) => cpuSeconds(h.child.pid!));
    await runIngest(hubs[0]!.tcpPort, split, sp.payloads, sp.lastSeqs);
    await caughtUp(); // the writer is slower than hub b's follower: by now b has followed it all
    const [ingestCpu, followCpu] = hubs.map((h, i) => ((cpuSeconds(h.child.pid!) - cpu0[i]!) / sp.readings) * 1e6) as [number, number];

    const [size] = await pg.query<{ rows: string; bytes: string }>(
      `select (select count(*) from readings) as rows,
              (select coalesce(sum(pg_total_relation_size(inhrelid)), 0) from pg_inherits where inhparent = 'readings'::regclass) as bytes`,
    );
    const rows = Number(size?.rows ?? 0);
    const bytesPerReading = Number(size?.bytes ?? 0) / rows;
    const perBundle = bundles.map((b) => b.readings / b.bundles);
    const streamBytes = bundles.map((b, i) => b.avgBytes / perBundle[i]!);
    out.push(
      '',
      `CPU seconds per million readings (batches of 100 / one per line): hubs ${pair(costs, lineCosts, 'hubs')}, ` +
        `nats-servers (3 replicas) ${pair(costs, lineCosts, 'nats')}, writer ${pair(costs, lineCosts, 'writer')}, ` +
        `PostgreSQL ${pair(costs, lineCosts, 'postgres')}. ` +
        `A hub's share, one reading per line: ingest of its own sensors ${ingestCpu.toFixed(2)}, follow of other hubs' ${followCpu.toFixed(2)}.`,
      `Bytes per reading: PostgreSQL ${bytesPerReading.toFixed(1)} (${fmt(rows)} rows, readings partitions with their key), ` +
        `in JetStream, per replica, while a bundle waits for the writer: ${streamBytes.map((b) => b.toFixed(1)).join(' / ')} ` +
        `(${perBundle.map((r) => fmt(r)).join(' / ')} readings per bundle, batches / lines).`,
    );

    o.progress('cluster bench: hub death to re-ack');
    out.push(await reackAfterDeath(hubs, o.progress));
    out.push('', sizing({ ingest: ingestCpu, follow: followCpu }, costs!, bytesPerReading));
  } finally {
    o.progress('');
    await scope.run();
  }
  return out.join('\n') + '\n';
}

function readingsOf(d: Dataset): number {
  return d.sensors * d.seconds * 3;
}

function pair(a: RoleCosts | undefined, b: RoleCosts | undefined, k: keyof RoleCosts): string {
  return `${a ? a[k].toFixed(2) : '-'} / ${b ? b[k].toFixed(2) : '-'}`;
}

async function singleHub(d: Dataset, mode: IngestMode): Promise<number> {
  const { payloads, lastSeqs, readings } = buildPayloads(d, mode);
  const dir = mkdtempSync(join(tmpdir(), 'roomwatch-bench-'));
  try {
    const hub = await startHub(dir, ['--log-level', 'warn']);
    const { elapsedMs } = await runIngest(hub.tcpPort, d, payloads, lastSeqs);
    await hub.stop();
    return (readings / elapsedMs) * 1000;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Starts `hub/writer/main.ts` (what `npm run writer` runs); resolves with its pid once it runs. */
async function startWriter(scope: Teardown, cluster: string, history: string): Promise<number> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'hub/writer/main.ts', '--cluster', cluster, '--history', history], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  scope.add('writer', async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
    await exited;
  });
  await new Promise<void>((resolve, reject) => {
    let text = '';
    child.stdout.on('data', (d: Buffer) => {
      text = (text + d.toString()).slice(-10_000);
      if (text.includes('"msg":"writer started"')) resolve();
    });
    child.once('exit', (code) => reject(new Error(`the writer exited (${code}) before it started`)));
  });
  return child.pid!;
}

/**
 * A fleet streaming to both hubs (each sensor 5 readings every 100 ms); hub a killed with -9;
 * for each of its sensors, the time from the kill until hub b acked it. Leaves hub a dead.
 */
async function reackAfterDeath(hubs: RunningHub[], progress: (s: string) => void): Promise<string> {
  const [a, b] = hubs as [RunningHub, RunningHub];
  const sensors = 200;
  const fleet = new RecordingFleet({ sensors, prefix: 'reack', ports: () => [a.tcpPort, b.tcpPort], intervalMs: 100 });
  try {
    await fleet.start();
    await fleet.waitAcked(5_000);
    const onA = fleet.connectedPorts().filter((p) => p === a.tcpPort).length;
    const before = [...fleet.ackLatencies].sort((x, y) => x - y);
    const killedAt = Date.now();
    a.child.kill('SIGKILL');
    progress(`cluster bench: hub a killed; waiting for its ${onA} sensors on hub b`);
    const deadline = Date.now() + 60_000;
    const moved = () => fleet.moves.filter((m) => m.fromPort === a.tcpPort);
    while (moved().filter((m) => m.reackedAt !== undefined).length < onA && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
    }
    const times = moved()
      .filter((m) => m.reackedAt !== undefined)
      .map((m) => m.reackedAt! - killedAt)
      .sort((x, y) => x - y);
    const q = (p: number, of = times) => of[Math.min(of.length - 1, Math.floor(p * of.length))] ?? NaN;
    return (
      `Hub death to re-ack: ${sensors} sensors streaming over both hubs, hub a killed with -9; ` +
      `${times.length} of its ${onA} sensors acked by hub b within 60 s; from the kill: ` +
      `p50 ${q(0.5)} ms, p95 ${q(0.95)} ms, max ${times.at(-1)} ms (reconnect at once, hello, resend, commit, ack); ` +
      `a batch's ack before the kill took p50 ${q(0.5, before)} ms, p95 ${q(0.95, before)} ms.`
    );
  } finally {
    fleet.close();
  }
}

/** A backend's CPU seconds, 0 if it exited since it was listed (the postmaster's children's time then has it). */
function backendCpu(pid: number): number {
  try {
    return cpuSeconds(pid);
  } catch {
    return 0;
  }
}

/** user+system CPU seconds of a process, with those of its children that exited (PostgreSQL's backends come and go). */
function cpuWithChildren(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14])) / 100;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { parseArgs } = await import('node:util');
  const { values } = parseArgs({ options: { sensors: { type: 'string', default: '500' }, seconds: { type: 'string', default: '200' } } });
  const text = await runClusterBench({
    sensors: Number(values.sensors),
    seconds: Number(values.seconds),
    progress: (s) => process.stderr.isTTY && process.stderr.write(`\r\x1b[K${s}`),
  });
  process.stdout.write(text);
}
