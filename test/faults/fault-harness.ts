/**
 * The fault harness: a fleet of resending sensors with deterministic readings, a health poller
 * that records every answer, and the checks run after each fault: every acked reading stored
 * exactly once, nothing else lost (every reading generated is stored unless its message was
 * refused with 422/500), refusals exactly where expected, health answered throughout.
 */
import { DuckDBInstance } from '@duckdb/node-api';
import http from 'node:http';
import { deriveSeed, seededRandom } from '../../sensors/random.ts';
import { storePath } from '../support/store-inspect.ts';
import { ResendingSensor, type FaultMessage } from './resending-sensor.ts';

// ---------------------------------------------------------------- fleet

export interface FleetOptions {
  seed: number;
  sensors: number;
  messagesPerSensor: number;
  /** readings per message: 1 to this */
  maxReadings: number;
  port: () => number;
  /** a metric put into about `poisonShare` of the messages (one reading each) */
  poison?: { metric: string; share: number };
  window?: number;
}

const METRICS = ['temperature', 'humidity', 'pressure', 'cpu_load'];

/** Sensor i's readings: ts unique per (sensor, metric), a ms apart, from an hour ago. */
export function fleet(o: FleetOptions): ResendingSensor[] {
  const base = Math.floor(Date.now() / 1000) * 1000 - 3_600_000;
  return Array.from({ length: o.sensors }, (_, i) => {
    const random = seededRandom(deriveSeed(o.seed, i, 'readings'));
    let seq = 0;
    let ts = base;
    const produce = (): FaultMessage | null => {
      if (seq >= o.messagesPerSensor) return null;
      const n = 1 + Math.floor(random() * o.maxReadings);
      const readings = Array.from({ length: n }, (_, j) => ({
        metric: METRICS[j % METRICS.length]!,
        value: Math.round(random() * 1e6) / 100,
        ts: ts + Math.floor(j / METRICS.length),
      }));
      ts += Math.ceil(n / METRICS.length);
      if (o.poison && random() < o.poison.share) readings.push({ metric: o.poison.metric, value: 0, ts });
      // seq from 1, with gaps now and then: the contract asks only that it increases
      seq += random() < 0.1 ? 3 : 1;
      return { seq, readings };
    };
    return new ResendingSensor({
      sensor: `fault-${o.seed}-${i}`,
      room: `room-${i % 3}`,
      port: o.port,
      produce,
      random: seededRandom(deriveSeed(o.seed, i, 'jitter')),
      ...(o.window ? { window: o.window } : {}),
    });
  });
}

// ---------------------------------------------------------------- health

export interface HealthSample {
  at: number;
  /** HTTP status, or 0 when no answer came within the poll's timeout */
  status: number;
  body: { status?: string; store_error?: string; [k: string]: unknown } | null;
  error?: string;
}

/** GETs /api/v1/health every `intervalMs` (each with a 2 s timeout) until `stop()`. */
export function pollHealth(port: () => number, intervalMs = 100): { samples: HealthSample[]; stop(): Promise<void> } {
  const samples: HealthSample[] = [];
  let stopped = false;
  const once = () =>
    new Promise<void>((resolve) => {
      const at = Date.now();
      const req = http.get({ host: '127.0.0.1', port: port(), path: '/api/v1/health', agent: false, timeout: 2000 }, (res) => {
        let text = '';
        res.on('data', (d: Buffer) => (text += d.toString()));
        res.on('end', () => {
          let body: HealthSample['body'] = null;
          try {
            body = JSON.parse(text) as HealthSample['body'];
          } catch {
            /* recorded as null */
          }
          samples.push({ at, status: res.statusCode ?? 0, body });
          resolve();
        });
      });
      req.on('timeout', () => req.destroy(new Error('no answer within 2 s')));
      req.on('error', (err) => {
        samples.push({ at, status: 0, body: null, error: err.message });
        resolve();
      });
    });
  const loop = (async () => {
    while (!stopped) {
      await once();
      await new Promise((r) => setTimeout(r, intervalMs));
    }
  })();
  return {
    samples,
    async stop() {
      stopped = true;
      await loop;
    },
  };
}

/** A compact account of the health answers, for failure messages. */
export function describeHealth(samples: HealthSample[]): string {
  const runs: string[] = [];
  for (const s of samples) {
    const label =
      s.status === 0
        ? `no answer (${s.error})`
        : `${s.status} ${s.body?.status ?? '?'}${s.body?.store_error ? ` "${String(s.body.store_error).slice(0, 80)}"` : ''}`;
    if (runs.at(-1)?.startsWith(label)) continue;
    runs.push(label);
  }
  return `${samples.length} polls: ${runs.slice(0, 12).join(' -> ')}`;
}

// ---------------------------------------------------------------- the store

/** Runs one query on the store, read-only (no hub may have it open), and returns its rows. */
export async function queryStore(dataDir: string, sql: string): Promise<unknown[][]> {
  const instance = await DuckDBInstance.create(storePath(dataDir), { access_mode: 'READ_ONLY' });
  try {
    const c = await instance.connect();
    try {
      return (await c.runAndReadAll(sql)).getRows();
    } finally {
      c.closeSync();
    }
  } finally {
    instance.closeSync();
  }
}

/** How often each (sensor, metric, ts) is stored, for the sensors whose ids start with `prefix`. */
export async function storedCounts(dataDir: string, prefix: string): Promise<Map<string, number>> {
  const rows = await queryStore(
    dataDir,
    `SELECT s.sensor, s.metric, r.ts, count(*) FROM readings r JOIN series s ON s.id = r.series_id
      WHERE starts_with(s.sensor, '${prefix.replaceAll("'", "''")}') GROUP BY ALL`,
  );
  return new Map(rows.map(([sensor, metric, ts, n]) => [key(String(sensor), String(metric), Number(ts)), Number(n)]));
}

const key = (sensor: string, metric: string, ts: number) => `${sensor}\0${metric}\0${ts}`;

export interface StoreCheck {
  problems: string[];
  acked: number;
  refused: number;
  readings: number;
}

/**
 * After the run: every reading of every message is stored exactly once, unless its message was
 * refused (then none of it is); an acked message is never refused; `mayRefuse` says which
 * messages may be refused (and all of them must be).
 */
export function checkStore(sensors: ResendingSensor[], counts: Map<string, number>, mayRefuse: (m: FaultMessage) => boolean): StoreCheck {
  const problems: string[] = [];
  let acked = 0;
  let refused = 0;
  let readings = 0;
  const note = (p: string) => problems.length < 30 && problems.push(p);
  for (const s of sensors)
    for (const [seq, m] of s.messages) {
      const o = s.outcomes.get(seq)!;
      const id = `${s.log.acks.length ? '' : '(no acks at all) '}${s.id} seq ${seq}`;
      if (o.ackedAt !== undefined) acked++;
      if (o.refused) refused++;
      if (o.ackedAt !== undefined && o.refused) note(`${id}: acked and refused (${o.refused.code})`);
      if (o.refused && !mayRefuse(m)) note(`${id}: refused with ${o.refused.code} "${o.refused.message}", but the store can take it`);
      if (!o.refused && mayRefuse(m))
        note(`${id}: holds a reading the store cannot take, yet was ${o.ackedAt !== undefined ? 'acked' : 'never refused'}`);
      for (const r of m.readings) {
        readings++;
        const n = counts.get(key(s.id, r.metric, r.ts)) ?? 0;
        if (o.refused ? n !== 0 : n !== 1)
          note(
            `${id}: (${r.metric}, ${r.ts}) stored ${n} time(s); the message was ${o.refused ? `refused (${o.refused.code})` : o.ackedAt !== undefined ? 'acked' : 'never acked'}`,
          );
      }
    }
  return { problems, acked, refused, readings };
}
