/**
 * One sealed group commit: its rows, the series and registry changes that go with them, and
 * which message of which connection each row came from. Knowing the messages is what lets a
 * failed commit be split to find the one message the store cannot take, and lets every other
 * message be stored and acknowledged.
 */
import type { ConnectionEvent, Columns, SensorRow, SeriesDef } from '../store/store-messages.ts';

/** A connection owed acks. An ack may only ever cover messages that were committed or answered with an error. */
export interface AckTarget {
  /** its message `seq` is stored, or was answered with an error: an ack may now cover it */
  committed(seq: number): void;
  /** writes the ack for what committed() allowed (once per commit, on the turn after it) */
  flushAck(): void;
  /** its message `seq` cannot be stored: answer it with the contract's 500 */
  refused(seq: number, message: string): void;
  /** the store cannot commit: 503 and close, with no ack beyond what is stored; the sensor resends after reconnecting */
  storeUnavailable(message: string): void;
}

export interface RegistryChanges {
  sensors: SensorRow[];
  connections: ConnectionEvent[];
}

/**
 * Messages in arrival order, as parallel arrays (one push per message on the hot path):
 * message i owns fresh rows [freshEnd[i-1], freshEnd[i]) and maybe-duplicate rows likewise.
 */
export class MessageSpans {
  readonly targets: (AckTarget | null)[] = [];
  /** -1: a message without seq, never acknowledged */
  readonly seqs: number[] = [];
  readonly freshEnds: number[] = [];
  readonly maybeEnds: number[] = [];

  get length(): number {
    return this.seqs.length;
  }

  push(target: AckTarget | null, seq: number, freshEnd: number, maybeEnd: number): void {
    this.targets.push(target);
    this.seqs.push(seq);
    this.freshEnds.push(freshEnd);
    this.maybeEnds.push(maybeEnd);
  }
}

export interface SealedCommit {
  newSeries: SeriesDef[];
  fresh: Columns;
  maybeDuplicate: Columns;
  changes: RegistryChanges;
  spans: MessageSpans;
}

function sliceColumns(c: Columns, from: number, to: number): Columns {
  // slice() copies into arrays of their own, which can be transferred to the worker alone
  return { n: to - from, series: c.series.slice(from, to), ts: c.ts.slice(from, to), value: c.value.slice(from, to) };
}

/** The series ids a set of rows uses. */
function seriesUsed(...cols: Columns[]): Set<number> {
  const ids = new Set<number>();
  for (const c of cols) for (let i = 0; i < c.n; i++) ids.add(c.series[i]!);
  return ids;
}

/**
 * Splits a commit into its registry changes and series no row uses (first), then two halves of
 * its messages, each with the rows and the series definitions it needs.
 */
export function splitCommit(s: SealedCommit): { meta: SealedCommit; halves: [SealedCommit, SealedCommit] } {
  const n = s.spans.length;
  const mid = n >> 1;
  const empty = (): Columns => ({ n: 0, series: new Int32Array(0), ts: new Float64Array(0), value: new Float64Array(0) });
  const part = (from: number, to: number): SealedCommit => {
    const f0 = from === 0 ? 0 : s.spans.freshEnds[from - 1]!;
    const m0 = from === 0 ? 0 : s.spans.maybeEnds[from - 1]!;
    const f1 = to === n ? s.fresh.n : s.spans.freshEnds[to - 1]!;
    const m1 = to === n ? s.maybeDuplicate.n : s.spans.maybeEnds[to - 1]!;
    const fresh = sliceColumns(s.fresh, f0, f1);
    const maybeDuplicate = sliceColumns(s.maybeDuplicate, m0, m1);
    const spans = new MessageSpans();
    for (let i = from; i < to; i++)
      spans.push(s.spans.targets[i]!, s.spans.seqs[i]!, s.spans.freshEnds[i]! - f0, s.spans.maybeEnds[i]! - m0);
    const used = seriesUsed(fresh, maybeDuplicate);
    return {
      newSeries: s.newSeries.filter((d) => used.has(d.id)),
      fresh,
      maybeDuplicate,
      changes: { sensors: [], connections: [] },
      spans,
    };
  };
  const halves: [SealedCommit, SealedCommit] = [part(0, mid), part(mid, n)];
  const used = seriesUsed(s.fresh, s.maybeDuplicate);
  const meta: SealedCommit = {
    newSeries: s.newSeries.filter((d) => !used.has(d.id)),
    fresh: empty(),
    maybeDuplicate: empty(),
    changes: s.changes,
    spans: new MessageSpans(),
  };
  return { meta, halves };
}
