/**
 * A fleet of raw TCP sensors for the cluster's fault tests and bench that records everything:
 * each sensor sends batches whose readings carry ts (unique per sensor and metric) and each
 * batch a seq, keeps a batch until an ack covers it (an error naming its seq puts it back to be
 * sent again), and when its connection ends (a hub killed, stopped or refusing) moves to the
 * next hub in the list and resends what was not acked, as PROTOCOL.md §1 asks of a sensor. So
 * after `drain()` every reading sent has been acked, and the test can compare that record with
 * what PostgreSQL holds.
 *
 *   const fleet = new RecordingFleet({ sensors: 20, prefix: 'f', ports: () => [hubA.tcpPort, hubB.tcpPort] });
 *   await fleet.start();
 *   await fleet.waitAcked(fleet.ackedCount() + 500);
 *   ... fault ...
 *   fleet.stopSending();
 *   await fleet.drain();
 */
import net from 'node:net';
import { LineSplitter } from '../../protocol/line-splitter.ts';

export interface SentReading {
  sensor: string;
  metric: string;
  ts: number;
  value: number;
}

export interface FleetOptions {
  sensors: number;
  /** sensor ids are `<prefix>-<n>` */
  prefix: string;
  /** the hubs' sensor ports, read at each connect: sensor i starts at port i mod n and moves to the next on a close */
  ports: () => readonly number[];
  room?: string;
  readingsPerBatch?: number;
  /** batches a sensor sends and holds unacked at once */
  window?: number;
  /** ms between a sensor's batches while its window has room */
  intervalMs?: number;
}

/** A sensor that lost its connection, and when another hub first acked it again. */
export interface Move {
  sensor: string;
  fromPort: number;
  toPort: number;
  lostAt: number;
  /** undefined until acked on the new connection */
  reackedAt?: number;
}

const METRICS = ['temperature', 'humidity'] as const;
const UNITS: Record<(typeof METRICS)[number], string> = { temperature: 'C', humidity: '%' };

interface Batch {
  readings: SentReading[];
  seq: number;
  /** when it was last written to a hub */
  sentAt: number;
}

export const readingKey = (r: { sensor: string; metric: string; ts: number }): string => `${r.sensor}|${r.metric}|${r.ts}`;

export class RecordingFleet {
  /** every reading sent, by identity (sensor, metric, ts) */
  private readonly sent = new Map<string, SentReading>();
  private readonly acked = new Set<string>();
  private readonly sensors: FleetSensor[] = [];
  private readonly waiters: { n: number; resolve: () => void }[] = [];
  /** every error line a hub sent, with the sensor */
  readonly errors: { sensor: string; code: number; message: string }[] = [];
  readonly moves: Move[] = [];
  /** ms from a batch's write to the ack covering it, the latest 10,000 */
  readonly ackLatencies: number[] = [];
  sending = true;
  closing = false;

  constructor(readonly options: FleetOptions) {
    const t0 = Date.now();
    for (let i = 0; i < options.sensors; i++) {
      // ts are t0 + k ms, k counting the sensor's readings: unique per sensor, near now
      this.sensors.push(new FleetSensor(this, `${options.prefix}-${String(i + 1).padStart(3, '0')}`, i, t0));
    }
  }

  /** Connects every sensor; resolves once each has had a welcome. */
  async start(): Promise<void> {
    await Promise.all(this.sensors.map((s) => s.connect()));
  }

  ackedCount(): number {
    return this.acked.size;
  }

  sentCount(): number {
    return this.sent.size;
  }

  /** Every distinct reading sent. */
  sentReadings(): SentReading[] {
    return [...this.sent.values()];
  }

  /** Every reading an ack covered. */
  ackedReadings(): SentReading[] {
    return [...this.acked].map((k) => this.sent.get(k)!);
  }

  /** Resolves once `n` distinct readings have been acked. */
  waitAcked(n: number, timeoutMs = 60_000): Promise<void> {
    if (this.acked.size >= n) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`${n} readings acked: only ${this.acked.size} within ${timeoutMs} ms; ${this.describe()}`)),
        timeoutMs,
      );
      this.waiters.push({ n, resolve: () => (clearTimeout(timer), resolve()) });
    });
  }

  /** Ports of the sensors' current connections (a sensor between hubs counts as none). */
  connectedPorts(): number[] {
    return this.sensors.map((s) => s.port).filter((p): p is number => p !== undefined);
  }

  /** No new batches from now on; unacked ones are still sent until acked. */
  stopSending(): void {
    this.sending = false;
  }

  /** Resolves once every reading sent has been acked. */
  async drain(timeoutMs = 60_000): Promise<void> {
    await this.waitAcked(this.sent.size, timeoutMs);
  }

  /** Closes every connection; no reconnects after. */
  close(): void {
    this.closing = true;
    for (const s of this.sensors) s.close();
  }

  describe(): string {
    const held = this.sensors.reduce((n, s) => n + s.heldBatches(), 0);
    const codes = [...new Set(this.errors.map((e) => `${e.code} ${e.message}`))].slice(0, 5);
    return (
      `sent ${this.sent.size}, acked ${this.acked.size}, batches held ${held}, ` +
      `connected ${this.connectedPorts().length}/${this.sensors.length}, moves ${this.moves.length}` +
      (codes.length ? `, errors: ${codes.join('; ')}` : '')
    );
  }

  /** @internal */
  recordSent(r: SentReading): void {
    this.sent.set(readingKey(r), r);
  }

  /** @internal */
  recordAcked(readings: SentReading[]): void {
    for (const r of readings) this.acked.add(readingKey(r));
    for (let i = this.waiters.length - 1; i >= 0; i--) {
      if (this.acked.size >= this.waiters[i]!.n) this.waiters.splice(i, 1)[0]!.resolve();
    }
  }
}

class FleetSensor {
  /** the port of the current connection once welcomed */
  port: number | undefined;
  private socket: net.Socket | undefined;
  private readonly toSend: Batch[] = [];
  /** sent on the current connection, awaiting an ack */
  private inFlight: Batch[] = [];
  private nextSeq = 1;
  private made = 0;
  /** which hub of the list: the sensor's index, plus one for each connection lost or refused */
  private offset = 0;
  /** dials in a row that got no welcome: the backoff */
  private failures = 0;
  private timer: NodeJS.Timeout | undefined;
  private lost: Move | undefined;
  private welcomed: (() => void) | undefined;

  constructor(
    private readonly fleet: RecordingFleet,
    readonly id: string,
    private readonly index: number,
    private readonly t0: number,
  ) {}

  heldBatches(): number {
    return this.toSend.length + this.inFlight.length;
  }

  connect(): Promise<void> {
    return new Promise((resolve) => {
      this.welcomed = resolve;
      this.dial();
    });
  }

  close(): void {
    clearInterval(this.timer);
    clearTimeout(this.timer);
    this.socket?.destroy();
  }

  private dial(): void {
    if (this.fleet.closing) return;
    const ports = this.fleet.options.ports();
    const port = ports[(this.index + this.offset) % ports.length]!;
    const socket = net.connect({ host: '127.0.0.1', port });
    this.socket = socket;
    socket.setNoDelay(true);
    const splitter = new LineSplitter(1 << 20);
    let welcomed = false;
    socket.on('connect', () => {
      socket.write(JSON.stringify({ type: 'hello', v: 1, sensor: this.id, room: this.fleet.options.room ?? 'lab' }) + '\n');
    });
    socket.on('data', (chunk: Buffer) =>
      splitter.push(chunk, (line) => {
        const m = JSON.parse(line) as { type: string; seq?: number; code?: number; message?: string; id?: string; command?: string };
        if (m.type === 'welcome') {
          welcomed = true;
          this.port = port;
          this.failures = 0;
          if (this.lost) this.lost.toPort = port;
          this.welcomed?.();
          this.welcomed = undefined;
          // what the last connection did not see acked goes first, with new seqs
          this.toSend.unshift(...this.inFlight);
          this.inFlight = [];
          this.pump(true);
          this.timer = setInterval(() => this.pump(true), this.fleet.options.intervalMs ?? 100);
        } else if (m.type === 'ack' && typeof m.seq === 'number') {
          this.onAck(m.seq);
        } else if (m.type === 'error') {
          this.fleet.errors.push({ sensor: this.id, code: m.code ?? 0, message: m.message ?? '' });
          if (typeof m.seq === 'number') this.onRefused(m.seq);
        } else if (m.type === 'command' && m.command === 'report-now') {
          socket.write(JSON.stringify({ type: 'error', id: m.id, code: 501, message: 'this sensor reports only on its own' }) + '\n');
        }
      }),
    );
    socket.on('error', () => {}); // a refused or reset connection: 'close' follows and moves on
    socket.on('close', () => {
      if (this.socket !== socket) return;
      this.socket = undefined;
      clearInterval(this.timer);
      if (welcomed) {
        this.port = undefined;
        this.lost = { sensor: this.id, fromPort: port, toPort: -1, lostAt: Date.now() };
        this.fleet.moves.push(this.lost);
      }
      this.toSend.unshift(...this.inFlight);
      this.inFlight = [];
      if (this.fleet.closing) return;
      // the next hub of the list, at once after a lost connection, with a growing pause while none answers
      this.offset++;
      if (!welcomed) this.failures++;
      this.timer = setTimeout(() => this.dial(), Math.min(50 * this.failures, 500));
    });
  }

  /**
   * Sends what the window has room for: held batches first, then, on the interval's tick and
   * while the fleet is sending, one new batch (so the load is paced, not driven by acks).
   */
  private pump(tick: boolean): void {
    const socket = this.socket;
    if (!socket || this.port === undefined) return;
    const window = this.fleet.options.window ?? 2;
    let fresh = tick && this.fleet.sending;
    while (this.inFlight.length < window) {
      let batch = this.toSend.shift();
      if (!batch) {
        if (!fresh) break;
        fresh = false;
        batch = this.makeBatch();
      }
      batch.seq = this.nextSeq++;
      batch.sentAt = Date.now();
      this.inFlight.push(batch);
      const readings = batch.readings.map((r) => ({ metric: r.metric, value: r.value, unit: UNITS[r.metric as 'temperature'], ts: r.ts }));
      socket.write(JSON.stringify({ type: 'batch', seq: batch.seq, readings }) + '\n');
    }
  }

  private makeBatch(): Batch {
    const n = this.fleet.options.readingsPerBatch ?? 5;
    const readings: SentReading[] = [];
    for (let i = 0; i < n; i++, this.made++) {
      const r = { sensor: this.id, metric: METRICS[this.made % 2]!, ts: this.t0 + this.made, value: this.made / 10 };
      this.fleet.recordSent(r);
      readings.push(r);
    }
    return { readings, seq: 0, sentAt: 0 };
  }

  private onAck(seq: number): void {
    const covered = this.inFlight.filter((b) => b.seq <= seq);
    if (covered.length === 0) return;
    this.inFlight = this.inFlight.filter((b) => b.seq > seq);
    if (this.lost && this.lost.reackedAt === undefined) {
      this.lost.reackedAt = Date.now();
      this.lost = undefined;
    }
    const now = Date.now();
    for (const b of covered) this.fleet.ackLatencies.push(now - b.sentAt);
    if (this.fleet.ackLatencies.length > 20_000) this.fleet.ackLatencies.splice(0, 10_000);
    this.fleet.recordAcked(covered.flatMap((b) => b.readings));
    this.pump(false);
  }

  /** An error that names a batch's seq: it was not stored; send it again (with a new seq). */
  private onRefused(seq: number): void {
    const at = this.inFlight.findIndex((b) => b.seq === seq);
    if (at < 0) return;
    this.toSend.push(this.inFlight.splice(at, 1)[0]!);
  }
}
