/**
 * Restore (docs/ADMIN.md "Backup and restore"): a backup file taken by `cli backup` becomes the
 * database of an empty data folder, before the hub starts on it. The file is checked first (a
 * DuckDB file, marked as a Roomwatch backup, of a schema this hub reads), copied under a
 * temporary name, brought to this hub's schema (migrations.ts) and renamed into place, so a
 * failed restore leaves the folder empty, never half a store.
 */
import { closeSync, copyFileSync, existsSync, mkdirSync, openSync, readdirSync, readSync, renameSync, rmSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { BACKUP_KEYS } from './backup-sql.ts';
import { openSchema, SchemaTooNewError, storedSchemaVersion } from './migrations.ts';
import { DATABASE_FILE, SCHEMA_VERSION } from './schema.ts';

/** A restore that cannot be done; the message says why and what to do. */
export class RestoreError extends Error {
  override name = 'RestoreError';
}

export interface RestoreResult {
  /** the backup's schema version, and this hub's (a migration when they differ) */
  fromSchema: number;
  toSchema: number;
  takenAt: number;
  /** by table: rows, as the backup counted them */
  tables: Record<string, number>;
}

/** DuckDB's file header: 8 bytes of checksum, then the magic. */
const DUCKDB_MAGIC = Buffer.from('DUCK');

function hasDuckDbMagic(file: string): boolean {
  const fd = openSync(file, 'r');
  try {
    const head = Buffer.alloc(12);
    return readSync(fd, head, 0, 12, 0) === 12 && head.subarray(8, 12).equals(DUCKDB_MAGIC);
  } finally {
    closeSync(fd);
  }
}

function checkEmptyFolder(dataDir: string): void {
  if (!existsSync(dataDir)) return;
  if (!statSync(dataDir).isDirectory()) throw new RestoreError(`--data ${dataDir} is not a folder: restore into a new or empty folder`);
  const entries = readdirSync(dataDir);
  if (entries.length > 0) {
    throw new RestoreError(
      `the data folder ${dataDir} is not empty (it holds ${entries.slice(0, 3).join(', ')}${entries.length > 3 ? ', ...' : ''}): ` +
        'a restore never overwrites a store. Restore into a new folder with --data NEW_DIR, or move this one away first',
    );
  }
}

/** Reads what a backup file holds, or says why it is not one this hub can restore. */
async function inspect(file: string): Promise<Omit<RestoreResult, 'toSchema'>> {
  const notBackup = `${file} is not a Roomwatch backup (make one with "roomwatch backup --out FILE")`;
  if (!hasDuckDbMagic(file)) throw new RestoreError(`${notBackup}: it is not a DuckDB database`);
  let instance: DuckDBInstance;
  try {
    instance = await DuckDBInstance.create(file, { access_mode: 'READ_ONLY' });
  } catch (err) {
    throw new RestoreError(`${notBackup}: ${(err as Error).message}`);
  }
  const c = await instance.connect();
  try {
    const version = await storedSchemaVersion(c).catch(() => null);
    const marks = version === null ? [] : (await c.runAndReadAll(`SELECT key, value FROM meta WHERE key LIKE 'backup_%'`)).getRows();
    const mark = new Map(marks.map(([k, v]) => [String(k), String(v)]));
    const takenAt = mark.get(BACKUP_KEYS.takenAt);
    if (version === null || takenAt === undefined) throw new RestoreError(`${notBackup}: it has no backup marks in its meta table`);
    if (version > SCHEMA_VERSION) throw new SchemaTooNewError(version, `the backup ${file}`);
    return {
      fromSchema: version,
      takenAt: Number(takenAt),
      tables: JSON.parse(mark.get(BACKUP_KEYS.tables) ?? '{}') as Record<string, number>,
    };
  } finally {
    c.closeSync();
    instance.closeSync();
  }
}

/** Makes `file` the store of the empty (or new) folder `dataDir`. */
export async function restoreBackup(file: string, dataDir: string): Promise<RestoreResult> {
  const source = resolve(file);
  if (!existsSync(source) || !statSync(source).isFile()) throw new RestoreError(`the backup ${source} does not exist or is not a file`);
  checkEmptyFolder(dataDir);
  const found = await inspect(source);
  // The folder was checked before the file was read; check again just before writing in it.
  checkEmptyFolder(dataDir);
  mkdirSync(dataDir, { recursive: true, mode: 0o700 });
  const temp = join(dataDir, `.restore-${process.pid}.duckdb`);
  try {
    copyFileSync(source, temp);
    const instance = await DuckDBInstance.create(temp);
    const c = await instance.connect();
    try {
      await openSchema(c, `the backup ${source}`);
      // The copy is now the store, not a backup: the marks would make it look like one.
      await c.run(`DELETE FROM meta WHERE key LIKE 'backup_%'`);
      await c.run('CHECKPOINT');
    } finally {
      c.closeSync();
      instance.closeSync();
    }
    renameSync(temp, join(dataDir, DATABASE_FILE));
  } catch (err) {
    rmSync(temp, { force: true });
    rmSync(`${temp}.wal`, { force: true });
    throw err;
  }
  return { ...found, toSchema: SCHEMA_VERSION };
}
