/** Read-only queries of the store worker, each on a connection of its own. */
import type { DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import type { RecentQuery, SeriesDef } from './store-messages.ts';

export async function loadSeries(c: DuckDBConnection): Promise<SeriesDef[]> {
  const rows = (await c.runAndReadAll('SELECT id, channel, sensor, room, metric, unit FROM series ORDER BY id')).getRows();
  return rows.map(([id, channel, sensor, room, metric, unit]) => ({
    id: Number(id),
    channel: Number(channel),
    sensor: String(sensor),
    room: String(room),
    metric: String(metric),
    unit: String(unit),
  }));
}

/** The newest `limit` readings matching, oldest first. */
export async function recent(instance: DuckDBInstance, q: RecentQuery): Promise<{ seriesId: number; ts: number; value: number }[]> {
  const c = await instance.connect();
  try {
    const list = (v: string[]) => (v.length === 0 ? 'NULL' : v.map((x) => `'${x.replaceAll("'", "''")}'`).join(', '));
    const where: string[] = [];
    if (q.sensors) where.push(`s.sensor IN (${list(q.sensors)})`);
    if (q.rooms) where.push(`s.room IN (${list(q.rooms)})`);
    if (q.metrics) where.push(`s.metric IN (${list(q.metrics)})`);
    const rows = (
      await c.runAndReadAll(`SELECT r.series_id, r.ts, r.value FROM readings r JOIN series s ON s.id = r.series_id
        ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY r.ts DESC, s.sensor DESC, s.metric DESC LIMIT ${Math.trunc(q.limit)}`)
    ).getRows();
    return rows.reverse().map(([sid, ts, value]) => ({ seriesId: Number(sid), ts: Number(ts), value: Number(value) }));
  } finally {
    c.closeSync();
  }
}
