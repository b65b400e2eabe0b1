/**
 * Where an upload's rows wait, parsed, between its scan and its commit, and its new rows
 * between the commit and their publication: Parquet files beside the spooled body, on disk,
 * never in memory (PROTOCOL.md §2: an upload's memory does not grow with the file).
 *
 * - `<spool>.stage.parquet`: every row of the file in file order (its Parquet row number is
 *   the line order a repeated identity keeps its first row by), with its key columns, the key's
 *   hash, parsed ts and value, and whether the row is bad.
 * - `<spool>.news-<k>.parquet`: the rows window k of the commit stored, in ts order, written
 *   only when a live subscriber listens, read back one window at a time after the commit.
 *
 * The caller of an upload removes them all with its spool file (removeStaged); a killed hub's
 * are removed at the next start with the spool files (same `upload-` prefix).
 */
import { readdir, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';

export function stagePath(spool: string): string {
  return `${spool}.stage.parquet`;
}

export function newsPath(spool: string, window: number): string {
  return `${spool}.news-${window}.parquet`;
}

/** A path as a SQL string literal. */
export function sqlPath(path: string): string {
  return `'${path.replaceAll("'", "''")}'`;
}

/** Removes the stage and news files of the upload spooled at `spool` (not the spool file itself). */
export async function removeStaged(spool: string): Promise<void> {
  const prefix = `${basename(spool)}.`;
  let names: string[];
  try {
    names = await readdir(dirname(spool));
  } catch {
    return;
  }
  await Promise.all(names.filter((n) => n.startsWith(prefix)).map((n) => rm(join(dirname(spool), n), { force: true })));
}
