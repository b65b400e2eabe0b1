/**
 * Reads what the hub stored, straight from its DuckDB file, for tests that must see every
 * stored row (duplicates, all-or-nothing batches, durability after kill -9). Only call it when
 * no hub has the file open: DuckDB allows one process at a time.
 */
import { DuckDBInstance } from '@duckdb/node-api';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { clusterStoredRows } from './cluster-mode.ts';

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

function storedReading(row: Record<string, unknown>): StoredReading {
  return {
    sensor: String(row.sensor),
    room: String(row.room),
    metric: String(row.metric),
    unit: typeof row.unit === 'string' ? row.unit : '',
    ts: Number(row.ts),
    value: Number(row.value),
  };
}

/** Every stored reading (a `readings` row joined to its series), sorted by sensor, metric, ts. */
export async function readStoredReadings(dataDir: string): Promise<StoredReading[]> {
  // ROOMWATCH_TEST_CLUSTER=1: the hub's history is in PostgreSQL (test/support/cluster-mode.ts).
  const clusterRows = await clusterStoredRows(dataDir);
  if (clusterRows) return clusterRows.map(storedReading);
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
      return reader.getRowObjects().map(storedReading);
    } finally {
      connection.closeSync();
    }
  } finally {
    instance.closeSync();
  }
}
