/**
 * Readings old enough for the store's compaction to sort them at once (hub/store/compaction.ts:
 * cold once more than 10 minutes old), sent by a few sensors in interleaved batches, so the
 * group commits store them interleaved; and a wait for the compaction to have caught up.
 */
import { waitFor } from './api-client.ts';
import { getJson } from './http.ts';
import { connect } from './tcp-sensor.ts';

export interface SentReading {
  sensor: string;
  metric: string;
  ts: number;
  value: number;
}

const METRICS = ['temperature', 'humidity', 'co2'];

/** `sensors` sensors x 3 metrics x `seconds` s of 1 Hz readings from two hours ago, every batch acked. */
export async function sendColdReadings(tcpPort: number, sensors = 4, seconds = 1000): Promise<SentReading[]> {
  const start = Math.floor(Date.now() / 1000) * 1000 - 2 * 3_600_000;
  const sent: SentReading[] = [];
  const links = await Promise.all(
    Array.from({ length: sensors }, async (_, i) => {
      const s = await connect(tcpPort);
      await s.hello(`cold-${i}`, `room-${i % 2}`);
      return s;
    }),
  );
  const secondsPerBatch = 33; // 99 readings
  for (let first = 0; first < seconds; first += secondsPerBatch) {
    // One batch per sensor in turn: the commits hold every sensor's readings side by side.
    await Promise.all(
      links.map(async (s, i) => {
        const readings = [];
        for (let sec = first; sec < Math.min(seconds, first + secondsPerBatch); sec++) {
          for (const metric of METRICS) {
            const r = {
              sensor: `cold-${i}`,
              metric,
              ts: start + sec * 1000 + i,
              value: Math.round((20 + i + Math.sin(sec / 50)) * 100) / 100,
            };
            sent.push(r);
            readings.push({ metric, value: r.value, ts: r.ts });
          }
        }
        const seq = first + 1;
        await s.send({ type: 'batch', seq, readings });
        await s.ackCovering(seq, 30_000);
      }),
    );
  }
  await Promise.all(links.map((s) => s.close()));
  return sent;
}

export interface CompactionHealth {
  state: string;
  slice_open: boolean;
  pending_readings: number;
  slices: number;
  planned_at: string | null;
  last_error?: string;
}

export async function compactionHealth(httpPort: number): Promise<CompactionHealth | undefined> {
  const h = await getJson<{ compaction?: CompactionHealth }>(httpPort, '/api/v1/health');
  return h.body.compaction;
}

/** Waits until a plan made after `since` (ms) found nothing left to sort and nothing to move. */
export function compactionCaughtUp(httpPort: number, since: number, timeoutMs = 90_000): Promise<CompactionHealth> {
  return waitFor(
    'the compaction to catch up',
    async () => {
      const c = await compactionHealth(httpPort);
      return c && c.state === 'idle' && c.pending_readings === 0 && c.planned_at !== null && Date.parse(c.planned_at) > since && c;
    },
    timeoutMs,
    100,
  );
}
