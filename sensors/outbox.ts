/**
 * A sensor's side of "Acks" (PROTOCOL.md §1): every message with a seq is kept until an ack
 * covers it, and sent again on the next connection. Knows which of the kept messages the
 * current connection has carried, so an ack only ever covers what this hub session saw.
 */
import type { ReadingInput, SensorMessage } from '../protocol/messages.ts';
import { UnackedBuffer } from './unacked-buffer.ts';

interface Pending {
  seq: number;
  readings: ReadingInput[];
  /** Set for a report: the command it answers, and the connection the command came on. */
  commandId?: string;
  commandConnection?: number;
  sent: boolean;
  /** Settled without an ack: refused by the hub, or handed to a fresh message to retry. Never written again. */
  settled: boolean;
}

/** Counted in readings, not messages: that is what people watching a fleet care about. */
export interface OutboxCounts {
  /** Written to a hub at least once. */
  sentReadings: number;
  /** Written again on a later connection. */
  resentReadings: number;
  ackedReadings: number;
  /** Kept until an ack covers them: in flight or not yet written. */
  bufferedReadings: number;
  /** Given up because the buffer was full. */
  droppedReadings: number;
  /** Refused by the hub with an error naming their seq (400, 404, 422): resending would fail the same way. */
  rejectedReadings: number;
}

export class Outbox {
  readonly counts: OutboxCounts = {
    sentReadings: 0,
    resentReadings: 0,
    ackedReadings: 0,
    bufferedReadings: 0,
    droppedReadings: 0,
    rejectedReadings: 0,
  };
  private readonly buffer: UnackedBuffer<Pending>;
  // Never reset: a resent message keeps its seq, so seq keeps rising on every connection.
  private nextSeq = 1;
  private connectionNo = 0;
  /** How many of the oldest kept messages the current connection has carried; always a prefix, as they go out in order. */
  private writtenCount = 0;

  constructor(maxMessages: number) {
    this.buffer = new UnackedBuffer(maxMessages);
  }

  /** A new connection has carried nothing yet, so everything kept is due again. */
  newConnection(): void {
    this.connectionNo++;
    this.writtenCount = 0;
  }

  /** Keeps readings under the next seq; with `commandId`, as the report answering that command on this connection. */
  add(readings: ReadingInput[], commandId?: string): void {
    const message: Pending = { seq: this.nextSeq++, readings, sent: false, settled: false };
    if (commandId !== undefined) {
      message.commandId = commandId;
      message.commandConnection = this.connectionNo;
    }
    this.push(message);
  }

  /** True while this connection has carried messages that no ack has covered yet. */
  get inFlight(): boolean {
    return this.writtenCount > 0;
  }

  /** The oldest message this connection has not carried, counted as carried from now; undefined when none is left. */
  takeNext(): SensorMessage | undefined {
    let m = this.buffer.at(this.writtenCount);
    // Settled messages keep their place, so the carried ones stay a prefix, but never go out again.
    while (m !== undefined && m.settled) m = this.buffer.at(++this.writtenCount);
    if (m === undefined) return undefined;
    this.writtenCount++;
    if (m.sent) this.counts.resentReadings += m.readings.length;
    else this.counts.sentReadings += m.readings.length;
    m.sent = true;
    // The hub forgets a command with the connection it came on; a report resent later would
    // get 404, so it travels as a plain batch with the same seq and readings.
    if (m.commandId !== undefined && m.commandConnection === this.connectionNo) {
      return { type: 'report', id: m.commandId, seq: m.seq, readings: m.readings };
    }
    return { type: 'batch', seq: m.seq, readings: m.readings };
  }

  /** Forgets what this connection carried with a seq up to `seq`; anything else is not yet the hub's. */
  ack(seq: number): void {
    for (let head = this.buffer.at(0); head !== undefined && this.writtenCount > 0 && head.seq <= seq; head = this.buffer.at(0)) {
      this.buffer.shift();
      this.writtenCount--;
      if (head.settled) continue;
      this.counts.ackedReadings += head.readings.length;
      this.counts.bufferedReadings -= head.readings.length;
    }
  }

  /** The hub refused the message with this seq for good (its error named the seq): it is never sent again. */
  reject(seq: number): void {
    const m = this.carried(seq);
    if (m === undefined) return;
    this.settle(m);
    this.counts.rejectedReadings += m.readings.length;
  }

  /**
   * The hub failed to store the message with this seq (500). Its ack will still cover it, so
   * its readings go again under a new seq; their ts is unchanged, so the store keeps them once.
   */
  retryLater(seq: number): void {
    const m = this.carried(seq);
    if (m === undefined) return;
    this.settle(m);
    this.push({ seq: this.nextSeq++, readings: m.readings, sent: true, settled: false });
  }

  private push(message: Pending): void {
    this.counts.bufferedReadings += message.readings.length;
    const dropped = this.buffer.push(message);
    if (dropped === undefined) return;
    if (this.writtenCount > 0) this.writtenCount--;
    if (dropped.settled) return;
    this.counts.droppedReadings += dropped.readings.length;
    this.counts.bufferedReadings -= dropped.readings.length;
  }

  /** A message this connection carried, by seq; errors only ever name those. */
  private carried(seq: number): Pending | undefined {
    for (let i = 0; i < this.writtenCount; i++) {
      const m = this.buffer.at(i)!;
      if (m.seq === seq) return m.settled ? undefined : m;
      if (m.seq > seq) return undefined;
    }
    return undefined;
  }

  private settle(m: Pending): void {
    m.settled = true;
    this.counts.bufferedReadings -= m.readings.length;
  }
}
