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
  /**
   * What committed() allowed may now be acknowledged. Called once per commit that reported to
   * this target, on the event-loop turn after the commit (whoever waits for the commit, such
   * as report-now or bye, is answered first). It need not write: a sensor's session queues
   * itself with ack-pacer.ts, which writes acks 1,000 per turn, and a line the hub sends that
   * sensor meanwhile carries the ack instead; a target with no one to ack (an input's batch) does nothing.
   */
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
 * Messages in arrival order: message i owns fresh rows [freshEnd(i-1), freshEnd(i)) and
 * maybe-duplicate rows likewise. One push per message on the hot path (one reading per line is
 * one message), so the ends and seqs sit in typed arrays kept from commit to commit (plain
 * arrays of 400,000 growing every commit cost 250 ns a push), and consecutive messages of one
 * connection (a chunk read holds hundreds) share a run: its target and its highest seq.
 */
export class MessageSpans {
  length = 0;
  /** by message: its seq, -1 for a message without one (never acknowledged) */
  private seqs = new Float64Array(INITIAL_MESSAGES);
  /** by message */
  private freshEnds = new Int32Array(INITIAL_MESSAGES);
  /** by message */
  private maybeEnds = new Int32Array(INITIAL_MESSAGES);
  /** by run: who its messages came from */
  private readonly runTargets: (AckTarget | null)[] = [];
  /** by run: the index after its last message */
  private runEnds = new Int32Array(INITIAL_RUNS);
  /** by run: the highest seq among its messages (-1: none has one) */
  private runSeqs = new Float64Array(INITIAL_RUNS);
  runs = 0;

  push(target: AckTarget | null, seq: number, freshEnd: number, maybeEnd: number): void {
    if (this.length === this.seqs.length) this.growMessages();
    const i = this.length++;
    this.seqs[i] = seq;
    this.freshEnds[i] = freshEnd;
    this.maybeEnds[i] = maybeEnd;
    let r = this.runs - 1;
    if (r < 0 || this.runTargets[r] !== target) {
      if (this.runs === this.runEnds.length) this.growRuns();
      r = this.runs++;
      this.runTargets[r] = target;
      this.runSeqs[r] = -1;
    }
    this.runEnds[r] = this.length;
    if (seq > this.runSeqs[r]!) this.runSeqs[r] = seq;
  }

  seq(i: number): number {
    return this.seqs[i]!;
  }

  freshEnd(i: number): number {
    return this.freshEnds[i]!;
  }

  maybeEnd(i: number): number {
    return this.maybeEnds[i]!;
  }

  /** Who message i came from (a search over the runs: for the rare paths that split a commit). */
  target(i: number): AckTarget | null {
    let lo = 0;
    let hi = this.runs - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.runEnds[mid]! > i) hi = mid;
      else lo = mid + 1;
    }
    return this.runTargets[lo] ?? null;
  }

  runTarget(r: number): AckTarget | null {
    return this.runTargets[r] ?? null;
  }

  /** The highest seq of run r's messages, or -1. */
  runSeq(r: number): number {
    return this.runSeqs[r]!;
  }

  /** Empty again, keeping its arrays for the next commit. */
  clear(): void {
    this.length = 0;
    this.runs = 0;
    this.runTargets.length = 0;
  }

  private growMessages(): void {
    const size = this.seqs.length * 2;
    this.seqs = grown(this.seqs, new Float64Array(size));
    this.freshEnds = grown(this.freshEnds, new Int32Array(size));
    this.maybeEnds = grown(this.maybeEnds, new Int32Array(size));
  }

  private growRuns(): void {
    const size = this.runEnds.length * 2;
    this.runEnds = grown(this.runEnds, new Int32Array(size));
    this.runSeqs = grown(this.runSeqs, new Float64Array(size));
  }
}

const INITIAL_MESSAGES = 1_024;
const INITIAL_RUNS = 256;

function grown<T extends Int32Array | Float64Array>(from: T, to: T): T {
  to.set(from);
  return to;
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
    const f0 = from === 0 ? 0 : s.spans.freshEnd(from - 1);
    const m0 = from === 0 ? 0 : s.spans.maybeEnd(from - 1);
    const f1 = to === n ? s.fresh.n : s.spans.freshEnd(to - 1);
    const m1 = to === n ? s.maybeDuplicate.n : s.spans.maybeEnd(to - 1);
    const fresh = sliceColumns(s.fresh, f0, f1);
    const maybeDuplicate = sliceColumns(s.maybeDuplicate, m0, m1);
    const spans = new MessageSpans();
    for (let i = from; i < to; i++) spans.push(s.spans.target(i), s.spans.seq(i), s.spans.freshEnd(i) - f0, s.spans.maybeEnd(i) - m0);
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
