/**
 * What the session fuzz sent and what the hub answered, over every run of the file, and the
 * invariants of PROTOCOL.md §1 checked against what the hub stored:
 *   - an ack covers only messages whose readings are stored, or that were answered with an error;
 *   - an ack never names a seq the connection did not send;
 *   - after `bye`, the last ack covers every message the hub took without an error;
 *   - at most one stored reading per (sensor, metric, ts);
 *   - every stored reading is one that was sent, by a message answered with no error, with the
 *     sender's room, its ts (or the hub's time while it was handled) and the contract's unit.
 * Every reading's value is unique in the file, so a stored row names the reading it came from.
 */

export interface SentReading {
  sensor: string;
  room: string;
  metric: string;
  /** the unit the contract says it is stored with */
  unit: string;
  ts: number | undefined;
  value: number;
}

export interface SentMessage {
  conn: number;
  line: string;
  /** the message's seq when it is a valid one (the only kind an ack can cover) */
  seq: number | undefined;
  readings: SentReading[];
  /** error codes the hub answered this line with, before the pong that followed it */
  errors: number[];
  /** whether the pong after it came (so the hub handled it), or the connection closed first */
  handled: boolean;
  sentAt: number;
  answeredAt: number;
}

export interface ConnRecord {
  id: number;
  maxAck: number;
  maxSeqSent: number;
  /** closed after our bye (so its last ack must cover what was taken) */
  byeClosed: boolean;
}

export interface StoredRow {
  ts: number;
  sensor: string;
  room: string;
  metric: string;
  value: number;
  unit: string;
}

export class SessionModel {
  readonly messages: SentMessage[] = [];
  readonly conns: ConnRecord[] = [];
  private nextValue = 1;
  /** by `${sensor}\0${metric}\0${ts}`: values sent for that identity by messages the hub took */
  private readonly byIdentity = new Map<string, Set<number>>();

  value(): number {
    return this.nextValue++;
  }

  newConn(): ConnRecord {
    const c: ConnRecord = { id: this.conns.length, maxAck: -1, maxSeqSent: -1, byeClosed: false };
    this.conns.push(c);
    return c;
  }

  record(m: SentMessage): void {
    this.messages.push(m);
    if (m.errors.length > 0) return;
    for (const r of m.readings) {
      if (r.ts === undefined) continue;
      const key = identity(r.sensor, r.metric, r.ts);
      let set = this.byIdentity.get(key);
      if (!set) this.byIdentity.set(key, (set = new Set()));
      set.add(r.value);
    }
  }

  /** How much the checks covered: acked messages with readings, and lines answered with errors. */
  coverage(): { acked: number; refused: number } {
    const acked = this.messages.filter((m) => m.seq !== undefined && m.readings.length > 0 && this.conns[m.conn]!.maxAck >= m.seq).length;
    return { acked, refused: this.messages.filter((m) => m.errors.length > 0).length };
  }

  summary(stored: number): string {
    const { acked, refused } = this.coverage();
    return `${this.messages.length} lines on ${this.conns.length} connections, ${acked} acked messages with readings, ${refused} answered with errors, ${stored} rows stored`;
  }

  /** Every broken invariant, as sentences (empty: all hold). */
  check(stored: StoredRow[]): string[] {
    const problems: string[] = [];
    const byValue = new Map<number, StoredRow>();
    const byKey = new Map<string, StoredRow>();
    /** by `${sensor}\0${metric}`: stored ts */
    const tsBySeries = new Map<string, number[]>();
    for (const row of stored) {
      const key = identity(row.sensor, row.metric, row.ts);
      if (byKey.has(key))
        problems.push(`stored twice: (${row.sensor}, ${row.metric}, ${row.ts}), values ${byKey.get(key)!.value} and ${row.value}`);
      byKey.set(key, row);
      byValue.set(row.value, row);
      const s = `${row.sensor}\0${row.metric}`;
      (tsBySeries.get(s) ?? tsBySeries.set(s, []).get(s)!).push(row.ts);
    }
    const sentByValue = new Map<number, { r: SentReading; m: SentMessage }>();
    for (const m of this.messages) for (const r of m.readings) sentByValue.set(r.value, { r, m });

    for (const row of stored) {
      const sent = sentByValue.get(row.value);
      if (!sent) {
        problems.push(`stored but never sent: ${JSON.stringify(row)}`);
        continue;
      }
      const { r, m } = sent;
      const where = `value ${row.value} (${m.line.slice(0, 160)})`;
      if (m.errors.length > 0) problems.push(`stored although answered with error ${m.errors.join(',')}: ${where}`);
      if (row.sensor !== r.sensor || row.metric !== r.metric || row.room !== r.room)
        problems.push(`stored as (${row.sensor}, ${row.room}, ${row.metric}), sent as (${r.sensor}, ${r.room}, ${r.metric}): ${where}`);
      if (row.unit !== r.unit)
        problems.push(`stored with unit ${JSON.stringify(row.unit)}, the contract's unit is ${JSON.stringify(r.unit)}: ${where}`);
      if (r.ts !== undefined ? row.ts !== r.ts : row.ts < m.sentAt || row.ts > m.answeredAt)
        problems.push(`stored with ts ${row.ts}, sent with ${r.ts ?? `none (hub time ${m.sentAt}..${m.answeredAt})`}: ${where}`);
    }

    for (const m of this.messages) {
      const c = this.conns[m.conn]!;
      if (m.seq === undefined || c.maxAck < m.seq || m.errors.length > 0) continue;
      for (const r of m.readings) {
        const where = `ack ${c.maxAck} on connection ${c.id} covers seq ${m.seq} (${m.line.slice(0, 160)})`;
        if (r.ts !== undefined) {
          const row = byKey.get(identity(r.sensor, r.metric, r.ts));
          if (!row) problems.push(`acked but not stored: (${r.sensor}, ${r.metric}, ${r.ts}) value ${r.value}; ${where}`);
          else if (!this.byIdentity.get(identity(r.sensor, r.metric, r.ts))?.has(row.value))
            problems.push(
              `identity (${r.sensor}, ${r.metric}, ${r.ts}) holds value ${row.value}, which no accepted message sent for it; ${where}`,
            );
        } else if (!byValue.has(r.value)) {
          const near = (tsBySeries.get(`${r.sensor}\0${r.metric}`) ?? []).some((ts) => ts >= m.sentAt && ts <= m.answeredAt);
          if (!near) problems.push(`acked but not stored: (${r.sensor}, ${r.metric}, hub time) value ${r.value}; ${where}`);
        }
      }
    }

    for (const c of this.conns) {
      if (c.maxAck > c.maxSeqSent) problems.push(`connection ${c.id} got ack ${c.maxAck}, above the highest seq it sent (${c.maxSeqSent})`);
      if (!c.byeClosed) continue;
      const taken = this.messages.filter((m) => m.conn === c.id && m.seq !== undefined && m.handled && m.errors.length === 0);
      const highest = Math.max(-1, ...taken.map((m) => m.seq!));
      if (c.maxAck < highest)
        problems.push(
          `connection ${c.id} said bye and was closed with last ack ${c.maxAck}, below seq ${highest} it sent and the hub took`,
        );
    }
    return problems;
  }
}

function identity(sensor: string, metric: string, ts: number): string {
  return `${sensor}\0${metric}\0${ts}`;
}
