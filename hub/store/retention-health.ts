/**
 * What `GET /api/v1/health` and `/metrics` say about rollups and retention (docs/ADMIN.md
 * "Retention and rollups"), from the status the store worker posts (rollup-runner.ts).
 */
import { Counter, Gauge, type Registry } from 'prom-client';
import type { RetentionStatus } from './store-messages.ts';
import { formatDuration } from './rollup-tiers.ts';

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

export function retentionHealth(s: RetentionStatus): Record<string, unknown> {
  return {
    state: s.idle ? 'idle' : 'working',
    raw_retention: formatDuration(s.retentionMs),
    horizon: iso(s.horizonMs),
    raw_kept_from: iso(s.rawKeptFromMs),
    readings_dropped: s.readingsDropped,
    readings_expired: s.readingsExpired,
    late_buckets_pending: s.lateMarks,
    late_buckets_recomputed: s.lateRecomputed,
    tiers: s.tiers.map((t) => ({
      width: formatDuration(t.widthMs),
      keep: formatDuration(t.keepMs),
      rolled_below: iso(t.rolledBelowMs),
      lag_s: Math.round(t.lagMs / 1000),
      kept_from: iso(t.keptFromMs),
      buckets_dropped: t.bucketsDropped,
    })),
    ...(s.unmaintained.length > 0
      ? {
          unmaintained_tables: s.unmaintained,
          unmaintained_note: 'tier tables of an earlier --rollups, no longer kept up to date: drop them once not needed',
        }
      : {}),
    last_step_at: iso(s.lastStepAt),
    ...(s.lastError ? { last_error: s.lastError } : {}),
  };
}

type Sample = [labels: Record<string, string>, value: number];

/** A family whose samples are read at scrape time; none while the store has said nothing. */
function family(
  registry: Registry,
  labelNames: string[],
  kind: 'gauge' | 'counter',
  name: string,
  help: string,
  samples: (s: RetentionStatus) => Sample[],
  read: () => RetentionStatus | null,
): void {
  const collect = function (this: Gauge | Counter) {
    this.reset();
    const s = read();
    for (const [labels, v] of s ? samples(s) : []) {
      if (this instanceof Gauge) this.set(labels, v);
      else this.inc(labels, v);
    }
  };
  if (kind === 'gauge') new Gauge({ name, help, labelNames, registers: [registry], collect });
  else new Counter({ name, help, labelNames, registers: [registry], collect });
}

const one = (v: number | null): Sample[] => (v === null ? [] : [[{}, v]]);

/** The /metrics families (docs/ADMIN.md "Retention and rollups"), read at scrape time. */
export function addRetentionFamilies(registry: Registry, read: () => RetentionStatus | null): void {
  const add = (kind: 'gauge' | 'counter', name: string, help: string, samples: (s: RetentionStatus) => Sample[], labels: string[] = []) =>
    family(registry, labels, kind, name, help, samples, read);
  const perTier = (value: (t: RetentionStatus['tiers'][number]) => number) => (s: RetentionStatus) =>
    s.tiers.map((t): Sample => [{ tier: formatDuration(t.widthMs) }, value(t)]);
  add('gauge', 'roomwatch_retention_raw_kept_from_seconds', 'Raw readings older than this (Unix time) were dropped by retention.', (s) =>
    one(s.rawKeptFromMs === null ? null : s.rawKeptFromMs / 1000),
  );
  add(
    'gauge',
    'roomwatch_retention_horizon_seconds',
    'Readings older than this (Unix time) are refused: raw readings are kept no longer.',
    (s) => one(s.horizonMs === null ? null : s.horizonMs / 1000),
  );
  add('counter', 'roomwatch_retention_readings_dropped_total', 'Raw readings dropped by retention since start.', (s) =>
    one(s.readingsDropped),
  );
  add(
    'counter',
    'roomwatch_retention_readings_expired_total',
    'Readings refused since start for being older than the retention horizon.',
    (s) => one(s.readingsExpired),
  );
  add('gauge', 'roomwatch_rollup_late_buckets_pending', 'Rollup buckets that late readings changed, waiting to be recomputed.', (s) =>
    one(s.lateMarks),
  );
  add(
    'gauge',
    'roomwatch_rollup_lag_seconds',
    'How far behind the hub clock each rollup tier is rolled up.',
    perTier((t) => t.lagMs / 1000),
    ['tier'],
  );
  add(
    'counter',
    'roomwatch_rollup_buckets_dropped_total',
    "Rollup buckets dropped since start, past their tier's keep.",
    perTier((t) => t.bucketsDropped),
    ['tier'],
  );
}
