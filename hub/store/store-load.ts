/**
 * What the main thread needs from the store at open (store-worker.ts): every series, each
 * series' newest reading, the sensors, the connection ids used, the access records. A hub
 * that died left connections open in the history: they are closed first.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { loadSeries } from './read-queries.ts';
import { loadAccess } from './access-sql.ts';
import type { LoadedState, SensorRow } from './store-messages.ts';

/** The state at open, on the write connection (the schema is current, the rollups opened). */
export async function loadState(db: DuckDBConnection, now: number): Promise<Omit<LoadedState, 'schema'>> {
  // A hub that died left connections open in the history: close them at the sensor's last sighting.
  await db.run(`UPDATE connections SET disconnected_at = coalesce(
      (SELECT last_seen FROM sensors WHERE sensors.sensor = connections.sensor), connected_at)
    WHERE disconnected_at IS NULL`);

  const series = await loadSeries(db);
  const newestRows = (
    await db.runAndReadAll('SELECT series_id, max(ts) AS ts, arg_max(value, ts) AS value, count(*) AS n FROM readings GROUP BY series_id')
  ).getRows();
  let readingCount = 0;
  const newest = newestRows.map(([seriesId, ts, value, n]) => {
    readingCount += Number(n);
    return { seriesId: Number(seriesId), ts: Number(ts), value: Number(value) };
  });
  const sensors = (await db.runAndReadAll('SELECT sensor, room, first_seen, last_seen, address, declared_metrics FROM sensors'))
    .getRows()
    .map(([sensor, room, firstSeen, lastSeen, address, declared]): SensorRow => ({
      sensor: String(sensor),
      room: String(room),
      firstSeen: Number(firstSeen),
      lastSeen: Number(lastSeen),
      address: address === null ? null : String(address),
      declaredMetrics: JSON.parse(String(declared)) as Record<string, string>,
    }));
  const maxConn = (await db.runAndReadAll('SELECT coalesce(max(id), 0) FROM connections')).getRows()[0]?.[0];
  return {
    series,
    newest,
    sensors,
    maxConnectionId: Number(maxConn ?? 0),
    readingCount,
    access: await loadAccess(db, now),
  };
}
