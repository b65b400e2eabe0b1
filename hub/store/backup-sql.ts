/**
 * A backup of a running store (docs/ADMIN.md "Backup and restore"): a DuckDB file holding every
 * table of the store as of one snapshot, plus `meta` rows that mark it as a backup. It runs on a
 * connection of its own beside the commit queue: DuckDB's MVCC lets commits go on while the
 * backup's read transaction copies what was committed when it began, so ingest is not stopped.
 */
import { rmSync } from 'node:fs';
import type { DuckDBConnection, DuckDBInstance } from '@duckdb/node-api';
import { SCHEMA_VERSION } from './schema.ts';

/** `meta` keys a backup carries beside `schema_version`. */
export const BACKUP_KEYS = {
  takenAt: 'backup_taken_at',
  tables: 'backup_tables',
} as const;

export interface BackupSummary {
  /** the schema version of the copied store */
  schemaVersion: number;
  /** when the snapshot was taken (ms, the hub clock) */
  takenAt: number;
  /** by table name: rows copied */
  tables: Record<string, number>;
  bytes: number;
}

/** The alias the backup file is attached under; not a name a store table could have. */
const ALIAS = 'roomwatch_backup';

function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

function quoteText(text: string): string {
  return `'${text.replaceAll("'", "''")}'`;
}

/**
 * Copies every table of the store (whatever tables exist, not a list) into a new DuckDB file at
 * `path`, from one read transaction. `takenAt` is `now()` when the snapshot was taken.
 */
export async function takeBackup(
  instance: DuckDBInstance,
  path: string,
  now: () => number = Date.now,
): Promise<Omit<BackupSummary, 'bytes'>> {
  rmSync(path, { force: true });
  rmSync(`${path}.wal`, { force: true });
  const c = await instance.connect();
  let attached = false;
  try {
    const database = String((await c.runAndReadAll('SELECT current_database()')).getRows()[0]![0]);
    await c.run(`ATTACH ${quoteText(path)} AS ${ALIAS}`);
    attached = true;
    await c.run('BEGIN TRANSACTION');
    // The snapshot is fixed by the transaction's first read: everything below sees the same store.
    const takenAt = now();
    const tables = await countTables(c, database);
    await c.run(`COPY FROM DATABASE ${quoteIdent(database)} TO ${ALIAS}`);
    await c.run(`INSERT OR REPLACE INTO ${ALIAS}.meta VALUES
      (${quoteText(BACKUP_KEYS.takenAt)}, ${quoteText(String(takenAt))}),
      (${quoteText(BACKUP_KEYS.tables)}, ${quoteText(JSON.stringify(tables))})`);
    const version = (await c.runAndReadAll(`SELECT value FROM ${ALIAS}.meta WHERE key = 'schema_version'`)).getRows()[0]?.[0];
    await c.run('COMMIT');
    // A whole file, with no WAL beside it: the file is all the client gets.
    await c.run(`CHECKPOINT ${ALIAS}`);
    await c.run(`DETACH ${ALIAS}`);
    attached = false;
    return { schemaVersion: Number(version ?? SCHEMA_VERSION), takenAt, tables };
  } catch (err) {
    await c.run('ROLLBACK').catch(() => {});
    if (attached) await c.run(`DETACH ${ALIAS}`).catch(() => {});
    rmSync(path, { force: true });
    rmSync(`${path}.wal`, { force: true });
    throw err;
  } finally {
    c.closeSync();
  }
}

/** Rows per table of `database`, in the transaction under way (so as of its snapshot). */
async function countTables(c: DuckDBConnection, database: string): Promise<Record<string, number>> {
  const names = (
    await c.runAndReadAll(
      `SELECT table_name FROM information_schema.tables
        WHERE table_catalog = ${quoteText(database)} AND table_schema = 'main' AND table_type = 'BASE TABLE' ORDER BY table_name`,
    )
  )
    .getRows()
    .map((r) => String(r[0]));
  const counts: Record<string, number> = Object.create(null) as Record<string, number>;
  if (names.length === 0) return counts;
  const sql = names.map((n) => `SELECT ${quoteText(n)}, count(*) FROM ${quoteIdent(database)}.main.${quoteIdent(n)}`).join(' UNION ALL ');
  for (const [name, n] of (await c.runAndReadAll(sql)).getRows()) counts[String(name)] = Number(n);
  return counts;
}
