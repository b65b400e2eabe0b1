/**
 * A room view's data: one history.csv request for the room and the window in view (bucketed,
 * `every` from the chart's width), split into a SeriesTable per metric, then live readings of the
 * room folded in while the window reaches the present. The export's `to` is when it was asked
 * for: live readings from then on are added, earlier ones are in the export already, so none is
 * counted twice.
 */
import { signal } from '@preact/signals';
import { BUCKET_COLUMNS } from '../../../protocol/columns.ts';
import type { Reading } from '../../../protocol/api.ts';
import { ApiError, query, request } from '../api.ts';
import { columnIndex, CsvStream } from '../csv.ts';
import { CHART_REDRAW_MS, pacedBump } from '../redraw.ts';
import { SeriesTable } from './series-table.ts';
import { iso, type Every, type Span } from './view-window.ts';

const MAX_EXPORT_ATTEMPTS = 20;

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => {
      clearTimeout(timer);
      reject(new DOMException('aborted', 'AbortError'));
    });
  });
}

/** The response when the hub answered 2xx, else null (refused, failed, cancelled). */
async function answered(response: Promise<Response>): Promise<Response | null> {
  try {
    const res = await response;
    if (res.ok) return res;
    void res.body?.cancel();
    return null;
  } catch {
    return null;
  }
}

export interface Loaded {
  span: Span;
  every: Every;
  rows: number;
  bytes: number;
  ms: number;
}

/** history.csv for a room's span in buckets: what the charts draw, and what "Download CSV" saves (in ISO times). */
export function historyUrl(room: string, span: Span, every: Every, time: 'ms' | 'iso'): string {
  return `/api/v1/history.csv${query({ room, from: iso(span.from), to: iso(span.to), every: every.text, time: time === 'ms' ? 'ms' : undefined })}`;
}

/**
 * The charts' history.csv: the span with its start moved back to a bucket's edge. The first
 * bucket is then whole (not the readings of its last seconds only), and out of the rollups no
 * bucket is cut by `from`: a cut one is made from raw readings, and with the recent tail that
 * is two ranges of raw readings, which the store answered with a scan of every reading
 * (docs/BENCHMARKS.md "Dashboard"). The part before the span is left of the chart's x range.
 */
export function chartHistoryUrl(room: string, span: Span, every: Every): string {
  return historyUrl(room, { from: Math.floor(span.from / every.ms) * every.ms, to: span.to }, every, 'ms');
}

export class RoomData {
  /** by metric */
  tables = new Map<string, SeriesTable>();
  readonly version = signal(0);
  readonly state = signal<'loading' | 'ready' | 'error'>('loading');
  readonly error = signal<string | null>(null);
  readonly loaded = signal<Loaded | null>(null);
  private readonly bump = pacedBump(this.version, CHART_REDRAW_MS);
  /** live readings that came while the export was on its way */
  private pending: Reading[] | null = [];
  private abort: AbortController | null = null;
  private liveFrom = Infinity;
  private everyMs = 1_000;
  /**
   * The x range the charts show now (set by the view): a reading whose bucket is outside it is
   * folded in without a redraw, and drawn when the range slides over it (a live range moves a
   * pixel at a time, so the newest bucket, right of its end, waits at most that long).
   */
  shown: Span | null = null;

  constructor(readonly room: string) {}

  /**
   * Loads the span in buckets of `every`. `early`: the same export asked for as the page started
   * (early-history.ts), taken when the hub answered it, else asked again with the session.
   */
  async load(span: Span, every: Every, live: boolean, early?: { response: Promise<Response>; abort: AbortController }): Promise<void> {
    this.abort?.abort();
    const abort = new AbortController();
    this.abort = abort;
    if (early) abort.signal.addEventListener('abort', () => early.abort.abort());
    this.state.value = 'loading';
    this.error.value = null;
    this.pending = [];
    this.liveFrom = live ? span.to : Infinity;
    this.everyMs = every.ms;
    const started = performance.now();
    try {
      const url = chartHistoryUrl(this.room, span, every);
      const res = (early && (await answered(early.response))) || (await this.fetchHistory(url, abort.signal));
      const reader = new BucketReader(every.ms);
      let bytes = 0;
      const chunks = res.body!.pipeThrough(new TextDecoderStream()).getReader();
      for (let c = await chunks.read(); !c.done; c = await chunks.read()) {
        bytes += c.value.length;
        reader.push(c.value);
      }
      reader.end();
      performance.mark('roomwatch:history-parsed');
      if (abort.signal.aborted) return;
      this.tables = reader.tables;
      for (const r of this.pending ?? []) this.fold(r);
      this.pending = null;
      this.loaded.value = { span, every, rows: reader.rows, bytes, ms: performance.now() - started };
      this.state.value = 'ready';
      this.error.value = null;
      this.version.value++;
    } catch (err) {
      if (abort.signal.aborted) return;
      this.state.value = 'error';
      this.error.value = (err as Error).message;
    }
  }

  /**
   * The export, asked again while the hub says it runs as many as it may (429 too_many_exports:
   * two per user, so a third tab of the same user waits its turn rather than showing an error).
   */
  private async fetchHistory(url: string, signal: AbortSignal): Promise<Response> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await request(url, { signal });
      } catch (err) {
        if (!(err instanceof ApiError) || err.code !== 'too_many_exports' || attempt >= MAX_EXPORT_ATTEMPTS) throw err;
        this.error.value = 'waiting for the hub to take one more export…';
        // sooner than Retry-After (5 s): the exports in the way are short; jittered, so tabs do not retry together
        await sleep(Math.min((err.retryAfterS ?? 1) * 1000, 250 + Math.random() * 750 * attempt), signal);
      }
    }
  }

  cancel(): void {
    this.abort?.abort();
  }

  /** A live reading of this room; counted once, whether it came before the export or after. */
  add(r: Reading): void {
    if (r.room !== this.room || r.ts < this.liveFrom) return;
    if (this.pending) this.pending.push(r);
    else {
      this.fold(r);
      const bucket = Math.floor(r.ts / this.everyMs) * this.everyMs;
      if (!this.shown || (bucket + this.everyMs > this.shown.from && bucket <= this.shown.to)) this.bump();
    }
  }

  private fold(r: Reading): void {
    let table = this.tables.get(r.metric);
    if (!table) {
      table = new SeriesTable(r.metric, this.everyMs);
      this.tables.set(r.metric, table);
    }
    if (!table.unit) table.unit = r.unit;
    table.addReading(r.ts, r.sensor, r.value);
  }

  /** A sliding window moved: forget what is before it. */
  dropBefore(ms: number): void {
    for (const t of this.tables.values()) t.dropBefore(ms);
  }
}

/** The export's bucket rows as a table per metric, taken chunk by chunk as the export arrives. */
export class BucketReader {
  readonly tables = new Map<string, SeriesTable>();
  rows = 0;
  private col: Record<(typeof BUCKET_COLUMNS)[number], number> | null = null;
  private readonly csv = new CsvStream((f) => this.record(f));

  constructor(private readonly everyMs: number) {}

  push(chunk: string): void {
    this.csv.push(chunk);
  }

  end(): void {
    this.csv.end();
  }

  private record(f: string[]): void {
    const col = this.col;
    if (col === null) {
      this.col = columnIndex(f, BUCKET_COLUMNS);
      return;
    }
    const metric = f[col.metric]!;
    let table = this.tables.get(metric);
    if (!table) {
      table = new SeriesTable(metric, this.everyMs);
      table.unit = f[col.unit] ?? '';
      this.tables.set(metric, table);
    }
    table.addBucket(Number(f[col.ts]), f[col.sensor]!, Number(f[col.count]), Number(f[col.min]), Number(f[col.max]), Number(f[col.mean]));
    this.rows++;
  }
}
