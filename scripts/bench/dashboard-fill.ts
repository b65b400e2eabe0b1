/**
 * Fills one room for the dashboard bench through the sensor port, the fastest way in: S sensors
 * (one connection each) send T seconds of 1 Hz readings of the three metrics ending now, in
 * batches, generated as they are sent (a week of 20 sensors is 36M readings: never held whole),
 * with TCP backpressure. Resolves when the hub has acknowledged everything (stored).
 *
 * Then the bench waits for the store to settle as a hub that has run for a week has: the
 * compaction has sorted the cold readings and the rollups have caught up (their tiers hold the
 * week, no late bucket is pending). Right after a fill neither is true (every reading of the
 * fill came in "late", behind the finest tier's mark), and the views would measure raw scans
 * and the background work instead of the hub's usual answer.
 */
import { connect, type Socket } from 'node:net';
import { LineSplitter } from '../../protocol/line-splitter.ts';
import { compactionCaughtUp } from './compaction.ts';
import { METRICS } from './dataset.ts';

export interface RoomFill {
  room: string;
  sensors: number;
  seconds: number;
  /** the last reading's time; the first is `endTs - (seconds - 1) * 1000` */
  endTs: number;
}

/** readings per batch: 3 metrics x 166 s, about 30 KB a line (the hub takes lines up to 64 KiB) */
const BATCH_SECONDS = 166;

export function roomSensorId(room: string, s: number): string {
  return `${room}-${String(s + 1).padStart(2, '0')}`;
}

/** One sensor's batches, `BATCH_SECONDS` at a time: a daily swing, a slow drift and noise per metric. */
function* batches(f: RoomFill, s: number): Generator<string> {
  const start = f.endTs - (f.seconds - 1) * 1000;
  let seq = 0;
  let seed = 1000 + s;
  const noise = (): number => {
    seed = (seed * 1103515245 + 12345) % 2147483648;
    return seed / 2147483648 - 0.5;
  };
  for (let sec = 0; sec < f.seconds; sec += BATCH_SECONDS) {
    const parts: string[] = [];
    for (let k = sec; k < Math.min(f.seconds, sec + BATCH_SECONDS); k++) {
      const ts = start + k * 1000;
      const day = Math.sin((2 * Math.PI * ts) / 86_400_000);
      for (const m of METRICS) {
        const f10 = 10 ** m.decimals;
        const v = m.base + m.swing * 0.6 * day + m.swing * 0.4 * Math.sin((k + s * 977) / 1800) + noise();
        parts.push(`{"metric":"${m.metric}","value":${Math.round(v * f10) / f10},"ts":${ts}}`);
      }
    }
    yield `{"type":"batch","seq":${++seq},"readings":[${parts.join(',')}]}\n`;
  }
}

function lastSeq(f: RoomFill): number {
  return Math.ceil(f.seconds / BATCH_SECONDS);
}

/** Sends one sensor's readings; resolves when its last batch is acknowledged. */
function fillSensor(tcpPort: number, f: RoomFill, s: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket: Socket = connect(tcpPort, '127.0.0.1');
    const splitter = new LineSplitter(1 << 20);
    const last = lastSeq(f);
    const source = batches(f, s);
    const pump = (): void => {
      for (let next = source.next(); !next.done; next = source.next())
        if (!socket.write(next.value)) return void socket.once('drain', pump);
    };
    socket.on('error', reject);
    socket.on('data', (chunk: Buffer) =>
      splitter.push(chunk, (line) => {
        const m = JSON.parse(line) as { type: string; seq?: number; code?: number; message?: string };
        if (m.type === 'welcome') pump();
        else if (m.type === 'ack' && (m.seq ?? 0) >= last) {
          socket.end();
          resolve();
        } else if (m.type === 'error') reject(new Error(`hub error ${m.code}: ${m.message}`));
      }),
    );
    socket.write(`{"type":"hello","v":1,"sensor":"${roomSensorId(f.room, s)}","room":"${f.room}"}\n`);
  });
}

/** Fills the room; resolves with the readings stored and how long it took. */
export async function fillRoom(tcpPort: number, f: RoomFill): Promise<{ readings: number; elapsedMs: number }> {
  const started = performance.now();
  await Promise.all(Array.from({ length: f.sensors }, (_, s) => fillSensor(tcpPort, f, s)));
  return { readings: f.sensors * f.seconds * METRICS.length, elapsedMs: performance.now() - started };
}

interface RetentionHealth {
  state: string;
  late_buckets_pending: number;
  last_error?: string;
  tiers: { width: string; lag_s: number }[];
}

/**
 * Waits until the compaction has sorted what is cold and the rollups are idle with no late
 * bucket pending and their finest tier within two minutes of the clock; returns the seconds
 * each took (the rollups' counted after the compaction's).
 */
export async function storeSettled(
  httpPort: number,
  since: number,
  timeoutMs = 30 * 60_000,
): Promise<{ compactionS: number; rollupsS: number }> {
  const compactionS = await compactionCaughtUp(httpPort, since, timeoutMs);
  const started = performance.now();
  for (;;) {
    const r = ((await (await fetch(`http://127.0.0.1:${httpPort}/api/v1/health`)).json()) as { retention?: RetentionHealth }).retention;
    if (!r) return { compactionS, rollupsS: 0 }; // a hub without rollups
    if (r.last_error) throw new Error(`the rollups failed: ${r.last_error}`);
    if (r.state === 'idle' && r.late_buckets_pending === 0 && (r.tiers[0]?.lag_s ?? 0) <= 120)
      return { compactionS, rollupsS: (performance.now() - started) / 1000 };
    if (performance.now() - started > timeoutMs)
      throw new Error(`the rollups did not catch up within ${timeoutMs / 1000} s: ${JSON.stringify(r)}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}
