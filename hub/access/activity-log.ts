/**
 * The activity log: who did what, from where, with what outcome. Events are batched in memory
 * and appended to the store every flushIntervalMs (a fleet connecting is thousands of events in a
 * second); a query first writes out what is pending, so it sees every event recorded before it.
 */
import type { Logger } from 'pino';
import type { ActivityQuery, ActivityRow } from './access-records.ts';

export interface ActivitySink {
  appendActivity(rows: ActivityRow[]): Promise<void>;
  queryActivity(query: ActivityQuery): Promise<ActivityRow[]>;
}

export type ActivityEvent = Omit<ActivityRow, 'id' | 'ts'>;

/** past this many unwritten events (a store that is down), the newest are counted, not kept */
const MAX_PENDING = 200_000;

export class ActivityLog {
  private nextId = 1;
  private pending: ActivityRow[] = [];
  private timer: NodeJS.Timeout | null = null;
  private writing: Promise<void> = Promise.resolve();
  lost = 0;

  constructor(
    private readonly sink: ActivitySink,
    private readonly now: () => number,
    private readonly log: Logger,
    private readonly flushIntervalMs = 200,
  ) {}

  start(maxStoredId: number): void {
    this.nextId = maxStoredId + 1;
  }

  record(event: ActivityEvent): void {
    if (this.pending.length >= MAX_PENDING) {
      this.lost++;
      return;
    }
    this.pending.push({ id: this.nextId++, ts: this.now(), ...event });
    this.timer ??= setTimeout(() => void this.flush(), this.flushIntervalMs);
  }

  /** Writes out every event recorded so far; resolves when they are stored. */
  flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const rows = this.pending;
    this.pending = [];
    this.writing = this.writing.then(async () => {
      if (rows.length === 0) return;
      try {
        await this.sink.appendActivity(rows);
      } catch (err) {
        // Kept for the next flush: the store may come back.
        this.pending = rows.concat(this.pending).slice(0, MAX_PENDING);
        this.log.error({ err, events: rows.length }, 'could not store activity events; will retry');
        this.timer ??= setTimeout(() => void this.flush(), 5_000);
      }
    });
    return this.writing;
  }

  async query(q: ActivityQuery): Promise<ActivityRow[]> {
    await this.flush();
    return this.sink.queryActivity(q);
  }

  async stop(): Promise<void> {
    await this.flush();
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
  }
}
