/**
 * The last few ts stored per channel (sensor, metric), kept by a cluster hub so that a reading
 * sent again (a sensor resending its outbox after a reconnect, or to another hub) is not
 * streamed live a second time and is counted as a duplicate, as the contract's stream promises
 * ("never a duplicate"). A cluster hub cannot ask PostgreSQL at commit time (the writers lag the
 * stream), so this is what it knows: the ts of its own commits and of every bundle it follows.
 *
 * Bounded: RING ts per channel (32 bytes). It is not what keeps an older repeat off the stream:
 * a reading not newer than its channel's newest is late, streamed by no hub from the bundle,
 * only when a writer found it new in PostgreSQL (bundle.ts, follower.ts). Here it keeps an
 * in-order reading seen already off the stream, and counts a recent repeat as a duplicate in the
 * hub's /metrics; an older repeat counts as stored there (the writers' counts are exact).
 */
const RING = 4;

export class RecentIdentities {
  /** channel c's ring is ts[c * RING .. c * RING + RING); NaN where empty */
  private ts = new Float64Array(1024 * RING).fill(NaN);
  private next = new Uint8Array(1024);

  /** Records (channel, ts) as stored. */
  add(channel: number, ts: number): void {
    this.grow(channel);
    const at = this.next[channel]!;
    this.ts[channel * RING + at] = ts;
    this.next[channel] = (at + 1) % RING;
  }

  /** Whether (channel, ts) is among the channel's recent ones; if not, records it. */
  repeat(channel: number, ts: number): boolean {
    this.grow(channel);
    const base = channel * RING;
    for (let i = 0; i < RING; i++) if (this.ts[base + i] === ts) return true;
    this.add(channel, ts);
    return false;
  }

  private grow(channel: number): void {
    if (channel < this.next.length) return;
    let size = this.next.length;
    while (size <= channel) size *= 2;
    const ts = new Float64Array(size * RING).fill(NaN);
    ts.set(this.ts);
    const next = new Uint8Array(size);
    next.set(this.next);
    this.ts = ts;
    this.next = next;
  }
}
