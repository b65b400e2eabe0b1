/**
 * One transaction on a connection: BEGIN, the work, COMMIT; ROLLBACK if anything fails. Shared
 * by the store's background steps (compaction, rollups, retention), each one short transaction
 * between commits.
 */
import type { DuckDBConnection } from '@duckdb/node-api';

/** Runs `work` in a transaction of `c`; `cleanup` (temp tables) runs after, whatever happened. */
export async function inTransaction<T>(c: DuckDBConnection, work: () => Promise<T>, cleanup?: () => Promise<unknown>): Promise<T> {
  await c.run('BEGIN TRANSACTION');
  try {
    const result = await work();
    await c.run('COMMIT');
    return result;
  } catch (err) {
    await c.run('ROLLBACK').catch(() => {});
    throw err;
  } finally {
    await cleanup?.().catch(() => {});
  }
}
