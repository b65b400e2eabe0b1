/**
 * The group commit's transaction in the store worker: new series, the rows (those the main
 * thread knows to be new appended as they are, the others only where their identity is not
 * stored yet), late marks for the rollups, sensor and connection rows, in one transaction.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { appendColumns, appendIncoming, groupBySeries } from './column-chunks.ts';
import { recordConnections, upsertSensors } from './sensor-rows-sql.ts';
import { noteCommitted } from '../upload/upload-watch.ts';
import type { FaultInjector } from './store-faults.ts';
import type { RollupRunner } from './rollup-runner.ts';
import { isFatal, type StoreDb } from './store-db.ts';
import type { Columns, CommitRequest, CommitResult, SeriesDef } from './store-messages.ts';

export interface CommitDeps {
  db: StoreDb;
  rollups: RollupRunner | null;
  faults: FaultInjector | null;
}

export async function commit(deps: CommitDeps, req: CommitRequest): Promise<CommitResult> {
  const { db, rollups, faults } = deps;
  if (db.needsReopen) await db.reopen();
  const c = db.conn();
  const started = performance.now();
  const storedMask = new Uint8Array(req.maybeDuplicate.n);
  let inserted = 0;
  let freshStoredMask: Uint8Array | null = null;
  let freshInserted = req.fresh.n;
  // Readings older than the retention horizon are not stored: their raw data may be gone, so
  // whether they repeat a stored identity cannot be told (docs/API.md "Retention").
  const horizon = rollups?.horizon() ?? null;
  const expired = horizon === null ? 0 : countBelow(horizon, req.fresh) + countBelow(horizon, req.maybeDuplicate);
  let lateMarks = 0;
  await c.run('BEGIN TRANSACTION');
  try {
    await insertSeries(c, req.newSeries);
    if (req.fresh.n > 0 && (req.recheckFresh || (expired > 0 && countBelow(horizon!, req.fresh) > 0))) {
      freshStoredMask = new Uint8Array(req.fresh.n);
      freshInserted = await insertAbsent(db, req.fresh, freshStoredMask, horizon);
    } else if (req.fresh.n > 0) {
      appendColumns(db.readingsAppender, groupBySeries(req.fresh));
      db.readingsAppender.flushSync();
    }
    if (req.maybeDuplicate.n > 0) inserted = await insertAbsent(db, req.maybeDuplicate, storedMask, horizon);
    if (rollups)
      lateMarks = (await rollups.markLate(c, req.fresh, freshStoredMask)) + (await rollups.markLate(c, req.maybeDuplicate, storedMask));
    if (req.sensors.length > 0) await upsertSensors(c, req.sensors);
    if (req.connections.length > 0) await recordConnections(c, req.connections);
    await faults?.beforeCommit(req);
    await c.run('COMMIT');
    rollups?.lateMarked(lateMarks);
    rollups?.noteExpired(expired);
    // An upload whose transaction is open must give up what this commit stored (upload-watch.ts).
    noteCommitted(req.newSeries, req.fresh, freshStoredMask);
    noteCommitted([], req.maybeDuplicate, storedMask);
  } catch (err) {
    await c.run('ROLLBACK').catch(() => {});
    await db.resetAppenders();
    if (isFatal(err)) db.needsReopen = true;
    throw err;
  }
  return {
    gen: req.gen,
    inserted,
    duplicates: req.maybeDuplicate.n - inserted,
    storedMask,
    freshStoredMask,
    freshInserted,
    flushMs: performance.now() - started,
    fresh: req.fresh,
    maybeDuplicate: req.maybeDuplicate,
  };
}

/**
 * Idempotent: a definition never changes once it has an id, and one whose commit was split or
 * retried may come again.
 */
export async function insertSeries(c: DuckDBConnection, defs: SeriesDef[]): Promise<void> {
  if (defs.length === 0) return;
  await c.run('CREATE OR REPLACE TEMP TABLE series_in AS SELECT * FROM series LIMIT 0');
  const a = await c.createAppender('series_in', 'main', 'temp');
  for (const d of defs) {
    a.appendInteger(d.id);
    a.appendInteger(d.channel);
    a.appendVarchar(d.sensor);
    a.appendVarchar(d.room);
    a.appendVarchar(d.metric);
    a.appendVarchar(d.unit);
    a.endRow();
  }
  a.closeSync();
  await c.run('INSERT OR IGNORE INTO series SELECT * FROM series_in');
}

/**
 * Stores the rows whose (sensor, metric, ts) is not stored yet, the first of any repeats
 * within the rows themselves. Marks the stored ones in `storedMask`.
 */
async function insertAbsent(db: StoreDb, rows: Columns, storedMask: Uint8Array, horizon: number | null): Promise<number> {
  const c = db.conn();
  appendIncoming(db.incomingAppender, rows);
  db.incomingAppender.flushSync();
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < rows.n; i++) {
    const t = rows.ts[i]!;
    if (t < lo) lo = t;
    if (t > hi) hi = t;
  }
  // The ts bounds let DuckDB skip row groups by their min/max, so this does not scan all history.
  await c.run(`CREATE OR REPLACE TEMP TABLE keep AS
    SELECT i.ord FROM incoming i JOIN series s ON s.id = i.series_id
    WHERE NOT EXISTS (
      SELECT 1 FROM readings r JOIN series s2 ON s2.id = r.series_id
      WHERE r.ts BETWEEN ${lo} AND ${hi} AND r.ts = i.ts AND s2.channel = s.channel)${horizon === null ? '' : ` AND i.ts >= ${horizon}`}
    QUALIFY row_number() OVER (PARTITION BY s.channel, i.ts ORDER BY i.ord) = 1`);
  await c.run('INSERT INTO readings SELECT i.series_id, i.ts, i.value FROM incoming i SEMI JOIN keep k ON i.ord = k.ord ORDER BY i.ord');
  const kept = (await c.runAndReadAll('SELECT ord FROM keep')).getColumns()[0] ?? [];
  for (const ord of kept) storedMask[Number(ord)] = 1;
  await c.run('DELETE FROM incoming');
  return kept.length;
}

/** How many of the rows have a ts below `ms`. */
function countBelow(ms: number, rows: Columns): number {
  let n = 0;
  for (let i = 0; i < rows.n; i++) if (rows.ts[i]! < ms) n++;
  return n;
}
