/**
 * A sensor for the fault harness that does what PROTOCOL.md §1 asks of every sensor, and records
 * everything: it keeps each message until an ack covers it, sends the unacknowledged ones again
 * (in order, with their seq) after every reconnect, drops a message only when the hub answers it
 * with 422 or 500 (its seq named), and reconnects with backoff and jitter after any close. The
 * harness then checks the store against `outcomes`: what was acked, refused, or neither.
 */
import net from 'node:net';
import { LineSplitter } from '../../protocol/line-splitter.ts';

export interface FaultReading {
  metric: string;
  value: number;
  ts: number;
}

export interface FaultMessage {
  seq: number;
  readings: FaultReading[];
}

export interface Outcome {
  /** when an ack first covered it, on the connection it was last sent on */
  ackedAt?: number;
  /** 422 or 500 with its seq: the hub says it was not stored */
  refused?: { code: number; message: string };
  /** how many times it was written to a socket */
  sends: number;
}

export interface SensorLog {
  connections: number;
  /** every error the hub sent, with the time */
  errors: { code: number; seq?: number; message: string; at: number }[];
  /** every ack, with the time */
  acks: { seq: number; at: number }[];
}

export interface ResendingSensorOptions {
  sensor: string;
  room: string;
  /** the hub's sensor port now (a restarted hub has a new one) */
  port: () => number;
  /** the next message to send, or null when there is none yet (or ever) */
  produce: () => FaultMessage | null;
  /** messages in flight on one connection */
  window?: number;
  /** a seeded random source for the reconnect jitter */
  random: () => number;
}

const REFUSED = new Set([422, 500]);

export class ResendingSensor {
  readonly outcomes = new Map<number, Outcome>();
  readonly messages = new Map<number, FaultMessage>();
  readonly log: SensorLog = { connections: 0, errors: [], acks: [] };
  /** not yet acked or refused, in seq order */
  private pending: FaultMessage[] = [];
  /** seqs written on the current connection, in order */
  private inFlight: number[] = [];
  private socket: net.Socket | null = null;
  private welcomed = false;
  private stopped = false;
  private exhausted = false;
  private attempt = 0;
  private reconnectTimer: NodeJS.Timeout | null = null;
  private waiters: (() => void)[] = [];

  constructor(private readonly o: ResendingSensorOptions) {}

  get id(): string {
    return this.o.sensor;
  }

  start(): void {
    this.connect();
  }

  /** Every message produced so far is acked or refused, and the producer has no more. */
  get done(): boolean {
    return this.exhausted && this.pending.length === 0;
  }

  /** Resolves when `done`; rejects after `timeoutMs` with what is still pending. */
  finished(timeoutMs: number): Promise<void> {
    if (this.done) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        const first = this.pending[0];
        reject(
          new Error(
            `${this.o.sensor}: ${this.pending.length} message(s) neither acked nor refused after ${timeoutMs} ms (first seq ${first?.seq}); ` +
              `${this.log.connections} connections, last errors ${JSON.stringify(this.log.errors.slice(-3))}`,
          ),
        );
      }, timeoutMs);
      this.waiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  /** Stops producing, sending and reconnecting, and closes the connection. */
  stop(): void {
    this.stopped = true;
    if (this.reconnectTimer) clearTimeout(this.reconnectTimer);
    this.socket?.destroy();
  }

  /** Asks the producer again (it had nothing before): call after it has more. */
  pump(): void {
    if (!this.welcomed || this.stopped || !this.socket) return;
    const window = this.o.window ?? 4;
    while (this.inFlight.length < window) {
      const sentHere = new Set(this.inFlight);
      let next = this.pending.find((m) => !sentHere.has(m.seq) && m.seq > (this.inFlight.at(-1) ?? -1));
      if (!next && !this.exhausted) {
        const made = this.o.produce();
        if (made === null) {
          this.exhausted = true;
          this.settle();
          break;
        }
        this.messages.set(made.seq, made);
        this.outcomes.set(made.seq, { sends: 0 });
        this.pending.push(made);
        next = made;
      }
      if (!next) break;
      this.inFlight.push(next.seq);
      this.outcomes.get(next.seq)!.sends++;
      this.socket.write(JSON.stringify({ type: 'batch', seq: next.seq, readings: next.readings }) + '\n');
    }
  }

  private connect(): void {
    if (this.stopped) return;
    this.log.connections++;
    this.welcomed = false;
    this.inFlight = [];
    const socket = net.connect({ host: '127.0.0.1', port: this.o.port() });
    this.socket = socket;
    const splitter = new LineSplitter(1 << 20);
    socket.setNoDelay(true);
    socket.on('connect', () => socket.write(JSON.stringify({ type: 'hello', v: 1, sensor: this.o.sensor, room: this.o.room }) + '\n'));
    socket.on('data', (chunk: Buffer) => splitter.push(chunk, (line) => this.onLine(line)));
    socket.on('error', () => {}); // refused or reset: the close handler reconnects
    socket.on('close', () => {
      if (this.socket !== socket) return;
      this.socket = null;
      this.welcomed = false;
      if (this.stopped || this.done) return;
      // Exponential backoff with full jitter, 20 ms to 1 s.
      const cap = Math.min(1000, 20 * 2 ** Math.min(this.attempt++, 6));
      this.reconnectTimer = setTimeout(() => this.connect(), 10 + this.o.random() * cap);
    });
  }

  private onLine(line: string): void {
    let m: { type?: string; seq?: number; code?: number; message?: string };
    try {
      m = JSON.parse(line) as typeof m;
    } catch {
      return;
    }
    const at = Date.now();
    if (m.type === 'welcome') {
      this.welcomed = true;
      this.attempt = 0;
      this.pump();
    } else if (m.type === 'ack' && typeof m.seq === 'number') {
      this.log.acks.push({ seq: m.seq, at });
      // An ack covers what this connection carried up to its seq, and nothing sent elsewhere.
      const covered = new Set(this.inFlight.filter((s) => s <= m.seq!));
      this.inFlight = this.inFlight.filter((s) => s > m.seq!);
      this.pending = this.pending.filter((p) => {
        if (!covered.has(p.seq)) return true;
        this.outcomes.get(p.seq)!.ackedAt ??= at;
        return false;
      });
      this.settle();
      this.pump();
    } else if (m.type === 'error') {
      const code = Number(m.code);
      this.log.errors.push({ code, ...(typeof m.seq === 'number' ? { seq: m.seq } : {}), message: String(m.message), at });
      if (typeof m.seq === 'number' && REFUSED.has(code) && this.inFlight.includes(m.seq)) {
        this.outcomes.get(m.seq)!.refused = { code, message: String(m.message) };
        this.pending = this.pending.filter((p) => p.seq !== m.seq);
        this.settle();
      }
    }
  }

  private settle(): void {
    if (!this.done) return;
    for (const w of this.waiters.splice(0)) w();
    this.socket?.end();
  }
}
