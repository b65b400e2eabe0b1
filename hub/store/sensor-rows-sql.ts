/**
 * The commit path's sensor and connection rows (store-worker.ts): the sensors seen and the
 * connections opened and closed since the last commit, in the commit's transaction.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import type { ConnectionEvent, SensorRow } from './store-messages.ts';

// One statement per commit, not one per row: a fleet of 1,000 connecting at once is 1,000 rows.
// Rows whose last_seen alone moved are an UPDATE of that column: INSERT OR REPLACE deletes and
// reinserts through the primary key (10,000 rows: 30-170 ms; the update: 7-30 ms).
export async function upsertSensors(c: DuckDBConnection, rows: SensorRow[]): Promise<void> {
  const whole = rows.filter((r) => !r.lastSeenOnly);
  if (whole.length < rows.length) await updateLastSeen(c, rows);
  if (whole.length === 0) return;
  await c.run('CREATE OR REPLACE TEMP TABLE sensors_in AS SELECT * FROM sensors LIMIT 0');
  const a = await c.createAppender('sensors_in', 'main', 'temp');
  for (const r of whole) {
    a.appendVarchar(r.sensor);
    a.appendVarchar(r.room);
    a.appendBigInt(BigInt(r.firstSeen));
    a.appendBigInt(BigInt(r.lastSeen));
    if (r.address === null) a.appendNull();
    else a.appendVarchar(r.address);
    a.appendVarchar(JSON.stringify(r.declaredMetrics));
    a.endRow();
  }
  a.closeSync();
  await c.run('INSERT OR REPLACE INTO sensors SELECT * FROM sensors_in');
}

async function updateLastSeen(c: DuckDBConnection, rows: SensorRow[]): Promise<void> {
  await c.run('CREATE OR REPLACE TEMP TABLE seen_in (sensor VARCHAR, last_seen BIGINT)');
  const a = await c.createAppender('seen_in', 'main', 'temp');
  for (const r of rows) {
    if (!r.lastSeenOnly) continue;
    a.appendVarchar(r.sensor);
    a.appendBigInt(BigInt(r.lastSeen));
    a.endRow();
  }
  a.closeSync();
  await c.run('UPDATE sensors SET last_seen = seen_in.last_seen FROM seen_in WHERE sensors.sensor = seen_in.sensor');
}

export async function recordConnections(c: DuckDBConnection, events: ConnectionEvent[]): Promise<void> {
  const connects = events.filter((e) => e.kind === 'connect');
  if (connects.length > 0) {
    const a = await c.createAppender('connections');
    for (const e of connects) {
      a.appendBigInt(BigInt(e.id));
      a.appendVarchar(e.sensor);
      a.appendVarchar(e.address);
      a.appendBigInt(BigInt(e.at));
      a.appendNull();
      a.endRow();
    }
    a.closeSync();
  }
  const disconnects = events.filter((e) => e.kind === 'disconnect');
  if (disconnects.length > 0) {
    await c.run('CREATE OR REPLACE TEMP TABLE ended (id BIGINT, ended_at BIGINT)');
    const a = await c.createAppender('ended', 'main', 'temp');
    for (const e of disconnects) {
      a.appendBigInt(BigInt(e.id));
      a.appendBigInt(BigInt(e.at));
      a.endRow();
    }
    a.closeSync();
    await c.run('UPDATE connections SET disconnected_at = ended.ended_at FROM ended WHERE connections.id = ended.id');
  }
}
