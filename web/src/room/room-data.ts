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
import { query, request } from '../api.ts';
import { columnIndex, eachCsvRecord } from '../csv.ts';
import { SeriesTable } from './series-table.ts';
import { iso, type Every, type Span } from './view-window.ts';

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

export class RoomData {
  /** by metric */
  tables = new Map<string, SeriesTable>();
  readonly version = signal(0);
  readonly state = signal<'loading' | 'ready' | 'error'>('loading');
  readonly error = signal<string | null>(null);
  readonly loaded = signal<Loaded | null>(null);
  /** live readings that came while the export was on its way */
  private pending: Reading[] | null = [];
  private abort: AbortController | null = null;
  private liveFrom = Infinity;
  private everyMs = 1_000;

  constructor(readonly room: string) {}

  async load(span: Span, every: Every, live: boolean): Promise<void> {
    this.abort?.abort();
    const abort = new AbortController();
    this.abort = abort;
    this.state.value = 'loading';
    this.pending = [];
    this.liveFrom = live ? span.to : Infinity;
    this.everyMs = every.ms;
    const started = performance.now();
    try {
      const res = await request(historyUrl(this.room, span, every, 'ms'), { signal: abort.signal });
      const text = await res.text();
      if (abort.signal.aborted) return;
      const { tables, rows } = parseBuckets(text, every.ms);
      this.tables = tables;
      for (const r of this.pending ?? []) this.fold(r);
      this.pending = null;
      this.loaded.value = { span, every, rows, bytes: text.length, ms: performance.now() - started };
      this.state.value = 'ready';
      this.error.value = null;
      this.version.value++;
    } catch (err) {
      if (abort.signal.aborted) return;
      this.state.value = 'error';
      this.error.value = (err as Error).message;
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
      this.version.value++;
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

/** The export's bucket rows as a table per metric. */
export function parseBuckets(text: string, everyMs: number): { tables: Map<string, SeriesTable>; rows: number } {
  const tables = new Map<string, SeriesTable>();
  let col: Record<(typeof BUCKET_COLUMNS)[number], number> | null = null;
  let rows = 0;
  eachCsvRecord(text, (f) => {
    if (col === null) {
      col = columnIndex(f, BUCKET_COLUMNS);
      return;
    }
    const metric = f[col.metric]!;
    let table = tables.get(metric);
    if (!table) {
      table = new SeriesTable(metric, everyMs);
      table.unit = f[col.unit] ?? '';
      tables.set(metric, table);
    }
    table.addBucket(Number(f[col.ts]), f[col.sensor]!, Number(f[col.count]), Number(f[col.min]), Number(f[col.max]), Number(f[col.mean]));
    rows++;
  });
  return { tables, rows };
}
