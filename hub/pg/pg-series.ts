/**
 * PostgreSQL's own numbering of series and channels (pg-schema.ts): names in, ids out, cached.
 * New ones are made in a short transaction of their own (autocommit), before the rows that use
 * them, so two writers that meet the same new series do not hold each other's batch.
 */
import type pg from 'pg';

export interface SeriesNames {
  sensor: string;
  room: string;
  metric: string;
  unit: string;
}

export interface PgSeries {
  id: number;
  channel: number;
}

const keyOf = (s: SeriesNames) => `${s.sensor}\0${s.room}\0${s.metric}\0${s.unit}`;

/** The cache is bounded: past this many series it starts again (a lookup costs one query). */
const MAX_CACHED = 1_000_000;

export class SeriesResolver {
  private readonly cache = new Map<string, PgSeries>();

  /** The PostgreSQL series of each of `names`, made where missing. */
  async resolve(c: pg.ClientBase, names: readonly SeriesNames[]): Promise<PgSeries[]> {
    if (this.cache.size + names.length > MAX_CACHED) this.cache.clear();
    const missing = new Map<string, SeriesNames>();
    for (const s of names) if (!this.cache.has(keyOf(s))) missing.set(keyOf(s), s);
    if (missing.size > 0) {
      const list = [...missing.values()];
      const cols = [list.map((s) => s.sensor), list.map((s) => s.room), list.map((s) => s.metric), list.map((s) => s.unit)];
      await c.query(
        `INSERT INTO channels (sensor, metric)
           SELECT DISTINCT sensor, metric FROM unnest($1::text[], $2::text[]) AS x (sensor, metric)
         ON CONFLICT DO NOTHING`,
        [cols[0], cols[2]],
      );
      await c.query(
        `INSERT INTO series (channel, sensor, room, metric, unit)
           SELECT ch.channel, x.sensor, x.room, x.metric, x.unit
           FROM unnest($1::text[], $2::text[], $3::text[], $4::text[]) AS x (sensor, room, metric, unit)
           JOIN channels ch ON ch.sensor = x.sensor AND ch.metric = x.metric
         ON CONFLICT DO NOTHING`,
        cols,
      );
      const found = await c.query<{ id: number; channel: number } & SeriesNames>(
        `SELECT s.id, s.channel, s.sensor, s.room, s.metric, s.unit
           FROM series s JOIN unnest($1::text[], $2::text[], $3::text[], $4::text[]) AS x (sensor, room, metric, unit)
           ON s.sensor = x.sensor AND s.room = x.room AND s.metric = x.metric AND s.unit = x.unit`,
        cols,
      );
      for (const r of found.rows) this.cache.set(keyOf(r), { id: r.id, channel: r.channel });
    }
    return names.map((s) => {
      const got = this.cache.get(keyOf(s));
      if (!got) throw new Error(`series ${s.sensor}/${s.metric} could not be made in PostgreSQL`);
      return got;
    });
  }
}
