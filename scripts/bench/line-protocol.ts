/**
 * Line protocol ingest (`npm run bench -- --only line-protocol`): the standard dataset as
 * InfluxDB line protocol (`<metric>,sensor=<id>,room=<room> value=<v> <ms>`), POSTed over HTTP
 * by 4 writers in batches of 5,000 points, to a hub's `/write` and then, the same bodies, to
 * InfluxDB 1.6.7 (peer-influxdb.ts) in the same run. Each answer is 204 once stored; a 503 is
 * sent again after its Retry-After, and counted.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { forEachReading, sensorId, type Dataset } from './dataset.ts';
import { cpuSeconds, peakRssBytes, startHub } from './hub-process.ts';
import { cpuByThread, metric, shownThreads } from './hub-metrics.ts';
import { influxDbInstalled, startInfluxDb, writeBodies } from './peer-influxdb.ts';

const BATCH_POINTS = 5000;

export interface LineProtocolRun {
  points: number;
  bodyBytes: number;
  hub: { writeMs: number; cpuS: number; peakRssBytes: number; retries: number };
  /** null: InfluxDB is not installed */
  influx: { writeMs: number; cpuS: number; retries: number } | null;
}

/** The dataset as line protocol bodies of 5,000 points, sensor after sensor. */
export function lineProtocolBodies(d: Dataset): string[] {
  const out: string[] = [];
  let lines: string[] = [];
  for (let s = 0; s < d.sensors; s++) {
    const tags = `,sensor=${sensorId(s)},room=room-${s % 20} value=`;
    forEachReading(d, s, (metric, value, ts) => {
      lines.push(`${metric}${tags}${value} ${ts}`);
      if (lines.length === BATCH_POINTS) {
        out.push(lines.join('\n'));
        lines = [];
      }
    });
  }
  if (lines.length > 0) out.push(lines.join('\n'));
  return out;
}

export async function runLineProtocol(d: Dataset, progress: (s: string) => void): Promise<LineProtocolRun> {
  progress('line-protocol: building the bodies');
  // Stamped as live readings are: from 10 min ahead of now, so no round's readings are older than
  // the rollups' settled mark (a minute before now). ROOMWATCH_BENCH_STAMP=past keeps the dataset's
  // start (two days ago): a backfill, which the rollups take as late readings and the compaction as cold.
  const live = process.env.ROOMWATCH_BENCH_STAMP !== 'past';
  const bodies = lineProtocolBodies(live ? { ...d, startTs: Math.floor(Date.now() / 1000) * 1000 + 600_000 } : d);
  const points = d.sensors * d.seconds * 3;
  const bodyBytes = bodies.reduce((n, b) => n + Buffer.byteLength(b), 0);
  const rounds = Math.max(1, Number(process.env.ROOMWATCH_BENCH_LP_ROUNDS ?? 1));
  const runs: LineProtocolRun[] = [];
  for (let round = 1; round <= rounds; round++) {
    const label = rounds > 1 ? ` (round ${round} of ${rounds})` : '';
    progress(`line-protocol: ${points.toLocaleString('en-US')} points to the hub${label}`);
    const hub = await hubRound(bodies);
    progress(`line-protocol: the same bodies to InfluxDB 1.6.7${label}`);
    const influx = influxDbInstalled() ? await influxRound(bodies) : null;
    const run: LineProtocolRun = { points, bodyBytes, hub: hub.run, influx };
    runs.push(run);
    const rate = (ms: number) => Math.round((points / ms) * 1000).toLocaleString('en-US');
    process.stderr.write(
      `line-protocol round ${round}: hub ${rate(hub.run.writeMs)} points/s (CPU ${hub.run.cpuS.toFixed(1)} s; ${hub.commits} commits, ` +
        `${hub.commitS.toFixed(2)} s in commits, ${Math.round(points / Math.max(1, hub.commits))} rows each, ` +
        `${hub.checked.toLocaleString('en-US')} rows checked against the store; by thread: ${shownThreads(hub.threads)})` +
        (influx ? `, InfluxDB ${rate(influx.writeMs)} points/s (CPU ${influx.cpuS.toFixed(1)} s), ratio ${ratioOf(run).toFixed(2)}` : '') +
        `, load ${loadavg()[0]!.toFixed(1)}\n`,
    );
  }
  progress('');
  const sorted = [...runs].sort((a, b) => ratioOf(a) - ratioOf(b));
  return sorted[Math.floor((sorted.length - 1) / 2)]!;
}

function ratioOf(r: LineProtocolRun): number {
  return r.influx ? r.influx.writeMs / r.hub.writeMs : 0;
}

async function hubRound(
  bodies: readonly string[],
): Promise<{ run: LineProtocolRun['hub']; commits: number; commitS: number; checked: number; threads: Map<string, number> }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'roomwatch-bench-lp-'));
  const hub = await startHub(dataDir, ['--log-level', process.env.ROOMWATCH_BENCH_LOG_LEVEL ?? 'warn']);
  try {
    const cpu0 = cpuSeconds(hub.child.pid!);
    const threads0 = cpuByThread(hub.child.pid!);
    const commits0 = await metric(hub.httpPort, 'roomwatch_commits_total');
    const commitS0 = await metric(hub.httpPort, 'roomwatch_commit_seconds_total');
    const checked0 = await metric(hub.httpPort, 'roomwatch_commit_rows_checked_total');
    const started = performance.now();
    const { retries } = await writeBodies(`http://127.0.0.1:${hub.httpPort}/write?db=bench&precision=ms`, bodies);
    const writeMs = performance.now() - started;
    const run = { writeMs, cpuS: cpuSeconds(hub.child.pid!) - cpu0, peakRssBytes: peakRssBytes(hub.child.pid!), retries };
    const commits = (await metric(hub.httpPort, 'roomwatch_commits_total')) - commits0;
    const commitS = (await metric(hub.httpPort, 'roomwatch_commit_seconds_total')) - commitS0;
    const checked = (await metric(hub.httpPort, 'roomwatch_commit_rows_checked_total')) - checked0;
    const threads = cpuByThread(hub.child.pid!);
    for (const [name, s] of threads0) threads.set(name, (threads.get(name) ?? 0) - s);
    return { run, commits, commitS, checked, threads };
  } finally {
    await hub.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

async function influxRound(bodies: readonly string[]): Promise<NonNullable<LineProtocolRun['influx']>> {
  const server = await startInfluxDb();
  try {
    const cpu0 = cpuSeconds(server.pid);
    const started = performance.now();
    const { retries } = await writeBodies(`${server.base}/write?db=bench&precision=ms`, bodies);
    return { writeMs: performance.now() - started, cpuS: cpuSeconds(server.pid) - cpu0, retries };
  } finally {
    await server.stop();
  }
}
