/**
 * The activity log: who did what, from where, with what outcome. Events are batched in memory
 * and appended to the store every flushIntervalMs (a fleet connecting is thousands of events in a
 * second); a query first writes out what is pending, so it sees every event recorded before it.
 *
 * No event may wedge the log. Each is checked as it is recorded (every text a string of bounded
 * length, the code an integer), so no batch can fail for its content. Ids are given when events
 * are written, after start() has read the largest stored id, and a retried event keeps its id,
 * so an id is never used twice. A batch that fails is tried again a bounded number of times,
 * then event by event; an event that still cannot be stored is written whole to the hub's log,
 * at error level, and counted (`roomwatch_activity_events_dropped_total`), never retried for ever.
 */
import type { Logger } from 'pino';
import { HubError } from '../hub-error.ts';
import type { ActivityQuery, ActivityRow } from './access-records.ts';

export interface ActivitySink {
  appendActivity(rows: ActivityRow[]): Promise<void>;
  queryActivity(query: ActivityQuery): Promise<ActivityRow[]>;
}

export type ActivityEvent = Omit<ActivityRow, 'id' | 'ts'>;

/** Told of events as they get their ids, oldest first (the live activity stream). Must not throw. */
export type ActivityListener = (rows: readonly ActivityRow[]) => void;

type Unnumbered = Omit<ActivityRow, 'id'>;

/** past this many unwritten events (a store that is down), the newest are counted, not kept */
const MAX_PENDING = 200_000;
/** events in one append */
const MAX_BATCH = 10_000;
/** the waits between the tries of a failing batch: about 40 s in all, then it goes event by event */
const RETRY_DELAYS_MS = [1_000, 2_000, 5_000, 10_000, 20_000];

/** The longest text kept in each field; longer text is cut and ends with an ellipsis. */
export const ACTIVITY_FIELD_CHARS = { actor: 64, address: 64, action: 32, target: 300, outcome: 16, detail: 1_000 } as const;

function text(v: unknown, max: number, empty = ''): string {
  let s: string;
  try {
    // Any value a client sent is kept as text; an object's "[object Object]" says enough in a log.
    // eslint-disable-next-line @typescript-eslint/no-base-to-string
    s = typeof v === 'string' ? v : v === undefined || v === null ? empty : String(v);
  } catch {
    s = '[unprintable]'; // an object without toString
  }
  if (s.length === 0) s = empty;
  return s.length > max ? `${s.slice(0, max - 1)}…` : s;
}

/** The event as the store takes it: every text a bounded string (an address gone with its socket: `-`). */
export function cleanEvent(e: ActivityEvent): ActivityEvent {
  const L = ACTIVITY_FIELD_CHARS;
  const code = typeof e.code === 'number' && Number.isInteger(e.code) && Math.abs(e.code) <= 2 ** 31 - 1 ? e.code : 0;
  return {
    actor: text(e.actor, L.actor, '-'),
    address: text(e.address, L.address, '-'),
    action: text(e.action, L.action, '-') as ActivityRow['action'],
    target: text(e.target, L.target),
    outcome: text(e.outcome, L.outcome, 'failed') as ActivityRow['outcome'],
    code,
    detail: text(e.detail, L.detail),
  };
}

export class ActivityLog {
  /** 0 until start(): no id is given before the store says which are taken */
  private nextId = 0;
  /** recorded, not numbered yet */
  private pending: Unnumbered[] = [];
  /** numbered, not stored yet, oldest first */
  private unwritten: ActivityRow[] = [];
  /** failed tries of the oldest unwritten batch */
  private failures = 0;
  private retryAt = 0;
  private timer: NodeJS.Timeout | null = null;
  private writing: Promise<void> = Promise.resolve();
  private stopped = false;
  private readonly listeners = new Set<ActivityListener>();
  /** events that could not be stored (logged instead) or kept (over MAX_PENDING) */
  dropped = 0;

  constructor(
    private readonly sink: ActivitySink,
    private readonly now: () => number,
    private readonly log: Logger,
    private readonly flushIntervalMs = 200,
    private readonly retryDelaysMs: readonly number[] = RETRY_DELAYS_MS,
  ) {}

  start(maxStoredId: number): void {
    this.nextId = maxStoredId + 1;
    if (this.pending.length > 0) this.schedule(this.flushIntervalMs);
  }

  record(event: ActivityEvent): void {
    const clean = cleanEvent(event);
    if (this.stopped || this.pending.length + this.unwritten.length >= MAX_PENDING) {
      this.drop({ ts: this.now(), ...clean }, this.stopped ? 'the activity log has stopped' : 'too many unwritten events');
      return;
    }
    this.pending.push({ ts: this.now(), ...clean });
    this.schedule(this.flushIntervalMs);
  }

  /**
   * Calls `listener` with each batch of events as they get their ids (at each flush, about every
   * flushIntervalMs), before they are stored: a query made after a batch was heard returns it
   * too, so a follower dedupes by id. Returns the way to stop.
   */
  follow(listener: ActivityListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Writes out every event recorded so far (unless a failing batch waits for its retry). */
  flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    if (this.nextId === 0) return this.writing;
    const numbered = this.pending.map((e): ActivityRow => ({ id: this.nextId++, ...e }));
    for (const row of numbered) this.unwritten.push(row);
    this.pending = [];
    if (numbered.length > 0) this.tell(numbered);
    this.writing = this.writing.then(() => this.writeOut(false));
    return this.writing;
  }

  async query(q: ActivityQuery): Promise<ActivityRow[]> {
    await this.flush();
    try {
      return await this.sink.queryActivity(q);
    } catch (err) {
      throw new HubError('store_unavailable', `the activity log cannot be read now (${(err as Error).message}); try again later`);
    }
  }

  /** Writes what it can now, without waiting for retries; what cannot be stored is logged and counted. */
  async stop(): Promise<void> {
    if (this.nextId === 0) {
      // Never started: which ids are free is unknown, so nothing can be written.
      for (const event of this.pending) this.drop(event, 'the hub stopped before its store opened');
      this.pending = [];
    }
    await this.flush();
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.writing = this.writing.then(() => this.writeOut(true));
    await this.writing;
  }

  private tell(rows: readonly ActivityRow[]): void {
    for (const listener of this.listeners) {
      try {
        listener(rows);
      } catch (err) {
        this.log.error({ err }, 'an activity follower failed; the log goes on');
      }
    }
  }

  private schedule(ms: number): void {
    if (!this.stopped) this.timer ??= setTimeout(() => void this.flush(), ms);
  }

  private async writeOut(final: boolean): Promise<void> {
    while (this.unwritten.length > 0) {
      if (this.failures > 0 && !final && performance.now() < this.retryAt) {
        this.schedule(this.retryAt - performance.now());
        return;
      }
      const rows = this.unwritten.slice(0, MAX_BATCH);
      try {
        await this.sink.appendActivity(rows);
        this.unwritten.splice(0, rows.length);
        this.failures = 0;
      } catch (err) {
        this.failures++;
        if (this.failures <= this.retryDelaysMs.length && !final) {
          const delay = this.retryDelaysMs[this.failures - 1]!;
          this.retryAt = performance.now() + delay;
          this.log.warn(
            { err, events: rows.length, attempt: this.failures },
            `could not store activity events; trying again in ${delay} ms`,
          );
          this.schedule(delay);
          return;
        }
        // Tried enough as a batch: event by event, so one that cannot be stored keeps no other out.
        this.unwritten.splice(0, rows.length);
        this.failures = 0;
        await this.oneByOne(rows);
      }
    }
  }

  private async oneByOne(rows: ActivityRow[]): Promise<void> {
    for (const row of rows) {
      try {
        await this.sink.appendActivity([row]);
      } catch (err) {
        this.drop(row, `the store would not take it (${(err as Error).message})`);
      }
    }
  }

  private drop(event: Unnumbered, why: string): void {
    this.dropped++;
    this.log.error({ event, dropped: this.dropped }, `activity event dropped: ${why}; it is kept only in this log`);
  }
}
