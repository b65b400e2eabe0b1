/**
 * Where an upload's rows wait, parsed, between its scan and its commit: one table per upload
 * in an in-memory database attached to the store (`upload_stage`; DuckDB spills it to its temp
 * folder past the memory limit). The scan fills it on its own connection, beside the sensor
 * commits; the commit, in the store's queue, then reads no CSV. Attached databases are shared
 * by all connections of the instance; a transaction may write to only one of them, so the
 * stage is dropped after the commit's transaction (dropStage), and a stage whose upload ended
 * without a commit (refused after its scan, or failed) is dropped by the next scan: its spool
 * file is gone by then. A restart starts with none.
 */
import { existsSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { DuckDBConnection } from '@duckdb/node-api';

const STAGE_DB = 'upload_stage';

/** The stage's table for the spool file at `path` (upload-<pid>-<n>.csv: the name maps back). */
function tableName(path: string): string {
  return basename(path, '.csv').replace(/[^A-Za-z0-9]/g, '_');
}

export function stageTable(path: string): string {
  return `${STAGE_DB}."${tableName(path)}"`;
}

/** Attaches the stage if need be, and drops the tables of uploads whose spool file is gone. */
export async function openStage(c: DuckDBConnection, path: string): Promise<void> {
  await c.run(`ATTACH IF NOT EXISTS ':memory:' AS ${STAGE_DB}`);
  const tables = (await c.runAndReadAll(`SELECT table_name FROM duckdb_tables() WHERE database_name = '${STAGE_DB}'`)).getRows();
  for (const [name] of tables) {
    const file = join(dirname(path), `${String(name).replaceAll('_', '-')}.csv`);
    if (existsSync(file)) continue;
    // Another scan may drop it at the same moment: whichever is second has nothing to do.
    await c.run(`DROP TABLE IF EXISTS ${STAGE_DB}."${String(name)}"`).catch(() => {});
  }
}

/** After the commit (or its rollback), outside its transaction. */
export async function dropStage(c: DuckDBConnection, path: string): Promise<void> {
  await c.run(`DROP TABLE IF EXISTS ${stageTable(path)}`);
}
