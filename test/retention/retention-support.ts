/**
 * For the retention tests: a hub on a clock the test moves (readings stamped in the past, no
 * waiting for days), readings uploaded as CSV, and waits on what health says the rollups and
 * retention have done.
 */
import { getJson } from '../support/http.ts';
import { uploadOk, waitFor } from '../support/api-client.ts';
import { startHub, type InProcessHub } from '../support/hub-process.ts';
import type { RollupTier } from '../../hub/store/rollup-tiers.ts';

export const MINUTE = 60_000;
export const HOUR = 3_600_000;
export const DAY = 86_400_000;

export interface RetentionHealth {
  state: 'idle' | 'working';
  horizon: string | null;
  raw_kept_from: string | null;
  readings_dropped: number;
  readings_expired: number;
  late_buckets_pending: number;
  late_buckets_recomputed: number;
  tiers: { width: string; rolled_below: string; lag_s: number; kept_from: string | null; buckets_dropped: number }[];
  last_error?: string;
}

export interface ClockedHub extends InProcessHub {
  /** the hub clock (ms) */
  clock: { now: number };
}

export async function startClockedHub(startMs: number, retentionMs: number | null, rollupTiers: RollupTier[]): Promise<ClockedHub> {
  const clock = { now: startMs };
  const hub = await startHub({ now: () => clock.now, retentionMs, rollupTiers });
  return { ...hub, clock };
}

export async function retentionHealth(httpPort: number): Promise<RetentionHealth> {
  const h = await getJson<{ retention?: RetentionHealth }>(httpPort, '/api/v1/health');
  if (!h.body.retention) throw new Error('health has no retention yet');
  return h.body.retention;
}

/** Waits until every tier has rolled up to `ms` and no late bucket waits. */
export function rolledUpTo(httpPort: number, ms: number, timeoutMs = 60_000): Promise<RetentionHealth> {
  return waitFor(
    `the rollups to reach ${new Date(ms).toISOString()}`,
    async () => {
      const r = await retentionHealth(httpPort);
      if (r.last_error) throw new Error(r.last_error);
      return r.late_buckets_pending === 0 && r.tiers.every((t) => Date.parse(t.rolled_below) >= ms) && r;
    },
    timeoutMs,
    50,
  );
}

/** Waits until raw readings below `ms` are dropped. */
export function rawDroppedTo(httpPort: number, ms: number, timeoutMs = 60_000): Promise<RetentionHealth> {
  return waitFor(
    `raw readings below ${new Date(ms).toISOString()} to be dropped`,
    async () => {
      const r = await retentionHealth(httpPort);
      if (r.last_error) throw new Error(r.last_error);
      return r.raw_kept_from !== null && Date.parse(r.raw_kept_from) >= ms && r;
    },
    timeoutMs,
    50,
  );
}

export interface Reading {
  ts: number;
  sensor: string;
  metric: string;
  value: number;
}

/** `series` sensors' temperature every `stepMs` in [fromMs, toMs), values with many digits. */
export function readings(fromMs: number, toMs: number, stepMs: number, series: number, seed = 1): Reading[] {
  const out: Reading[] = [];
  for (let ts = fromMs; ts < toMs; ts += stepMs)
    for (let s = 0; s < series; s++) {
      const x = Math.sin((ts / stepMs) * 0.37 + s * 1.3 + seed) * 3.141592653589793;
      out.push({ ts: ts + s, sensor: `rack-${s}`, metric: 'temperature', value: Math.round((21 + x) * 1e6) / 1e6 });
    }
  return out;
}

export function csvOf(rows: Reading[]): string {
  return `ts,sensor,room,metric,value,unit\n${rows.map((r) => `${r.ts},${r.sensor},lab,${r.metric},${r.value},C`).join('\n')}\n`;
}

export function uploadReadings(httpPort: number, rows: Reading[]) {
  return uploadOk(httpPort, csvOf(rows)) as Promise<{ accepted: number; duplicates: number; expired?: number; retained_from?: string }>;
}

/** Waits until raw readings are dropped to `ms`, every tier rolled to `rolledTo`, and the runner idle (checkpointed). */
export function settled(httpPort: number, ms: number | null, rolledTo: number, timeoutMs = 60_000): Promise<RetentionHealth> {
  return waitFor(
    `retention to settle at ${ms === null ? 'no drop' : new Date(ms).toISOString()}`,
    async () => {
      const r = await retentionHealth(httpPort);
      if (r.last_error) throw new Error(r.last_error);
      const dropped = ms === null || (r.raw_kept_from !== null && Date.parse(r.raw_kept_from) >= ms);
      return (
        dropped && r.state === 'idle' && r.late_buckets_pending === 0 && r.tiers.every((t) => Date.parse(t.rolled_below) >= rolledTo) && r
      );
    },
    timeoutMs,
    50,
  );
}
