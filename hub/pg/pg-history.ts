/**
 * The connection to cluster mode's PostgreSQL: a pool, the schema made or checked at connect
 * (pg-schema.ts), and the access-changed notification. Access changes (users, tokens, rooms,
 * sessions) are announced with PostgreSQL's NOTIFY on `roomwatch_access`, in the transaction
 * that makes them: a hub hears of a change only once it is committed, and every hub listening
 * hears it, whichever hub made it; the payload is the hub that made it.
 */
import pg from 'pg';
import { ensureSchema } from './pg-schema.ts';

export const ACCESS_CHANNEL = 'roomwatch_access';
/** alert rules changed (put or deleted): every hub reloads them */
export const ALERT_RULES_CHANNEL = 'roomwatch_alert_rules';
const LISTEN_RETRY_MS = 1_000;

export interface PgHistoryOptions {
  /**
   * pool size: exports and uploads each hold a connection for as long as they run (4 of each by
   * default), and access writes, activity, alerts and replays take one briefly; a request that
   * finds none free waits up to connectTimeoutMs, then fails (503)
   */
  max?: number;
  connectTimeoutMs?: number;
}

// bigint columns come back as numbers: every one here (ms times, counts, ids) is far below 2^53.
pg.types.setTypeParser(pg.types.builtins.INT8, (v) => Number(v));

export class PgHistory {
  private listener: pg.Client | null = null;
  private closed = false;

  private constructor(
    readonly pool: pg.Pool,
    readonly url: string,
    readonly schema: { from: number | null; to: number },
  ) {}

  static async connect(url: string, o: PgHistoryOptions = {}): Promise<PgHistory> {
    let parsed: URL;
    try {
      parsed = new URL(url);
    } catch {
      throw new Error(`--history: "${url}" is not a PostgreSQL URL (postgres://USER@HOST:PORT/DATABASE)`);
    }
    if (parsed.protocol !== 'postgres:' && parsed.protocol !== 'postgresql:')
      throw new Error(`--history: "${url}" is not a PostgreSQL URL: use postgres://USER@HOST:PORT/DATABASE`);
    const pool = new pg.Pool({ connectionString: url, max: o.max ?? 16, connectionTimeoutMillis: o.connectTimeoutMs ?? 10_000 });
    // An idle client whose server went away must not end the process; the next query fails instead.
    pool.on('error', () => {});
    let client: pg.PoolClient;
    try {
      client = await pool.connect();
    } catch (err) {
      await pool.end().catch(() => {});
      throw new Error(`could not connect to PostgreSQL at ${parsed.host}: ${(err as Error).message}; start it or check --history`, {
        cause: err,
      });
    }
    try {
      return new PgHistory(pool, url, await ensureSchema(client));
    } finally {
      client.release();
    }
  }

  /**
   * Calls `onChange(channel, hub)` whenever some hub commits an access change (ACCESS_CHANNEL)
   * or changes the alert rules (ALERT_RULES_CHANNEL). The listening connection comes back by
   * itself when it drops; changes made meanwhile are missed, so `onChange(channel, '')` for
   * both channels follows every reconnect (reload everything).
   */
  async listen(onChange: (channel: string, hub: string) => void, onError: (err: Error) => void = () => {}): Promise<void> {
    const start = async (): Promise<void> => {
      const c = new pg.Client({ connectionString: this.url });
      c.on('notification', (n) => {
        if (n.channel === ACCESS_CHANNEL || n.channel === ALERT_RULES_CHANNEL) onChange(n.channel, n.payload ?? '');
      });
      let lost = false;
      c.on('error', (err) => {
        if (lost) return;
        lost = true;
        onError(err);
        if (this.listener === c) this.listener = null;
        void c.end().catch(() => {});
        if (!this.closed) again();
      });
      try {
        await c.connect();
        await c.query(`LISTEN ${ACCESS_CHANNEL}; LISTEN ${ALERT_RULES_CHANNEL}`);
      } catch (err) {
        void c.end().catch(() => {});
        throw err;
      }
      if (this.closed) await c.end();
      else this.listener = c;
    };
    const again = (): void => {
      setTimeout(() => {
        if (this.closed) return;
        start().then(
          () => {
            onChange(ACCESS_CHANNEL, '');
            onChange(ALERT_RULES_CHANNEL, '');
          },
          (err: Error) => {
            onError(err);
            again();
          },
        );
      }, LISTEN_RETRY_MS).unref();
    };
    await start();
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.listener?.end().catch(() => {});
    this.listener = null;
    await this.pool.end().catch(() => {});
  }
}
