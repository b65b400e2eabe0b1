/**
 * The messages one MQTT connection holds until the bridge is done with them, in arrival order.
 * A QoS 1 message owes the broker a PUBACK, and PUBACKs go out in the order their messages
 * arrived (MQTT 5 §4.6): settling a message acknowledges it once every message before it is
 * settled too. QoS 0 messages are held as well, though they owe nothing: the broker sends them
 * regardless of the Receive Maximum, so both bounds (messages and bytes) must count them.
 */

/** A message held until the bridge is done with it. */
export interface Held {
  /** 0: QoS 0, nothing to acknowledge */
  readonly messageId: number;
  readonly bytes: number;
  /** the connection it arrived on; a later one makes settling it moot (the broker sends it again) */
  readonly generation: number;
  settled: boolean;
}

export class HeldMessages {
  /** in arrival order */
  private held: Held[] = [];
  private bytes = 0;

  constructor(
    /** at most this many held before the connection should stop reading */
    private readonly maxMessages: number,
    private readonly maxBytes: number,
  ) {}

  get count(): number {
    return this.held.length;
  }

  add(messageId: number, bytes: number, generation: number): Held {
    const h: Held = { messageId, bytes, generation, settled: false };
    this.held.push(h);
    this.bytes += bytes;
    return h;
  }

  /** Over a bound: stop reading the socket. */
  get full(): boolean {
    return this.bytes > this.maxBytes || this.held.length > this.maxMessages;
  }

  /** Back under half of both bounds: read again. */
  get roomy(): boolean {
    return this.bytes <= this.maxBytes / 2 && this.held.length <= this.maxMessages / 2;
  }

  /**
   * Takes the settled messages at the front and returns their PUBACKs as one buffer (reason 0,
   * no properties: 4 bytes each, MQTT 5 §3.4.2.1), or null when none is owed.
   */
  takeAcks(): Buffer | null {
    let n = 0;
    while (n < this.held.length && this.held[n]!.settled) n++;
    if (n === 0) return null;
    const acks = Buffer.allocUnsafe(n * 4);
    let o = 0;
    for (let i = 0; i < n; i++) {
      const done = this.held[i]!;
      this.bytes -= done.bytes;
      if (done.messageId === 0) continue;
      acks[o] = 0x40;
      acks[o + 1] = 2;
      acks.writeUInt16BE(done.messageId, o + 2);
      o += 4;
    }
    this.held = n === this.held.length ? [] : this.held.slice(n);
    if (o === 0) return null;
    return o === acks.length ? acks : acks.subarray(0, o);
  }

  /** The connection is gone: the broker will send the QoS 1 ones again. */
  clear(): void {
    this.held = [];
    this.bytes = 0;
  }
}
