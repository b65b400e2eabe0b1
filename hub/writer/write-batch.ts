/**
 * One writer batch into PostgreSQL: the rows of some bundles COPYed into a staging table, then
 * `INSERT ... ON CONFLICT (channel, ts) DO NOTHING` into `readings`, the sensors' registry rows
 * upserted, the counts moved, all in one transaction. The caller acks the bundles only after it
 * commits: a batch redelivered after a crash stores nothing twice (the key), and one that never
 * committed is stored whole on redelivery. Inserted and duplicate counts are exact: they are the
 * INSERTs' own row counts and the rest. Late rows (late-rows.ts) go in by an INSERT of their
 * own, after the others, which says which of them were new: the writer announces those.
 */
import { pipeline } from 'node:stream/promises';
import { Readable } from 'node:stream';
import type pg from 'pg';
import copyStreams from 'pg-copy-streams';
import { lateFromOf, type ReadingBundle } from '../cluster/bundle.ts';
import type { SensorRow } from '../store/store-messages.ts';
import { daysOf, heldMark, type Partitions } from '../pg/partitions.ts';
import type { SeriesResolver } from '../pg/pg-series.ts';
import { addCounts } from '../pg/pg-counts.ts';
import { insertLateRows, lateRowCount, noLateRows, type LateRows, type ResolvedBundles } from './late-rows.ts';

export interface BatchCounts {
  bundles: number;
  rows: number;
  inserted: number;
  duplicates: number;
  /** rows of days retention dropped (pg-retention.ts): not stored */
  expired: number;
  sensors: number;
  /** the late rows PostgreSQL found new, for the hubs' live streams (late-rows.ts) */
  late: LateRows;
}

export interface BatchDeps {
  series: SeriesResolver;
  partitions: Partitions;
  /** this writer's name, its row in writer_counts */
  writer: string;
  /** test-only: runs after the rows are inserted, before the commit (a kill there loses the batch's transaction) */
  beforeCommit?: () => Promise<void>;
}

/** Lines of COPY text per chunk written to the COPY stream. */
const COPY_LINES = 4096;

/**
 * Stores the bundles; `c` is a client of its own (not in a transaction). On failure the
 * transaction is rolled back and nothing of the batch is stored.
 */
export async function writeBatch(c: pg.ClientBase, deps: BatchDeps, bundles: readonly ReadingBundle[]): Promise<BatchCounts> {
  const resolved = [];
  const days = new Set<number>();
  let rows = 0;
  for (const b of bundles) {
    const ids = await deps.series.resolve(c, b.series);
    resolved.push({ b, ids });
    daysOf(b.ts, b.n, days);
    rows += b.n;
  }
  await deps.partitions.ensure(c, days);
  await c.query(`CREATE TEMP TABLE IF NOT EXISTS staging
    (ord integer, channel integer, series integer, ts bigint, value double precision, late boolean) ON COMMIT DELETE ROWS`);
  let late = noLateRows();
  await c.query('BEGIN');
  try {
    let inserted = 0;
    let expired = 0;
    if (rows > 0) {
      await pipeline(Readable.from(copyLines(resolved)), c.query(copyStreams.from('COPY staging FROM STDIN')));
      // Rows older than the days retention dropped are not stored (no partition takes them).
      const floor = await heldMark(c);
      if (floor !== null)
        expired = Number((await c.query<{ n: number }>('SELECT count(*) AS n FROM staging WHERE ts < $1', [floor])).rows[0]?.n);
      // The first of any identity repeated inside the batch wins, in bundle order; rows go in
      // sorted by the key, so two writers lock keys in the same order and do not deadlock.
      // In-order rows before late ones (late-rows.ts).
      const kept = `ts >= ${floor ?? Number.MIN_SAFE_INTEGER}`;
      const ins = await c.query(`INSERT INTO readings (channel, series, ts, value)
        SELECT DISTINCT ON (channel, ts) channel, series, ts, value FROM staging WHERE ${kept} AND NOT late
        ORDER BY channel, ts, ord
        ON CONFLICT (channel, ts) DO NOTHING`);
      inserted = ins.rowCount ?? 0;
      if (lateRowCount(resolved) > 0) {
        const l = await insertLateRows(c, resolved, kept);
        inserted += l.inserted;
        late = l.rows;
      }
    }
    const sensors = await upsertSensors(
      c,
      bundles.flatMap((b) => b.sensors),
    );
    const duplicates = rows - inserted - expired;
    await addCounts(c, deps.writer, { batches: 1, bundles: bundles.length, inserted, duplicates });
    await deps.beforeCommit?.();
    await c.query('COMMIT');
    return { bundles: bundles.length, rows, inserted, duplicates, expired, sensors, late };
  } catch (err) {
    await c.query('ROLLBACK').catch(() => {});
    throw err;
  }
}

function* copyLines(resolved: ResolvedBundles): Generator<string> {
  let ord = 0;
  let lines: string[] = [];
  for (const { b, ids } of resolved) {
    const lateFrom = lateFromOf(b);
    for (let i = 0; i < b.n; i++) {
      const s = ids[b.seriesIndex[i]!];
      if (!s) throw new Error(`a bundle of ${b.hub} names series ${b.seriesIndex[i]} of ${ids.length}`);
      lines.push(`${ord++}\t${s.channel}\t${s.id}\t${b.ts[i]}\t${b.value[i]}\t${i < lateFrom ? 'f' : 't'}\n`);
      if (lines.length === COPY_LINES) {
        yield lines.join('');
        lines = [];
      }
    }
  }
  if (lines.length > 0) yield lines.join('');
}

/**
 * The registry rows, one statement each kind: a sensor's whole row (the last in bundle order)
 * and its newest sighting. One row per sensor: an upsert may not touch a row twice.
 */
async function upsertSensors(c: pg.ClientBase, rows: SensorRow[]): Promise<number> {
  if (rows.length === 0) return 0;
  const whole = new Map<string, SensorRow>();
  const seen = new Map<string, number>();
  for (const r of rows) {
    if (!r.lastSeenOnly) whole.set(r.sensor, r);
    seen.set(r.sensor, Math.max(seen.get(r.sensor) ?? -Infinity, r.lastSeen));
  }
  if (whole.size > 0) {
    const list = [...whole.values()].sort((a, b) => (a.sensor < b.sensor ? -1 : 1));
    await c.query(
      `INSERT INTO sensors (sensor, room, first_seen, last_seen, address, declared_metrics)
         SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::bigint[], $5::text[], $6::text[])
       ON CONFLICT (sensor) DO UPDATE SET room = excluded.room, first_seen = least(sensors.first_seen, excluded.first_seen),
         last_seen = greatest(sensors.last_seen, excluded.last_seen), address = excluded.address,
         declared_metrics = excluded.declared_metrics`,
      [
        list.map((r) => r.sensor),
        list.map((r) => r.room),
        list.map((r) => Math.trunc(r.firstSeen)),
        list.map((r) => Math.trunc(r.lastSeen)),
        list.map((r) => r.address),
        list.map((r) => JSON.stringify(r.declaredMetrics)),
      ],
    );
  }
  const sightings = [...seen].filter(([s]) => !whole.has(s)).sort((a, b) => (a[0] < b[0] ? -1 : 1));
  if (sightings.length > 0) {
    await c.query(
      `UPDATE sensors SET last_seen = greatest(sensors.last_seen, x.last_seen)
         FROM unnest($1::text[], $2::bigint[]) AS x (sensor, last_seen) WHERE sensors.sensor = x.sensor`,
      [sightings.map(([s]) => s), sightings.map(([, t]) => Math.trunc(t))],
    );
  }
  return seen.size;
}
