/**
 * The store worker's database (store-worker.ts): the one DuckDB instance, the connection every
 * write runs on, and the commit path's appenders. DuckDB invalidates a database after a fatal
 * error (a full disk mid-write): the handle is then reopened before the next write.
 */
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { DuckDBInstance, type DuckDBAppender, type DuckDBConnection } from '@duckdb/node-api';
import type { StoreConfig } from './store-messages.ts';
import { STORAGE_SETTINGS } from './storage-format.ts';

/** Whether DuckDB's error means the database is invalidated (reopen before the next write). */
export function isFatal(err: unknown): boolean {
  return /FATAL|invalidated/i.test(String((err as Error | null)?.message ?? err));
}

export class StoreDb {
  instance: DuckDBInstance | null = null;
  /** the configuration it was opened with (the reopen uses it again) */
  config: StoreConfig | null = null;
  /** set after a fatal error: reopen() before the next write */
  needsReopen = false;
  private db: DuckDBConnection | null = null;
  private readings: DuckDBAppender | null = null;
  private incoming: DuckDBAppender | null = null;

  /** The write connection; throws before open. */
  conn(): DuckDBConnection {
    if (!this.db) throw new Error('store is not open');
    return this.db;
  }

  get readingsAppender(): DuckDBAppender {
    if (!this.readings) throw new Error('store is not open');
    return this.readings;
  }

  get incomingAppender(): DuckDBAppender {
    if (!this.incoming) throw new Error('store is not open');
    return this.incoming;
  }

  get isOpen(): boolean {
    return this.db !== null;
  }

  /** Opens the database file; says who holds it when another process does. */
  async connect(config: StoreConfig): Promise<DuckDBConnection> {
    this.config = config;
    return this.connectTo(config).catch((err: unknown) => {
      throw explainOpenFailure(err, config.path);
    });
  }

  /** The commit path's temp table and appenders, on a connection whose tables exist. */
  async prepare(): Promise<void> {
    const c = this.conn();
    await c.run('CREATE TEMP TABLE incoming (ord INTEGER, series_id INTEGER, ts BIGINT, value DOUBLE)');
    await this.newAppenders();
  }

  /** Closes an invalidated database and opens it again (DuckDB replays its WAL). */
  async reopen(): Promise<void> {
    try {
      this.db?.closeSync();
      this.instance?.closeSync();
    } catch {
      // it was invalid: closing may fail too
    }
    this.db = null;
    this.instance = null;
    await this.connectTo(this.config!);
    await this.prepare();
    this.needsReopen = false;
  }

  /** After a rolled-back commit: an appender that failed mid-flush holds its rows; start afresh. */
  async resetAppenders(): Promise<void> {
    try {
      await this.conn().run('DELETE FROM incoming');
      await this.newAppenders();
    } catch {
      this.needsReopen = true;
    }
  }

  /** Checkpoints (when it can) and closes, releasing the file. */
  async close(): Promise<void> {
    if (!this.db) return;
    try {
      this.readings?.closeSync();
      this.incoming?.closeSync();
      await this.db.run('CHECKPOINT');
    } catch {
      // An invalidated database (a full disk) cannot checkpoint; its WAL holds what was committed,
      // and the next open replays it. Closing must still release the file.
    }
    this.db.closeSync();
    this.instance?.closeSync();
    this.db = null;
    this.instance = null;
  }

  private async newAppenders(): Promise<void> {
    const c = this.conn();
    this.readings = await c.createAppender('readings');
    this.incoming = await c.createAppender('incoming', 'main', 'temp');
  }

  private async connectTo(config: StoreConfig): Promise<DuckDBConnection> {
    mkdirSync(config.tempDir, { recursive: true });
    this.instance = await DuckDBInstance.create(config.path, {
      memory_limit: config.memoryLimit,
      threads: String(config.threads),
      temp_directory: config.tempDir,
      // Nothing may be downloaded at run time; the built-in extensions are all there is.
      autoinstall_known_extensions: 'false',
      autoload_known_extensions: 'false',
      ...STORAGE_SETTINGS,
    });
    this.db = await this.instance.connect();
    return this.db;
  }
}

/**
 * DuckDB lets one process at a time open a database file for writing, and says so in its own
 * words ("Could not set lock on file ...: Conflicting lock is held in /usr/bin/node (PID 6869)").
 * Said for people: which folder, who holds it, and what to do.
 */
function explainOpenFailure(err: unknown, databasePath: string): unknown {
  const message = err instanceof Error ? err.message : String(err);
  if (!/Could not set lock on file|Conflicting lock/i.test(message)) return err;
  const holder = /Conflicting lock is held in (.+?) \(PID (\d+)\)/.exec(message);
  const who = holder ? `process ${holder[2]} (${holder[1]})` : 'another process';
  return new Error(
    `the data folder ${dirname(databasePath)} is in use by ${who}, most likely another hub: ` +
      'stop that hub first, or start this one on a folder of its own with --data DIR',
  );
}
