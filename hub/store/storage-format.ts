/**
 * How a new database file is laid out (store-db.ts passes these when it opens the store; a file
 * keeps the block size it was created with, so an existing store is unchanged).
 *
 * DuckDB writes each checkpoint's segments into blocks, and every table, index and column that
 * a checkpoint rewrites leaves its last block part empty. With DuckDB's default 256 KB blocks
 * that waste was a third of a bench store's file: 3M readings took 44-46 blocks, and the dozen
 * small tables (series, sensors, connections, activity, meta, the rollup tiers), their
 * primary-key indexes and the metadata 23-25 blocks more, 6 MB for a few hundred KB of rows,
 * plus free blocks a later checkpoint could not give back. With 64 KB blocks (and the storage
 * format of DuckDB 1.5, without which small blocks compress far worse) the same content copied
 * by DuckDB takes 3.5 bytes a reading instead of 4.8, measured. Smaller blocks again (16 and
 * 32 KB) cut the segments too short for the compression and took 6.7-9.7.
 */

/** bytes per block of a new database file */
export const BLOCK_SIZE = 65_536;

/**
 * The storage format new checkpoints write. DuckDB older than 1.5 cannot open the file; the hub
 * pins its DuckDB (package.json), and a backup is a database file of the same format.
 */
export const STORAGE_VERSION = 'v1.5.0';

/** DuckDB's settings for the store's instance. */
export const STORAGE_SETTINGS: Record<string, string> = {
  default_block_size: String(BLOCK_SIZE),
  storage_compatibility_version: STORAGE_VERSION,
};
