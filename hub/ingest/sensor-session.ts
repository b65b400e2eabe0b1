/**
 * One sensor connection as a state machine: greeting (until hello), active, closing (our last
 * line is out) and closed. Holds the session rules of PROTOCOL.md §1: hello first, seq order,
 * errors with the contract's codes and 429 for a flood of them, acks only after commit.
 * What each message does is in handlers/, one function per message type. Lines are handled
 * synchronously as they arrive; readings go straight into the group commit.
 */
import type { Socket } from 'node:net';
import { ErrorCode } from '../../protocol/codes.ts';
import { checkSensorMessage, parseJsonObject, type WireError } from '../../protocol/decode.ts';
import { LineSplitter } from '../../protocol/line-splitter.ts';
import { encodeLine, type HubMessage, type ReadingInput, type SensorMessage, type SensorMessageType } from '../../protocol/messages.ts';
import { DEFAULT_ROOM } from '../../protocol/names.ts';
import type { SensorRecord } from '../sensors/sensor-registry.ts';
import type { AckTarget } from './group-commit.ts';
import { handleBye } from './handlers/bye.ts';
import { handleHello } from './handlers/hello.ts';
import { handlePing } from './handlers/ping.ts';
import { handleBatch, handleReading } from './handlers/readings.ts';
import { handleReport } from './handlers/report.ts';
import { handleSensorError } from './handlers/sensor-error.ts';
import { paceAck, type PacedAck } from './ack-pacer.ts';
import { scanLine, scannedLine } from './batch-line.ts';
import { SensorLink, type LinkOwner } from './sensor-link.ts';
import { SeriesWriter } from './series-writer.ts';
import type { SessionContext } from './session-context.ts';

export type { CommandSink, IngestCounters, SessionContext, SessionLimits, StoredReading } from './session-context.ts';

/** Before hello, one of these other than hello or ping is a 401; a type not among them is the decoder's 400. */
const KNOWN_TYPES: ReadonlySet<string> = new Set<SensorMessageType>(['hello', 'reading', 'batch', 'report', 'ping', 'bye', 'error']);

type State = 'greeting' | 'active' | 'closing' | 'closed';

/** The lines the fast path read (batch-line.ts): one for every session, used within one call. */
const SCANNED = scannedLine();
/** The reading handed to the series writer for each scanned one: fields overwritten, never kept. */
const SCANNED_READING: ReadingInput = { metric: '', value: 0, ts: undefined };

/** Who a hello admitted (handlers/hello.ts). */
export interface Admission {
  sensor: string;
  room: string;
  /** the sensor token of the hello (null on a hub that asks for none) */
  tokenId: string | null;
  /** by metric: the unit the hello declared, or its default */
  declaredUnits: ReadonlyMap<string, string>;
}

export class SensorSession implements AckTarget, LinkOwner, PacedAck {
  private state: State = 'greeting';
  private readonly splitter: LineSplitter;
  sensorId: string | null = null;
  private room = DEFAULT_ROOM;
  private record: SensorRecord | null = null;
  private connectionId = 0;
  private writer: SeriesWriter | null = null;
  private lastSeq = -1;
  /** the highest seq an ack may cover: its message and every one before it is stored or was answered */
  private committedSeq = -1;
  private ackedSeq = -1;
  /** sweeps of the server while greeting: a slot is not held for a peer that never says hello */
  private greetingSweeps = 0;
  private errorWindowStart = 0;
  private errorsInWindow = 0;
  private readonly link: SensorLink;
  /** the sensor token this session said hello with (null on a hub that asks for none) */
  tokenId: string | null = null;

  constructor(
    socket: Socket,
    readonly ctx: SessionContext,
  ) {
    this.splitter = new LineSplitter(ctx.limits.maxLineBytes);
    // No timer and no closure per connection (10,000 idle sensors): the server's sweep keeps time.
    this.link = new SensorLink(socket, ctx.limits, this);
  }

  /** The server's sweep, every `sweepMs`: the hello deadline, then the idle limit. */
  sweep(sweepMs: number): void {
    if (this.state === 'closed') return;
    // After k sweeps, at least (k - 1) sweep periods have passed since the connection opened.
    if (this.state === 'greeting' && (++this.greetingSweeps - 1) * sweepMs >= this.ctx.limits.helloTimeoutMs) {
      this.closeWithError(ErrorCode.Unauthorized, `no hello within ${this.ctx.limits.helloTimeoutMs} ms; closing`);
      return;
    }
    this.link.sweep(sweepMs);
  }

  get address(): string {
    return this.link.address;
  }

  /** the peer's address without its port: connection caps count by it */
  get remoteHost(): string {
    return this.link.remoteHost;
  }

  get isGreeting(): boolean {
    return this.state === 'greeting';
  }

  get isActive(): boolean {
    return this.state === 'active';
  }

  get isClosed(): boolean {
    return this.state === 'closed';
  }

  get currentRoom(): string {
    return this.room;
  }

  /** Where this connection's readings go. Only handlers of messages that need a hello first ask. */
  get series(): SeriesWriter {
    return this.writer!;
  }

  pause(): void {
    this.link.pause();
  }

  resume(): void {
    this.link.resume();
  }

  /** Sends a message unless the peer has stopped reading; a frozen peer is dropped. */
  send(message: HubMessage): boolean {
    return this.sendLine(encodeLine(message));
  }

  sendLine(line: string | Buffer): boolean {
    if (this.state === 'closed') return false;
    // An ack that is due rides along with the line: one write instead of two (ack-pacer.ts).
    if (this.committedSeq > this.ackedSeq && typeof line === 'string') {
      this.ackedSeq = this.committedSeq;
      const sent = this.link.sendLine(encodeLine({ type: 'ack', seq: this.ackedSeq }) + line);
      if (sent) this.ctx.counters.acksSent++;
      return sent;
    }
    return this.link.sendLine(line);
  }

  // ---- greeting -> active ----

  /** The hello was accepted: this connection now speaks for its sensor, and an older one is replaced. */
  admit(a: Admission, now: number): void {
    this.tokenId = a.tokenId;
    this.sensorId = a.sensor;
    this.room = a.room;
    this.ctx.claim(this);
    this.record = this.ctx.registry.connect(a.sensor, a.room, this.address, a.declaredUnits, now);
    this.connectionId = this.record.connectionId;
    this.writer = new SeriesWriter(this.ctx, a.sensor, a.room, this.record, a.declaredUnits);
    this.state = 'active';
  }

  // ---- seq rules ----

  /** Checks that seq increases; false (and a 422) if not. */
  takeSeq(seq: number | undefined, now: number): boolean {
    if (seq === undefined) return true;
    if (seq <= this.lastSeq) {
      this.reject(
        { code: ErrorCode.InvalidValue, message: `seq ${seq} is not above the previous seq ${this.lastSeq} of this connection`, seq },
        now,
      );
      return false;
    }
    this.lastSeq = seq;
    return true;
  }

  /** A message with a seq was answered with an error: an ack may cover it once what came before is stored. */
  noteSeq(seq: number): void {
    if (seq > this.lastSeq) this.lastSeq = seq;
    this.ctx.commits.endMessage(this, seq);
  }

  /** The rows added since the last message are this one's; with a seq, an ack will cover it once they are stored. */
  endMessage(seq: number | undefined): void {
    this.ctx.commits.endMessage(this, seq);
  }

  // ---- acks (AckTarget) ----

  committed(seq: number): void {
    if (seq > this.committedSeq) this.committedSeq = seq;
  }

  /** After a commit: the ack goes out with the next slice of acks (ack-pacer.ts), or sooner with a line. */
  flushAck(): void {
    if (this.committedSeq > this.ackedSeq) paceAck(this);
  }

  /** Acks what is committed (coalesced: only the highest seq), unless a line sent meanwhile carried it. */
  writeDueAck(): void {
    if (this.committedSeq <= this.ackedSeq) return;
    this.ackedSeq = this.committedSeq;
    if (this.send({ type: 'ack', seq: this.ackedSeq })) this.ctx.counters.acksSent++;
  }

  refused(seq: number, message: string): void {
    // Answered before any ack can cover it: the contract's "or was answered with an error".
    this.send({ type: 'error', code: ErrorCode.Internal, message, seq });
    this.committed(seq);
  }

  storeUnavailable(message: string): void {
    this.writeDueAck();
    this.closeWithError(ErrorCode.ShuttingDown, message);
  }

  // ---- errors ----

  /** Answers an error; returns whether to keep reading this connection. */
  reject(error: WireError, now: number): boolean {
    this.countRejected(error.code);
    if (error.code === ErrorCode.VersionNotSupported) {
      this.closeWithError(error.code, error.message);
      return false;
    }
    this.send({ type: 'error', ...error });
    if (now - this.errorWindowStart > this.ctx.limits.errorWindowMs) {
      this.errorWindowStart = now;
      this.errorsInWindow = 0;
    }
    if (++this.errorsInWindow > this.ctx.limits.maxErrors) {
      this.closeWithError(
        ErrorCode.TooManyErrors,
        `more than ${this.ctx.limits.maxErrors} errors in ${this.ctx.limits.errorWindowMs} ms; closing`,
      );
      return false;
    }
    return true;
  }

  /** A hello turned away (401, 403): counted like any refusal, answered, and the connection closed. */
  deny(code: ErrorCode, message: string): void {
    this.countRejected(code);
    this.closeWithError(code, message);
  }

  /** Its token was revoked, or the hub now asks for one: it may no longer speak for its sensor. */
  unauthorized(message: string): void {
    this.closeWithError(ErrorCode.Unauthorized, message);
  }

  /** Refused at connect, before any line: too many connections (429). */
  refuse(code: ErrorCode, message: string): void {
    this.closeWithError(code, message);
  }

  /** Replaced by a newer connection of the same sensor. */
  replaced(): void {
    this.closeWithError(ErrorCode.Replaced, 'replaced by a newer connection');
  }

  // ---- closing ----

  /** The sensor said bye: what it sent is committed, acked, and then our side ends. */
  endAfterCommit(): void {
    this.state = 'closing';
    this.ctx.commits.afterNextCommit(() => {
      this.writeDueAck();
      this.link.end();
    });
  }

  /** Hub shutdown, after the last commit: the last ack (of what is stored, and only that), 503, close. */
  shutdown(): void {
    if (this.state === 'closed') return;
    this.writeDueAck();
    this.closeWithError(ErrorCode.ShuttingDown, 'shutting down; reconnect later');
  }

  /** Answers a last error and closes; nothing the peer sends after it is read. */
  closeWithError(code: ErrorCode, message: string): void {
    if (this.state === 'closed') return;
    this.send({ type: 'error', code, message });
    this.state = 'closing';
    this.link.endAndCut();
  }

  destroy(): void {
    this.link.destroy();
  }

  // ---- lines in ----

  /** Bytes from the link (LinkOwner). */
  onData(chunk: Buffer): void {
    const result = this.splitter.push(chunk, (line) => this.onLine(line));
    if (result === 'too-long') {
      this.closeWithError(ErrorCode.LineTooLong, `line longer than ${this.ctx.limits.maxLineBytes} bytes`);
    }
  }

  /** Returns whether to keep reading this chunk's lines. */
  private onLine(line: string): boolean {
    if (this.state === 'closed' || this.state === 'closing') return false;
    const now = this.ctx.now();
    if (this.state === 'active' && scanLine(line, now, SCANNED) && !this.series.mayGrowPastLimit(SCANNED.n)) return this.takeScanned(now);
    const parsed = parseJsonObject(line);
    if (!parsed.ok) return this.reject(parsed.error, now);
    const raw = parsed.message;
    if (this.state === 'greeting' && raw.type !== 'hello' && raw.type !== 'ping' && KNOWN_TYPES.has(raw.type)) {
      return this.reject({ code: ErrorCode.Unauthorized, message: 'hello required: send a hello first' }, now);
    }
    const checked = checkSensorMessage(raw, now);
    if (!checked.ok) {
      if (checked.error.seq !== undefined) this.noteSeq(checked.error.seq);
      return this.reject(checked.error, now);
    }
    this.ctx.counters.messages++;
    if (this.record) this.ctx.registry.touch(this.record, now);
    return this.handle(checked.message, now);
  }

  /** A valid batch or reading read by the fast path: what handleBatch and handleReading do, without objects. */
  private takeScanned(now: number): boolean {
    const scanned = SCANNED;
    const seq = scanned.seq < 0 ? undefined : scanned.seq;
    this.ctx.counters.messages++;
    this.ctx.registry.touch(this.record!, now);
    if (!this.takeSeq(seq, now)) return !this.isClosed;
    const series = this.series;
    const r = SCANNED_READING;
    for (let i = 0; i < scanned.n; i++) {
      r.metric = scanned.metric[i]!;
      r.value = scanned.value[i]!;
      const ts = scanned.ts[i]!;
      r.ts = ts === ts ? ts : undefined; // NaN: none
      series.add(r, now);
    }
    this.endMessage(seq);
    return true;
  }

  private handle(m: SensorMessage, now: number): boolean {
    switch (m.type) {
      case 'hello':
        return handleHello(this, m, now);
      case 'reading':
        return handleReading(this, m, now);
      case 'batch':
        return handleBatch(this, m, now);
      case 'report':
        return handleReport(this, m, now);
      case 'ping':
        return handlePing(this, m, now);
      case 'bye':
        return handleBye(this);
      case 'error':
        return handleSensorError(this, m);
    }
  }

  private countRejected(code: number): void {
    const rejected = this.ctx.counters.rejected;
    rejected.set(code, (rejected.get(code) ?? 0) + 1);
  }

  /** The link's socket closed (LinkOwner). */
  onClosed(): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    if (this.record) this.ctx.registry.disconnect(this.record, this.connectionId, this.ctx.now());
    this.ctx.release(this);
  }
}
