/**
 * The store's schema version (docs/ADMIN.md "Upgrades"): kept in `meta` under `schema_version`,
 * checked every time the store opens. An older store is brought up to SCHEMA_VERSION by the steps
 * below, all in one transaction (a failed upgrade leaves the folder as the old hub left it); a
 * newer one is refused, since this hub would not know what its new tables mean.
 *
 * To change the schema: raise SCHEMA_VERSION in schema.ts and add the step that takes a store of
 * the version before to it. New tables need no step of their own (the DDL creates what is missing
 * in the same transaction); a step is for what the DDL cannot do: new columns, rewritten data.
 */
import type { DuckDBConnection } from '@duckdb/node-api';
import { DDL, SCHEMA_VERSION } from './schema.ts';

export interface MigrationStep {
  /** the version this step brings a store to, from the one before */
  to: number;
  /** what it does, for the log */
  what: string;
  run(c: DuckDBConnection): Promise<void>;
}

/** In order: step i takes version `to - 1` to `to`. */
export const MIGRATIONS: readonly MigrationStep[] = [
  {
    to: 2,
    what: 'series get their channel (one number per sensor and metric); alert tables',
    async run(c) {
      // The first hubs wrote schema 1 without the channel column (the later ones with it). The
      // table is rebuilt, not altered, so its columns keep the order the commit path appends in.
      if (await hasColumn(c, 'series', 'channel')) return;
      await c.run('ALTER TABLE series RENAME TO series_v1');
      await c.run(`CREATE TABLE series (
          id INTEGER PRIMARY KEY,
          channel INTEGER NOT NULL,
          sensor VARCHAR NOT NULL,
          room VARCHAR NOT NULL,
          metric VARCHAR NOT NULL,
          unit VARCHAR NOT NULL)`);
      await c.run(`INSERT INTO series
          SELECT id, dense_rank() OVER (ORDER BY sensor, metric)::INTEGER, sensor, room, metric, unit FROM series_v1`);
      await c.run('DROP TABLE series_v1');
    },
  },
  {
    to: 3,
    what: 'rollup tiers and retention: the rollups of the stored readings are computed in the background after open',
    // New tables only (the DDL makes them). A hub of schema 2 must not open a store of 3: it
    // would store late readings without marking their rollups to recompute.
    async run() {},
  },
];

/** A store written by a newer Roomwatch than this one. */
export class SchemaTooNewError extends Error {
  constructor(
    readonly found: number,
    where: string,
  ) {
    super(
      `${where} holds a store of schema version ${found}, written by a newer Roomwatch; this hub reads schema versions up to ` +
        `${SCHEMA_VERSION}: upgrade the hub (docs/ADMIN.md "Upgrades"), or start this one on another data folder with --data DIR`,
    );
    this.name = 'SchemaTooNewError';
  }
}

export interface SchemaOpened {
  /** the version found, null for a new store */
  from: number | null;
  to: number;
}

async function hasColumn(c: DuckDBConnection, table: string, column: string): Promise<boolean> {
  const rows = await c.runAndReadAll(
    `SELECT 1 FROM information_schema.columns WHERE table_catalog = current_database() AND table_schema = 'main'
       AND table_name = '${table}' AND column_name = '${column}'`,
  );
  return rows.getRows().length > 0;
}

async function hasTable(c: DuckDBConnection, table: string): Promise<boolean> {
  const rows = await c.runAndReadAll(
    `SELECT 1 FROM information_schema.tables WHERE table_catalog = current_database() AND table_schema = 'main' AND table_name = '${table}'`,
  );
  return rows.getRows().length > 0;
}

/**
 * The schema version stored in the database of `c` (its current database), or null when it has
 * no tables yet. A store with tables and no version predates the version row: the first schema.
 */
export async function storedSchemaVersion(c: DuckDBConnection): Promise<number | null> {
  if (!(await hasTable(c, 'meta'))) return (await hasTable(c, 'series')) ? 1 : null;
  const rows = (await c.runAndReadAll(`SELECT value FROM meta WHERE key = 'schema_version'`)).getRows();
  if (rows.length === 0) return (await hasTable(c, 'series')) ? 1 : null;
  const version = Number(rows[0]![0]);
  if (!Number.isInteger(version) || version < 1)
    throw new Error(`the store's schema_version "${String(rows[0]![0])}" is not a version number`);
  return version;
}

/**
 * Brings the store of `c` to SCHEMA_VERSION, or refuses it (SchemaTooNewError). `where` names the
 * store in messages (the data folder, a backup file).
 */
export async function openSchema(c: DuckDBConnection, where: string): Promise<SchemaOpened> {
  const from = await storedSchemaVersion(c);
  if (from !== null && from > SCHEMA_VERSION) throw new SchemaTooNewError(from, where);
  if (from === SCHEMA_VERSION) {
    // Same version: the DDL only makes sure every table exists (all IF NOT EXISTS).
    for (const sql of DDL) await c.run(sql);
    return { from, to: SCHEMA_VERSION };
  }
  await c.run('BEGIN TRANSACTION');
  try {
    if (from !== null) for (const step of MIGRATIONS) if (step.to > from && step.to <= SCHEMA_VERSION) await step.run(c);
    for (const sql of DDL) await c.run(sql);
    await c.run(`INSERT OR REPLACE INTO meta VALUES ('schema_version', '${SCHEMA_VERSION}')`);
    await c.run('COMMIT');
  } catch (err) {
    await c.run('ROLLBACK').catch(() => {});
    throw new Error(`could not migrate ${where} from schema ${from} to ${SCHEMA_VERSION}, left as it was: ${(err as Error).message}`, {
      cause: err,
    });
  }
  return { from, to: SCHEMA_VERSION };
}
