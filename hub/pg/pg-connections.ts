/**
 * Sensor connection history in cluster mode: each hub records its own connects and disconnects
 * in PostgreSQL's `connections` (pg-schema.ts), keyed by (hub, id) since each hub numbers its
 * connections itself. On the single hub they go in the commit's transaction; here the commit is
 * JetStream's, and PostgreSQL slow or paused must not hold sensors' acks, so the events of each
 * published commit are written behind it, in order, a batch at a time, tried again while
 * PostgreSQL fails. The queue is bounded: past MAX_QUEUED events the oldest are given up and
 * counted (`lost`), so a PostgreSQL down for hours costs history, never the hub's memory.
 */
import type pg from 'pg';
import type { ConnectionEvent } from '../store/store-messages.ts';

export const MAX_QUEUED = 100_000;
const BATCH = 5_000;
const RETRY_MIN_MS = 250;
const RETRY_MAX_MS = 10_000;

export class ConnectionLog {
  private queue: ConnectionEvent[] = [];
  private flushing: Promise<void> | null = null;
  private stopped = false;
  private wake: (() => void) | null = null;
  /** events given up: the queue was full */
  lost = 0;
  written = 0;

  constructor(
    private readonly pool: pg.Pool,
    private readonly hubId: string,
    private readonly warn?: (fields: Record<string, unknown>, message: string) => void,
  ) {}

  /** At open, before this hub numbers connections: its connections a previous run left open are closed at the sensor's last sighting. */
  async open(c: pg.ClientBase): Promise<number> {
    await c.query(
      `UPDATE connections SET disconnected_at = coalesce((SELECT last_seen FROM sensors s WHERE s.sensor = connections.sensor), connected_at)
       WHERE hub = $1 AND disconnected_at IS NULL`,
      [this.hubId],
    );
    const max = (await c.query<{ n: number }>('SELECT coalesce(max(id), 0) AS n FROM connections WHERE hub = $1', [this.hubId])).rows[0];
    return Number(max?.n ?? 0);
  }

  /** The events of a commit JetStream acked. */
  add(events: readonly ConnectionEvent[]): void {
    if (events.length === 0 || this.stopped) return;
    this.queue.push(...events);
    if (this.queue.length > MAX_QUEUED) {
      const over = this.queue.length - MAX_QUEUED;
      this.queue.splice(0, over);
      this.lost += over;
    }
    this.flushing ??= this.flush().finally(() => (this.flushing = null));
  }

  /** Resolves once every event added before it is written (or given up). */
  async settled(): Promise<void> {
    while (this.flushing) await this.flushing;
  }

  private async flush(): Promise<void> {
    for (let failures = 0; this.queue.length > 0;) {
      const batch = this.queue.slice(0, BATCH);
      try {
        await this.write(batch);
        this.queue.splice(0, batch.length);
        this.written += batch.length;
        failures = 0;
      } catch (err) {
        if (this.stopped) return;
        failures++;
        const wait = Math.min(RETRY_MAX_MS, RETRY_MIN_MS * 2 ** Math.min(failures, 8));
        this.warn?.(
          { err: (err as Error).message, events: this.queue.length, retryInMs: wait },
          'could not record sensor connections in PostgreSQL; trying again',
        );
        await new Promise<void>((r) => {
          const t = setTimeout(r, wait);
          t.unref();
          this.wake = () => {
            clearTimeout(t);
            r();
          };
        });
        this.wake = null;
        if (this.stopped) return;
      }
    }
  }

  /** One statement per kind; a batch written twice (a retry after a lost answer) changes nothing. */
  private async write(events: ConnectionEvent[]): Promise<void> {
    const connects = events.filter((e) => e.kind === 'connect');
    const ends = events.filter((e) => e.kind === 'disconnect');
    const c = await this.pool.connect();
    try {
      await c.query('BEGIN');
      if (connects.length > 0)
        await c.query(
          `INSERT INTO connections (hub, id, sensor, address, connected_at)
             SELECT $1, * FROM unnest($2::bigint[], $3::text[], $4::text[], $5::bigint[])
           ON CONFLICT (hub, id) DO NOTHING`,
          [
            this.hubId,
            connects.map((e) => e.id),
            connects.map((e) => (e.kind === 'connect' ? e.sensor : '')),
            connects.map((e) => (e.kind === 'connect' ? e.address : '')),
            connects.map((e) => Math.trunc(e.at)),
          ],
        );
      if (ends.length > 0)
        await c.query(
          `UPDATE connections SET disconnected_at = x.at FROM unnest($2::bigint[], $3::bigint[]) AS x (id, at)
           WHERE connections.hub = $1 AND connections.id = x.id`,
          [this.hubId, ends.map((e) => e.id), ends.map((e) => Math.trunc(e.at))],
        );
      await c.query('COMMIT');
    } catch (err) {
      await c.query('ROLLBACK').catch(() => {});
      throw err;
    } finally {
      c.release();
    }
  }

  /** Takes no more; what is queued gets one last try, at most `withinMs`. */
  async close(withinMs = 3_000): Promise<void> {
    this.stopped = true;
    this.wake?.();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.settled(), new Promise((r) => (timer = setTimeout(r, withinMs)))]);
    clearTimeout(timer);
  }
}
