/**
 * The time-series database peer: InfluxDB 1.6.7 (Debian's `influxdb`, `influxdb-client`) on a
 * free loopback port in a temp folder, in its own process group. Ingest: the standard dataset
 * as line protocol (one point per reading, sensor, room and metric as tags), written over HTTP
 * by 4 writers in batches of 5,000 points. Export: its CLI's CSV of the same points.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { forEachReading, sensorId, type Dataset } from './dataset.ts';
import { freePort } from './free-port.ts';
import { rssBytes } from './hub-process.ts';

export const INFLUXDB_INSTALL = 'apt-get update && apt-get install -y --no-install-recommends influxdb influxdb-client';
const WRITERS = 4;
const BATCH_POINTS = 5000;

export function influxDbInstalled(): boolean {
  return existsSync('/usr/bin/influxd') && existsSync('/usr/bin/influx');
}

export interface InfluxResult {
  points: number;
  writeMs: number;
  exportRows: number;
  exportMs: number;
  exportPeakRssBytes: number;
  serverCpuS: number;
}

function stopGroup(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  process.kill(-child.pid!, 'SIGTERM');
  return exited;
}

function batches(d: Dataset): string[] {
  const out: string[] = [];
  let lines: string[] = [];
  for (let s = 0; s < d.sensors; s++) {
    const tags = `readings,sensor=${sensorId(s)},room=room-${s % 20}`;
    forEachReading(d, s, (metric, value, ts) => {
      lines.push(`${tags},metric=${metric} value=${value} ${ts}`);
      if (lines.length === BATCH_POINTS) {
        out.push(lines.join('\n'));
        lines = [];
      }
    });
  }
  if (lines.length > 0) out.push(lines.join('\n'));
  return out;
}

export interface RunningInfluxDb {
  base: string;
  port: number;
  pid: number;
  /** its temp folder, removed by stop() */
  dir: string;
  /** Stops it and removes its folder. */
  stop(): Promise<void>;
}

/** InfluxDB on a free loopback port in a temp folder, its database `bench` made. */
export async function startInfluxDb(): Promise<RunningInfluxDb> {
  const dir = mkdtempSync(join(tmpdir(), 'roomwatch-bench-influxdb-'));
  const [port, rpcPort] = [await freePort(), await freePort()];
  const conf = join(dir, 'influxdb.conf');
  writeFileSync(
    conf,
    [
      'reporting-disabled = true',
      `bind-address = "127.0.0.1:${rpcPort}"`,
      '[meta]',
      `  dir = "${dir}/meta"`,
      '[data]',
      `  dir = "${dir}/data"`,
      `  wal-dir = "${dir}/wal"`,
      '  query-log-enabled = false',
      '[monitor]',
      '  store-enabled = false',
      '[http]',
      `  bind-address = "127.0.0.1:${port}"`,
      '  log-enabled = false',
      '',
    ].join('\n'),
  );
  const server = spawn('/usr/bin/influxd', ['-config', conf], { stdio: 'ignore', detached: true });
  const reap = () => process.kill(-server.pid!, 'SIGKILL');
  process.once('exit', reap);
  server.once('exit', () => process.off('exit', reap));
  const base = `http://127.0.0.1:${port}`;
  const stop = async () => {
    await stopGroup(server);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const deadline = Date.now() + 30_000;
    while ((await fetch(`${base}/ping`).catch(() => null))?.status !== 204) {
      if (Date.now() > deadline) throw new Error('influxd did not answer /ping within 30 s');
      await new Promise((r) => setTimeout(r, 50));
    }
    await fetch(`${base}/query?q=${encodeURIComponent('CREATE DATABASE bench')}`, { method: 'POST' });
  } catch (err) {
    await stop();
    throw err;
  }
  return { base, port, pid: server.pid!, dir, stop };
}

/**
 * Line protocol bodies POSTed to `url` by `writers` writers taking the next body each; every
 * answer must be 204. A 503 or 429 is sent again after its Retry-After (counted).
 */
export async function writeBodies(url: string, bodies: readonly string[], writers = WRITERS): Promise<{ retries: number }> {
  let next = 0;
  let retries = 0;
  await Promise.all(
    Array.from({ length: writers }, async () => {
      while (next < bodies.length) {
        const body = bodies[next++]!;
        for (;;) {
          const res = await fetch(url, { method: 'POST', body, headers: { 'content-type': 'text/plain; charset=utf-8' } });
          if (res.status === 204) break;
          const text = await res.text();
          if (res.status !== 503 && res.status !== 429) throw new Error(`${url} answered ${res.status}: ${text.slice(0, 300)}`);
          retries++;
          await new Promise((r) => setTimeout(r, 1000 * Number(res.headers.get('retry-after') ?? 1)));
        }
      }
    }),
  );
  return { retries };
}

/** Starts InfluxDB, writes the dataset, exports it with the CLI; stops it and removes its folder. */
export async function runInfluxDb(d: Dataset, cpuSeconds: (pid: number) => number): Promise<InfluxResult> {
  const influx = await startInfluxDb();
  const { base, port, dir } = influx;
  const server = { pid: influx.pid };
  try {
    const bodies = batches(d);
    const points = d.sensors * d.seconds * 3;
    const cpu0 = cpuSeconds(server.pid);
    const started = performance.now();
    await writeBodies(`${base}/write?db=bench&precision=ms`, bodies);
    const writeMs = performance.now() - started;
    const serverCpuS = cpuSeconds(server.pid) - cpu0;
    const exportStarted = performance.now();
    const cli = spawn(
      '/usr/bin/influx',
      [
        '-host',
        '127.0.0.1',
        '-port',
        String(port),
        '-database',
        'bench',
        '-format',
        'csv',
        '-precision',
        'rfc3339',
        '-execute',
        'SELECT * FROM readings',
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    let newlines = 0;
    cli.stdout.on('data', (chunk: Buffer) => {
      for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) newlines++;
    });
    cli.stdout.pipe(createWriteStream(join(dir, 'export.csv')));
    let peak = 0;
    const sampler = setInterval(() => {
      try {
        peak = Math.max(peak, rssBytes(cli.pid!));
      } catch {
        /* it has just exited */
      }
    }, 20);
    await new Promise<void>((resolve) => cli.on('close', () => resolve()));
    clearInterval(sampler);
    return { points, writeMs, exportRows: newlines - 1, exportMs: performance.now() - exportStarted, exportPeakRssBytes: peak, serverCpuS };
  } finally {
    await influx.stop();
  }
}
