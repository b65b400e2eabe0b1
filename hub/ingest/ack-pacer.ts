/**
 * Acks owed after a commit are written a slice per event-loop turn. An ack is one socket write
 * (10-40 us in a VM), so a commit that answers 10,000 sensors at once (a report-now round) is
 * 100-400 ms of writes: in one go they would hold every HTTP request and every sensor's bytes
 * that long. Between slices the hub reads again, and a line it sends to a sensor that is still
 * owed its ack carries the ack in the same write (SensorSession.sendLine). The contract's bound
 * (an ack within 1 s of storing) is far off: a slice of 1,000 takes 10-40 ms.
 */

/** One connection owed an ack: writes it now unless a line it sent meanwhile carried it. */
export interface PacedAck {
  writeDueAck(): void;
}

const SLICE = 1_000;

const queue: PacedAck[] = [];
let head = 0;
let scheduled = false;

/** Queues `target` for its ack (queued twice by two commits, it still writes one ack: the newest). */
export function paceAck(target: PacedAck): void {
  queue.push(target);
  if (!scheduled) {
    scheduled = true;
    setImmediate(writeSlice);
  }
}

function writeSlice(): void {
  const end = Math.min(queue.length, head + SLICE);
  for (; head < end; head++) queue[head]!.writeDueAck();
  if (head < queue.length) {
    setImmediate(writeSlice);
    return;
  }
  queue.length = 0;
  head = 0;
  scheduled = false;
}
