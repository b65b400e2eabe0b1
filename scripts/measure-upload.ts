/**
 * How much a large upload holds up live sensors, and how much memory it takes: a measurement
 * to run by hand, not a timed test (it takes a minute and wants the machine to itself).
 *
 *   npx tsx scripts/measure-upload.ts [--rows 2000000] [--sensors 500] [--memory-limit 512MB]
 *
 * Starts a hub process on a temp folder, connects one sensor that sends a reading with a seq
 * every 20 ms and times each ack, then POSTs a generated CSV of --rows rows. Prints the upload's
 * time, the longest ack wait while it ran (the time the upload's commit held the store's queue,
 * plus one flush), and the hub's RSS before, at its peak, and after.
 */
import { createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { peakRssBytes, rssBytes, startHub } from './bench/hub-process.ts';
import { runUpload } from './bench/upload.ts';

const { values } = parseArgs({
  options: {
    rows: { type: 'string', default: '2000000' },
    sensors: { type: 'string', default: '500' },
    'memory-limit': { type: 'string', default: '512MB' },
  },
});
const rows = Number(values.rows);
const sensorCount = Number(values.sensors);

const dir = mkdtempSync(join(tmpdir(), 'roomwatch-measure-upload-'));
try {
  const file = join(dir, 'upload.csv');
  await writeCsv(file, rows, sensorCount);
  const hub = await startHub(join(dir, 'data'), ['--memory-limit', values['memory-limit'], '--log-level', 'warn']);
  const pid = hub.child.pid!;
  const acks = await liveSensor(hub.tcpPort);
  await acks.settle();
  const rssBefore = rssBytes(pid);
  acks.mark();
  const upload = await runUpload(hub.httpPort, pid, file);
  const during = acks.mark();
  await acks.settle();
  const mb = (b: number) => `${Math.round(b / 1024 / 1024)} MB`;
  console.log(
    [
      `rows ${rows} (${sensorCount} series), file ${mb(upload.bytes)}`,
      `upload answered in ${Math.round(upload.elapsedMs)} ms: accepted ${upload.accepted}, duplicates ${upload.duplicates}`,
      `sensor acks during the upload: ${during.count}, longest wait ${Math.round(during.maxMs)} ms (median before it ${Math.round(during.medianBeforeMs)} ms)`,
      `hub RSS: before ${mb(rssBefore)}, peak of the process ${mb(peakRssBytes(pid))}, growth during the upload ${mb(upload.rssGrowthBytes)}, after ${mb(rssBytes(pid))}`,
    ].join('\n'),
  );
  acks.close();
  await hub.stop();
} finally {
  rmSync(dir, { recursive: true, force: true });
}

async function writeCsv(path: string, n: number, series: number): Promise<void> {
  const out = createWriteStream(path);
  out.write('ts,sensor,room,metric,value,unit\n');
  const t0 = Date.now() - 30 * 86_400_000;
  let buf = '';
  for (let i = 0; i < n; i++) {
    const s = i % series;
    buf += `${new Date(t0 + Math.floor(i / series) * 1000).toISOString()},measure-${s},room-${s % 5},temperature,${(20 + (i % 97) / 10).toFixed(1)},C\n`;
    if (buf.length > 1 << 20) {
      if (!out.write(buf)) await new Promise<void>((r) => out.once('drain', () => r()));
      buf = '';
    }
  }
  await new Promise<void>((resolve, reject) => out.end(buf, () => resolve()).on('error', reject));
}

/** One sensor sending a reading every 20 ms; the wait of each ack is kept. */
async function liveSensor(port: number) {
  const socket = connect({ port, host: '127.0.0.1' });
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  const sentAt = new Map<number, number>();
  let waits: number[] = [];
  let acked = 0;
  let pending = '';
  socket.on('data', (d: Buffer) => {
    pending += d.toString();
    let nl;
    while ((nl = pending.indexOf('\n')) >= 0) {
      const m = JSON.parse(pending.slice(0, nl)) as { type: string; seq?: number };
      pending = pending.slice(nl + 1);
      if (m.type !== 'ack') continue;
      const now = performance.now();
      for (const [seq, t] of sentAt) {
        if (seq > m.seq!) continue;
        waits.push(now - t);
        sentAt.delete(seq);
      }
      acked = m.seq!;
    }
  });
  socket.write(JSON.stringify({ type: 'hello', v: 1, sensor: 'measure-live', room: 'lab' }) + '\n');
  let seq = 0;
  const timer = setInterval(() => {
    seq++;
    sentAt.set(seq, performance.now());
    socket.write(JSON.stringify({ type: 'reading', metric: 'temperature', value: 20, seq }) + '\n');
  }, 20);
  let before: number[] = [];
  return {
    /** waits since the last mark */
    mark() {
      const out = {
        count: waits.length,
        maxMs: Math.max(0, ...waits, ...[...sentAt.values()].map((t) => performance.now() - t)),
        medianBeforeMs: median(before),
      };
      before = waits;
      waits = [];
      return out;
    },
    async settle() {
      while (acked < seq - 1 || seq < 50) await new Promise((r) => setTimeout(r, 50));
    },
    close() {
      clearInterval(timer);
      socket.destroy();
    },
  };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.floor(s.length / 2)]! : 0;
}
