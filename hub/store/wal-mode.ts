/**
 * The database's WAL is as private as the database (docs/ADMIN.md "The data folder"). DuckDB
 * creates `roomwatch.duckdb.wal` at the first write after an open or a checkpoint (which deletes
 * it), with the process umask. The hub process sets umask 077 (hub/main.ts); a hub started
 * in-process has whatever umask its host has, so the store worker takes group and other bits off
 * the WAL after each write of its queue. A stat costs microseconds, next to a commit's milliseconds.
 */
import { chmodSync, lstatSync } from 'node:fs';
import { PRIVATE_FILE_MODE } from '../setup/data-folder.ts';

/** Makes `databasePath`'s WAL 0600 if it exists, is ours and is readable by others; never throws. */
export function keepWalPrivate(databasePath: string): void {
  try {
    const wal = `${databasePath}.wal`;
    const info = lstatSync(wal, { throwIfNoEntry: false });
    if (!info || !info.isFile() || (info.mode & 0o077) === 0) return;
    if (process.getuid !== undefined && info.uid !== process.getuid()) return; // not ours: start warns about it
    chmodSync(wal, PRIVATE_FILE_MODE);
  } catch {
    // Deleted meanwhile by a checkpoint, or a folder that went away: the next write looks again.
  }
}
