/**
 * With several writers, a late row must not be stored before an in-order copy of it that is
 * earlier in the stream: the hubs streamed that copy as they committed it, so the late one,
 * found new and announced, would reach the live stream a second time. (A sensor that moved to
 * another hub and resent its outbox sends exactly that: the new hub sees the resent readings as
 * late.) One writer takes the stream in order; several share it, and a later batch may commit
 * first. So a writer stores a batch that holds late rows in runs of consecutive stream
 * sequences, and before each run with late rows waits until every earlier message is acked (the
 * consumer's ack floor), that is, stored by whichever writer had it.
 *
 * The wait is bounded (LATE_ORDER_WAIT_MS): a writer killed with earlier messages in hand holds
 * the floor until JetStream hands them out again (the ack wait), and a writer that is waiting
 * takes none. After the bound the run is stored all the same: those late rows may then reach the
 * live stream twice (logged); PostgreSQL stores each once whatever happens.
 */
import type { JsMsg } from '@nats-io/jetstream';
import { lateFromOf, type ReadingBundle } from '../cluster/bundle.ts';

/** How long a run with late rows waits for the writers to store what precedes it. */
export const LATE_ORDER_WAIT_MS = 10_000;

export interface SeqRun {
  msgs: JsMsg[];
  bundles: ReadingBundle[];
  /** the run's first stream sequence */
  first: number;
  /** whether a bundle of the run has late rows */
  late: boolean;
}

export function hasLateRows(b: ReadingBundle): boolean {
  return lateFromOf(b) < b.n;
}

/** The batch in stream order, cut where a sequence is missing (another writer has it, or had it). */
export function seqRuns(msgs: readonly JsMsg[], bundles: readonly ReadingBundle[]): SeqRun[] {
  const order = msgs.map((_, i) => i).sort((a, b) => msgs[a]!.seq - msgs[b]!.seq);
  const runs: SeqRun[] = [];
  let run: SeqRun | null = null;
  let last = -1;
  for (const i of order) {
    const m = msgs[i]!;
    if (!run || m.seq !== last + 1) {
      run = { msgs: [], bundles: [], first: m.seq, late: false };
      runs.push(run);
    }
    run.msgs.push(m);
    run.bundles.push(bundles[i]!);
    run.late ||= hasLateRows(bundles[i]!);
    last = m.seq;
  }
  return runs;
}
