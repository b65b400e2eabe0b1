/**
 * writer_counts (pg-schema.ts): what each writer, and uploads under the name `uploads`, inserted
 * and found stored already, moved in the same transaction as the rows, so the sums are exact
 * after any crash. Their `inserted` sum is the number of readings (nothing else inserts any).
 */
import type pg from 'pg';

export const UPLOADS_COUNTER = 'uploads';

export async function addCounts(
  c: pg.ClientBase,
  writer: string,
  n: { batches: number; bundles: number; inserted: number; duplicates: number },
): Promise<void> {
  await c.query(
    `INSERT INTO writer_counts VALUES ($1, $2, $3, $4, $5, $6)
     ON CONFLICT (writer) DO UPDATE SET batches = writer_counts.batches + excluded.batches, bundles = writer_counts.bundles + excluded.bundles,
       inserted = writer_counts.inserted + excluded.inserted, duplicates = writer_counts.duplicates + excluded.duplicates,
       updated_at = excluded.updated_at`,
    [writer, n.batches, n.bundles, n.inserted, n.duplicates, Date.now()],
  );
}
