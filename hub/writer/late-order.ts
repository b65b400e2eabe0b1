/**
 * With several writers, a late row must not be stored before an in-order copy of it that is
 * earlier in the stream: the hubs streamed that copy as they committed it, so the late one,
 * found new and announced, would reach the live stream a second time. (A sensor that moved to
 * another hub and resent its outbox sends exactly that: the new hub sees the resent readings as
 * late.) One writer takes the stream in order; several share it, and a later batch may commit
 * first. So a writer stores a batch that holds late rows in runs of consecutive stream
 * sequences, and stores a run with late rows only once every earlier message is acked (the
 * consumer's ack floor), that is, stored by whichever writer had it.
 *
 * It asks for a short while (LATE_ORDER_POLL_MS: the writer's own acks of the run before, or
 * another writer finishing its batch); if the floor is still below, it gives the run back (nak,
 * to come again in LATE_RETRY_MS, to any writer) and goes on with its other work, rather than
 * wait: the earlier messages may be with a writer that died, which JetStream hands out again only
 * after the ack wait, to a writer that is fetching. JetStream redelivers without limit (the
 * consumer sets no max_deliver), so a run given back is stored later, never dropped.
 */
import type { JsMsg } from '@nats-io/jetstream';
import { lateFromOf, type ReadingBundle } from '../cluster/bundle.ts';

/** How long a writer asks whether what precedes a run with late rows is stored, before giving the run back. */
export const LATE_ORDER_POLL_MS = 1_000;
/** A run given back comes again after this long. */
export const LATE_RETRY_MS = 500;

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
