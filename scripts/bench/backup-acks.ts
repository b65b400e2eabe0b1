/**
 * How long sensor acks wait while a backup runs (docs/BENCHMARKS.md "Backup under load").
 *
 *   npx tsx scripts/bench/backup-acks.ts [--rows 2000000] [--sensors 8]
 *
 * Starts a hub process on a temp folder, fills it with `--rows` readings by upload, then runs
 * `--sensors` closed-loop sensors (a batch of 100, wait for its ack, again) and reports the ack
 * latency and readings/s for a few seconds without a backup, then during `POST /api/v1/backup`,
 * in the same run, as a ratio.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { request } from '../../test/support/api-client.ts';
import { hubProcessArgs } from '../../test/support/hub-command.ts';
import { connect, type TcpSensor } from '../../test/support/tcp-sensor.ts';

const { values } = parseArgs({ options: { rows: { type: 'string', default: '2000000' }, sensors: { type: 'string', default: '8' } } });
const ROWS = Number(values.rows);
const SENSORS = Number(values.sensors);
const BATCH = 100;
const root = join(import.meta.dirname, '..', '..');
const dir = mkdtempSync(join(tmpdir(), 'roomwatch-bench-backup-'));

const hub = spawn(process.execPath, hubProcessArgs(dir, ['--log-file', 'none']), { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
const ports = await new Promise<{ tcpPort: number; httpPort: number }>((resolve) => {
  let text = '';
  hub.stdout.on('data', (d: Buffer) => {
    text += d.toString();
    const m = /"tcpPort":(\d+),"httpPort":(\d+)/.exec(text) ?? /"httpPort":(\d+).*"tcpPort":(\d+)/.exec(text);
    if (m && text.includes('hub listening')) {
      const line = text.split('\n').find((l) => l.includes('hub listening'))!;
      const j = JSON.parse(line) as { tcpPort: number; httpPort: number };
      resolve(j);
    }
  });
});

const start = Date.now() - 30 * 86_400_000;
const chunks: string[] = ['ts,sensor,room,metric,value,unit\n'];
for (let i = 0; i < ROWS; i++) chunks.push(`${start + i * 1000},fill-${i % 100},lab,temperature,${i % 50},C\n`);
const upload = await request(ports.httpPort, '/api/v1/readings', {
  method: 'POST',
  headers: { 'content-type': 'text/csv' },
  body: chunks.join(''),
  timeoutMs: 600_000,
});
if (upload.status !== 200) throw new Error(`fill: ${upload.status} ${upload.text}`);

const latencies: { at: number; ms: number }[] = [];
let stop = false;
const sensors: TcpSensor[] = [];
for (let s = 0; s < SENSORS; s++) {
  const t = await connect(ports.tcpPort);
  await t.hello(`bench-${s}`, 'lab');
  sensors.push(t);
}
const loops = sensors.map(async (t) => {
  let ts = Date.now() - 3_600_000;
  for (let seq = 1; !stop; seq++) {
    const readings = Array.from({ length: BATCH }, (_, k) => ({ metric: 'temperature', value: k, unit: 'C', ts: ts + k }));
    ts += BATCH;
    const sent = performance.now();
    await t.send({ type: 'batch', seq, readings });
    await t.ackCovering(seq, 60_000);
    latencies.push({ at: sent, ms: performance.now() - sent });
  }
});

function summary(from: number, to: number): { n: number; p50: number; p99: number; max: number; perS: number } {
  const xs = latencies
    .filter((l) => l.at >= from && l.at < to)
    .map((l) => l.ms)
    .sort((a, b) => a - b);
  const q = (p: number): number => xs[Math.min(xs.length - 1, Math.floor(p * xs.length))] ?? NaN;
  return { n: xs.length, p50: q(0.5), p99: q(0.99), max: xs[xs.length - 1] ?? NaN, perS: (xs.length * BATCH) / ((to - from) / 1000) };
}

await new Promise((r) => setTimeout(r, 2000)); // warm up
const b0 = performance.now();
await new Promise((r) => setTimeout(r, 5000));
const b1 = performance.now();
const backup = await request(ports.httpPort, '/api/v1/backup', { method: 'POST', timeoutMs: 600_000 });
const b2 = performance.now();
stop = true;
await Promise.all(loops);
for (const t of sensors) await t.close();
hub.kill('SIGTERM');
await new Promise((r) => hub.once('exit', r));
rmSync(dir, { recursive: true, force: true });

const base = summary(b0, b1);
const during = summary(b1, b2);
const fmt = (s: typeof base): string =>
  `acks ${s.n}, p50 ${s.p50.toFixed(1)} ms, p99 ${s.p99.toFixed(1)} ms, max ${s.max.toFixed(1)} ms, ${Math.round(s.perS)} readings/s`;
console.log(`store: ${ROWS} readings filled; backup ${backup.status}, ${backup.body.length} bytes in ${((b2 - b1) / 1000).toFixed(2)} s`);
console.log(`without backup: ${fmt(base)}`);
console.log(`during backup:  ${fmt(during)}`);
console.log(
  `ratio during/without: readings/s ${(during.perS / base.perS).toFixed(2)}, p50 ${(during.p50 / base.p50).toFixed(2)}, p99 ${(during.p99 / base.p99).toFixed(2)}`,
);
