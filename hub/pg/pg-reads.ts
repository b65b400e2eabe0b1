/**
 * What a hub in cluster mode reads of PostgreSQL besides exports: its state at open, and the
 * newest readings for a stream subscriber's replay. Names, not PostgreSQL's ids, leave here.
 */
import type pg from 'pg';
import type { LoadedState, RecentQuery, SensorRow, SeriesDef } from '../store/store-messages.ts';
import { Where } from './pg-where.ts';
import { partitionRanges } from './partitions.ts';

/** a row as node-postgres returns it: checked field by field below */
type Row = Record<string, unknown>;

/**
 * The series, each channel's newest reading, the sensors and the number of readings. The hub's
 * catalog is empty at open, so the series get dense ids of their own here (1, 2, ...: the
 * catalog indexes by them), as do the channels; PostgreSQL's own ids stay in PostgreSQL.
 */
export async function loadState(c: pg.ClientBase): Promise<Omit<LoadedState, 'access' | 'schema'>> {
  const rows = (await c.query<SeriesDef>('SELECT id, channel, sensor, room, metric, unit FROM series ORDER BY id')).rows;
  const localId = new Map<number, number>();
  const localChannel = new Map<number, number>();
  const series = rows.map((r, i): SeriesDef => {
    localId.set(r.id, i + 1);
    if (!localChannel.has(r.channel)) localChannel.set(r.channel, localChannel.size + 1);
    return { id: i + 1, channel: localChannel.get(r.channel)!, sensor: r.sensor, room: r.room, metric: r.metric, unit: r.unit };
  });
  const newest = (await newestPerChannel(c)).map((r) => ({ seriesId: localId.get(r.series)!, ts: r.ts, value: r.value }));
  const sensors = (await c.query<Row>('SELECT sensor, room, first_seen, last_seen, address, declared_metrics FROM sensors')).rows.map(
    (r): SensorRow => ({
      sensor: String(r.sensor),
      room: String(r.room),
      firstSeen: Number(r.first_seen),
      lastSeen: Number(r.last_seen),
      address: typeof r.address === 'string' ? r.address : null,
      declaredMetrics: JSON.parse(String(r.declared_metrics)) as Record<string, string>,
    }),
  );
  // Every reading is inserted by a writer batch or an upload, each of which counts what it
  // inserted in writer_counts in its own transaction: exact, without counting the readings.
  const count = (await c.query<{ n: number }>('SELECT coalesce(sum(inserted), 0) AS n FROM writer_counts')).rows[0]?.n ?? 0;
  // Connections are numbered per hub: ClusterStore.open fills in this hub's (pg-connections.ts).
  return { series, newest, sensors, maxConnectionId: 0, readingCount: Number(count) };
}

/**
 * Each channel's newest reading (the catalog keeps latest per channel, whichever series), found
 * through the key's index (channel, ts) one day partition at a time from the newest: a channel
 * heard from today costs one index probe, however long the history; only channels silent since
 * look further back.
 */
async function newestPerChannel(c: pg.ClientBase): Promise<{ series: number; ts: number; value: number }[]> {
  const parts = await partitionRanges(c);
  let missing = (await c.query<{ channel: number }>('SELECT channel FROM channels')).rows.map((r) => r.channel);
  const out: { series: number; ts: number; value: number }[] = [];
  for (const p of parts) {
    if (missing.length === 0) break;
    const found = await c.query<{ channel: number; series: number; ts: number; value: number }>(
      `SELECT ch.channel, n.series, n.ts, n.value FROM unnest($1::int[]) AS ch (channel) CROSS JOIN LATERAL (
         SELECT r.series, r.ts, r.value FROM ${p.name} r WHERE r.channel = ch.channel ORDER BY r.ts DESC LIMIT 1) n`,
      [missing],
    );
    const got = new Set<number>();
    for (const r of found.rows) {
      got.add(r.channel);
      out.push({ series: r.series, ts: Number(r.ts), value: Number(r.value) });
    }
    missing = missing.filter((ch) => !got.has(ch));
  }
  return out;
}

export interface RecentRow {
  sensor: string;
  room: string;
  metric: string;
  unit: string;
  ts: number;
  value: number;
}

/** Days looked at first for a replay: most subscribers want the last minutes. */
const RECENT_FIRST_WINDOW_MS = 86_400_000;

/** The newest `limit` readings that match, oldest first (as the single hub's read-queries.ts). */
export async function recentRows(c: pg.ClientBase, q: RecentQuery): Promise<RecentRow[]> {
  const run = async (since: number | null) => {
    const w = new Where();
    if (q.sensors) w.add(`s.sensor = ANY(${w.param(q.sensors)}::text[])`);
    if (q.rooms) w.add(`s.room = ANY(${w.param(q.rooms)}::text[])`);
    if (q.metrics) w.add(`s.metric = ANY(${w.param(q.metrics)}::text[])`);
    if (since !== null) w.add(`r.ts >= ${w.param(Math.trunc(since))}`);
    return (
      await c.query<RecentRow>(
        `SELECT s.sensor, s.room, s.metric, s.unit, r.ts, r.value FROM readings r JOIN series s ON s.id = r.series ${w.sql}
         ORDER BY r.ts DESC, s.sensor COLLATE "C" DESC, s.metric COLLATE "C" DESC LIMIT ${Math.trunc(q.limit)}`,
        w.params,
      )
    ).rows;
  };
  // The last day first (one or two partitions); all of history only if that is not enough.
  let rows = await run(Date.now() - RECENT_FIRST_WINDOW_MS);
  if (rows.length < q.limit) rows = await run(null);
  return rows.reverse().map((r) => ({ ...r, ts: Number(r.ts), value: Number(r.value) }));
}
