/**
 * The store of a hub in cluster mode: commits go to JetStream (`publish`: the hub side's
 * CommitPublisher; writers move them to PostgreSQL), everything else to PostgreSQL: the state
 * at open, exports (after the writers have passed the request's stream position), stream
 * replays, uploads, access, activity, alerts and sensor connections. Backups are PostgreSQL's
 * (pg_dump). Retention drops whole day partitions (pg-retention.ts); readings past its horizon
 * are acked and not stored (expired-rows.ts), as on the single hub.
 *
 * Series ids: PostgreSQL numbers series its own way (pg-schema.ts); what this store answers in
 * series ids (open's state, recent, an upload's newest rows) is in the hub catalog's ids.
 */
import type pg from 'pg';
import { HubError } from '../hub-error.ts';
import type { AccessChange, AccessState, ActivityQuery, ActivityRow } from '../access/access-records.ts';
import type { HistoryQuery } from '../history/history-query.ts';
import type { AlertCall } from '../store/alert-sql.ts';
import { StoreError, type ExportHandle, type HubStore } from '../store/hub-store.ts';
import type {
  Columns,
  CommitRequest,
  CommitResult,
  LoadedState,
  RecentQuery,
  RetentionStatus,
  SeriesDef,
} from '../store/store-messages.ts';
import type { RetentionConfig } from '../store/rollup-tiers.ts';
import type { UploadCommitRequest } from '../upload/upload-commit.ts';
import { scanUpload, type ScanResult, type UploadCommitResult, type UploadFile } from '../upload/upload-sql.ts';
import { appendActivity, loadAccess, queryActivity, writeAccess } from './pg-access.ts';
import { alertCall } from './pg-alerts.ts';
import { ConnectionLog } from './pg-connections.ts';
import { commitWithin } from './expired-rows.ts';
import { PgRetention } from './pg-retention.ts';
import { pgExport } from './pg-export.ts';
import { ACCESS_CHANNEL, ALERT_RULES_CHANNEL, type PgHistory } from './pg-history.ts';
import { pgCommitUpload, readPgNews } from './pg-upload.ts';
import { Partitions } from './partitions.ts';
import { SeriesResolver } from './pg-series.ts';
import { loadState, recentRows } from './pg-reads.ts';
import { UploadDuck } from './upload-duck.ts';

/** Where the writers are: C1's NatsLink. */
export interface StreamPosition {
  streamLastSeq(): Promise<number>;
  writersAckFloor(): Promise<number>;
}

export interface ClusterStoreOptions {
  history: PgHistory;
  /** a commit, published to JetStream; resolves once every bundle is acked by the stream */
  publish: (req: CommitRequest) => Promise<CommitResult>;
  position: StreamPosition;
  hubId: string;
  now: () => number;
  /** the hub's catalog: upload mappings and answers in series ids are in its ids */
  catalog: {
    readonly series: readonly (SeriesDef | undefined)[];
    seriesId(sensor: string, room: string, metric: string, unit: string): number;
  };
  /** the upload reader's spill folder and threads (upload-reader.ts) */
  tempDir: string;
  threads: number;
  /** how long an export waits for the writers before it answers 503 */
  exportWaitMs?: number;
  /** where open() says it started before the writers caught up */
  warn?: (fields: Record<string, unknown>, message: string) => void;
  /** raw retention and rollup tiers (rollup-tiers.ts; pg-retention.ts, pg-rollups.ts); default none */
  retention?: RetentionConfig;
  /** how often retention looks for days to drop (pg-retention.ts) */
  retentionRoundMs?: number;
}

export const EXPORT_WAIT_MS = 10_000;
const POSITION_POLL_MS = 50;

export class ClusterStore implements HubStore {
  readonly compaction = null;
  private readonly series = new SeriesResolver();
  private readonly partitions = new Partitions();
  private readonly uploadReader: UploadDuck;
  /** raw retention: its horizon, the duty of dropping days, the mark (pg-retention.ts) */
  readonly keeper: PgRetention;
  readonly connections: ConnectionLog;

  constructor(private readonly o: ClusterStoreOptions) {
    this.uploadReader = new UploadDuck(o.tempDir, o.threads);
    this.keeper = new PgRetention({
      pool: o.history.pool,
      url: o.history.url,
      config: o.retention ?? { retentionMs: null, tiers: [] },
      now: o.now,
      roundMs: o.retentionRoundMs,
      warn: o.warn,
    });
    this.connections = new ConnectionLog(o.history.pool, o.hubId, o.warn);
  }

  /** What retention does (health, /metrics, the export headers); null where there is none. */
  get retention(): RetentionStatus | null {
    return this.keeper.status;
  }

  private get pool(): pg.Pool {
    return this.o.history.pool;
  }

  /** Runs `work` on a pooled connection; PostgreSQL's failures are the store's (503), not the request's. */
  private async withClient<T>(work: (c: pg.PoolClient) => Promise<T>): Promise<T> {
    let c: pg.PoolClient;
    try {
      c = await this.pool.connect();
    } catch (err) {
      throw new StoreError(`PostgreSQL is unavailable: ${(err as Error).message}`, true);
    }
    try {
      return await work(c);
    } catch (err) {
      throw storeErrorOf(err);
    } finally {
      c.release();
    }
  }

  async open(): Promise<LoadedState> {
    // The registry and latest come from PostgreSQL, and what this hub committed just before a
    // restart may still be in the stream (the follower starts at the stream's end): wait for the
    // writers, but start all the same when they stay behind (writers down must not keep hubs down).
    await this.writersCaughtUp().catch((err: Error) =>
      this.o.warn?.(
        { reason: err.message },
        'started before the writers stored everything in the stream: latest and the sensor list miss it until readings come again',
      ),
    );
    const state = await this.withClient(async (c) => ({
      ...(await loadState(c)),
      maxConnectionId: await this.connections.open(c),
      access: await loadAccess(c, this.o.now(), this.o.hubId),
      schema: this.o.history.schema,
    }));
    await this.keeper.start().catch((err: unknown) => {
      throw storeErrorOf(err);
    });
    return state;
  }

  /** Users, tokens and sessions as PostgreSQL has them now: after another hub changed them (onSharedChanges). */
  loadAccess(): Promise<AccessState> {
    return this.withClient((c) => loadAccess(c, this.o.now(), this.o.hubId));
  }

  /** Calls `reload.access` / `reload.alertRules` when another hub commits such a change (PostgreSQL NOTIFY, pg-history.ts). */
  onSharedChanges(reload: { access: () => void; alertRules: () => void }, onError?: (err: Error) => void): Promise<void> {
    return this.o.history.listen((channel, hub) => {
      if (hub === this.o.hubId) return;
      if (channel === ACCESS_CHANNEL) reload.access();
      else if (channel === ALERT_RULES_CHANNEL) reload.alertRules();
    }, onError);
  }

  pollCommits(): void {
    // Commits settle when JetStream acks them; there is nothing to poll.
  }

  async commit(commit: CommitRequest): Promise<CommitResult> {
    const result = await commitWithin(commit, this.keeper.horizon(), this.o.publish, (n) => this.keeper.noteExpired(n));
    // Recorded once JetStream has the commit: a failed one comes again, events and all.
    this.connections.add(commit.connections);
    return result;
  }

  exportHistory(query: HistoryQuery, onData: (chunk: Buffer) => void): ExportHandle {
    const ready = async () => {
      await this.writersCaughtUp();
      // The export's headers are read once its first rows are out: the mark as it is now (pg-retention.ts).
      await this.keeper.refresh().catch((err: unknown) => {
        throw storeErrorOf(err);
      });
    };
    return pgExport({ pool: this.pool, ready, tiers: this.o.retention?.tiers }, query, onData);
  }

  /**
   * Resolves once the writers have stored everything the stream held when it was called (every
   * reading acked to a sensor before the request), or fails after exportWaitMs saying so.
   */
  async writersCaughtUp(): Promise<void> {
    const limit = this.o.exportWaitMs ?? EXPORT_WAIT_MS;
    const deadline = Date.now() + limit;
    try {
      const target = await this.o.position.streamLastSeq();
      for (;;) {
        const floor = await this.o.position.writersAckFloor();
        if (floor >= target) return;
        if (Date.now() >= deadline)
          throw new StoreError(
            `the writers are ${target - floor} bundles behind the readings acked before this request after ${limit / 1000} s; ` +
              'check that writer processes run (npm run writer) and PostgreSQL answers',
            true,
          );
        await new Promise((r) => setTimeout(r, POSITION_POLL_MS));
      }
    } catch (err) {
      if (err instanceof StoreError) throw err;
      throw new StoreError(`could not read how far the writers are: ${(err as Error).message}`, true);
    }
  }

  /** A replay is of stored readings: those acked before it may still be in the stream, so the writers catch up first. */
  async recent(query: RecentQuery): Promise<{ seriesId: number; ts: number; value: number }[]> {
    await this.writersCaughtUp();
    return this.withClient(async (c) =>
      (await recentRows(c, query)).map((r) => ({
        seriesId: this.o.catalog.seriesId(r.sensor, r.room, r.metric, r.unit),
        ts: r.ts,
        value: r.value,
      })),
    );
  }

  scanUpload(file: UploadFile): Promise<ScanResult> {
    return this.uploadReader.run((c) => scanUpload(c, file));
  }

  commitUpload(req: UploadCommitRequest): Promise<UploadCommitResult> {
    return pgCommitUpload(
      {
        pool: this.pool,
        series: this.series,
        partitions: this.partitions,
        seriesDef: (id) => this.o.catalog.series[id],
        reader: (work) => this.uploadReader.run(work),
        horizon: this.keeper.horizon(),
        expired: (n) => this.keeper.noteExpired(n),
      },
      req,
    ).catch((err: unknown) => {
      throw storeErrorOf(err);
    });
  }

  /** `skip` is always empty here: PostgreSQL's key decided every identity inside the upload's transaction. */
  uploadNews(path: string, window: number): Promise<Columns> {
    return readPgNews(path, window);
  }

  writeAccess(changes: AccessChange[]): Promise<void> {
    return this.withClient((c) => writeAccess(c, changes, this.o.hubId));
  }

  appendActivity(rows: ActivityRow[]): Promise<void> {
    return this.withClient((c) => appendActivity(c, rows, this.o.hubId));
  }

  queryActivity(query: ActivityQuery): Promise<ActivityRow[]> {
    return this.withClient((c) => queryActivity(c, query));
  }

  alerts(call: AlertCall): Promise<unknown> {
    return this.withClient((c) => alertCall(c, call, this.o.hubId));
  }

  backup(): Promise<never> {
    return Promise.reject(
      new HubError(
        'bad_request',
        'this hub runs in cluster mode: its history, users and alerts are in PostgreSQL; back that database up with pg_dump (docs/CLUSTER.md)',
      ),
    );
  }

  async close(): Promise<void> {
    await this.keeper.stop();
    await this.connections.close();
    await this.uploadReader.close();
    await this.o.history.close();
  }
}

/** PostgreSQL's or the network's failure as a retryable StoreError (503); a HubError stays what it is. */
function storeErrorOf(err: unknown): unknown {
  if (err instanceof HubError || err instanceof StoreError) return err;
  const e = err as Error & { code?: string };
  // SQLSTATE classes 08 (connection), 53 (resources), 57 (operator intervention), 40 (rollback: deadlock, serialization).
  const retryable = typeof e.code === 'string' && (/^(08|53|57|40)/.test(e.code) || /^E[A-Z]+$/.test(e.code));
  return new StoreError(`PostgreSQL: ${e.message}`, retryable || /Connection terminated|timeout/i.test(e.message));
}
