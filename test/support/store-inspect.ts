/**
 * Reads what the hub stored, straight from its DuckDB file, for tests that must see every
 * stored row (duplicates, all-or-nothing batches, durability after kill -9). Only call it when
 * no hub has the file open: DuckDB allows one process at a time.
 */
import { DuckDBInstance } from '@duckdb/node-api';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

export interface StoredReading {
  sensor: string;
  room: string;
  metric: string;
  unit: string;
  ts: number;
  value: number;
}

export function storePath(dataDir: string): string {
  return join(dataDir, 'roomwatch.duckdb');
}

/** Every stored reading (a `readings` row joined to its series), sorted by sensor, metric, ts. */
export async function readStoredReadings(dataDir: string): Promise<StoredReading[]> {
  const path = storePath(dataDir);
  if (!existsSync(path)) throw new Error(`no store at ${path}`);
  const instance = await DuckDBInstance.create(path);
  try {
    const connection = await instance.connect();
    try {
      const reader = await connection.runAndReadAll(
        `SELECT s.sensor, s.room, s.metric, s.unit, r.ts, r.value
           FROM readings r JOIN series s ON s.id = r.series_id
          ORDER BY s.sensor, s.metric, r.ts, r.value`,
      );
      return reader.getRowObjects().map((row) => ({
        sensor: String(row.sensor),
        room: String(row.room),
        metric: String(row.metric),
        unit: row.unit === null ? '' : String(row.unit),
        ts: Number(row.ts as bigint),
        value: Number(row.value),
      }));
    } finally {
      connection.closeSync();
    }
  } finally {
    instance.closeSync();
  }
}
