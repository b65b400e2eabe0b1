/**
 * One sensor connection: the session rules of PROTOCOL.md §1 (hello first, seq order,
 * takeover, acks after commit, errors with the contract's codes, 429 for a flood of errors).
 * Lines are handled synchronously as they arrive; readings go straight into the group commit.
 */
import type { Socket } from 'node:net';
import { SensorLink } from './sensor-link.ts';
import { ErrorCode } from '../../protocol/codes.ts';
import { checkSensorMessage, parseJsonObject, type WireError } from '../../protocol/decode.ts';
import { LineSplitter } from '../../protocol/line-splitter.ts';
import { encodeLine, type HubMessage, type ReadingInput, type SensorMessage } from '../../protocol/messages.ts';
import { DEFAULT_ROOM, defaultUnit } from '../../protocol/names.ts';
import type { SensorRecord } from '../sensor-registry.ts';
import type { AckTarget } from './group-commit.ts';
import type { Channel } from './series-catalog.ts';
import type { SessionContext, StoredReading } from './session-context.ts';

export type { CommandSink, IngestCounters, SessionContext, SessionLimits, StoredReading } from './session-context.ts';

const KNOWN_TYPES = new Set(['hello', 'reading', 'batch', 'report', 'ping', 'bye', 'error']);

interface CachedSeries {
  unit: string;
  seriesId: number;
  channel: Channel;
}

type State = 'greeting' | 'active' | 'closing' | 'closed';

export class SensorSession implements AckTarget {
  private state: State = 'greeting';
  private readonly splitter: LineSplitter;
  sensorId: string | null = null;
  private room = DEFAULT_ROOM;
  private record: SensorRecord | null = null;
  private connectionId = 0;
  private declaredUnits = new Map<string, string>();
  /** by metric: the series this connection's readings of it go to */
  private readonly seriesCache = new Map<string, CachedSeries>();
  private lastSeq = -1;
  /** the highest seq an ack may cover: its message and every one before it is stored or was answered */
  private committedSeq = -1;
  private ackedSeq = -1;
  /** a connection must say hello soon: a slot is not held for a peer that never does */
  private helloTimer: NodeJS.Timeout | null = null;
  private errorWindowStart = 0;
  private errorsInWindow = 0;
  private readonly link: SensorLink;
  /** the sensor token this session said hello with (null on a hub that asks for none) */
  tokenId: string | null = null;

  constructor(
    socket: Socket,
    private readonly ctx: SessionContext,
  ) {
    this.splitter = new LineSplitter(ctx.limits.maxLineBytes);
    this.link = new SensorLink(
      socket,
      ctx.limits,
      (chunk) => this.onData(chunk),
      () => this.onClosed(),
    );
    this.helloTimer = setTimeout(() => {
      if (this.state === 'greeting')
        this.closeWithError(ErrorCode.Unauthorized, `no hello within ${ctx.limits.helloTimeoutMs} ms; closing`);
    }, ctx.limits.helloTimeoutMs);
    this.helloTimer.unref();
  }

  get address(): string {
    return this.link.address;
  }

  /** the peer's address without its port: connection caps count by it */
  get remoteHost(): string {
    return this.link.remoteHost;
  }

  get isActive(): boolean {
    return this.state === 'active';
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
    return this.state !== 'closed' && this.link.sendLine(line);
  }

  get currentRoom(): string {
    return this.room;
  }

  committed(seq: number): void {
    if (seq > this.committedSeq) this.committedSeq = seq;
  }

  /** Acks what is committed (coalesced: only the highest seq). */
  flushAck(): void {
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
    this.flushAck();
    this.closeWithError(ErrorCode.ShuttingDown, message);
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

  /** Hub shutdown, after the last commit: the last ack (of what is stored, and only that), 503, close. */
  shutdown(): void {
    if (this.state === 'closed') return;
    this.flushAck();
    this.closeWithError(ErrorCode.ShuttingDown, 'shutting down; reconnect later');
  }

  private onData(chunk: Buffer): void {
    const result = this.splitter.push(chunk, (line) => this.onLine(line));
    if (result === 'too-long') {
      this.closeWithError(ErrorCode.LineTooLong, `line longer than ${this.ctx.limits.maxLineBytes} bytes`);
    }
  }

  private onLine(line: string): boolean {
    if (this.state === 'closed' || this.state === 'closing') return false;
    const now = this.ctx.now();
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

  private handle(m: SensorMessage, now: number): boolean {
    switch (m.type) {
      case 'hello':
        return this.hello(m, now);
      case 'reading': {
        if (!this.takeSeq(m.seq, now)) return this.state !== 'closed';
        this.ingest(m, now);
        this.ctx.commits.endMessage(this, m.seq);
        return true;
      }
      case 'batch': {
        if (!this.takeSeq(m.seq, now)) return this.state !== 'closed';
        for (const r of m.readings) this.ingest(r, now);
        this.ctx.commits.endMessage(this, m.seq);
        return true;
      }
      case 'report': {
        if (!this.ctx.commands.isKnown(m.id)) {
          if (m.seq !== undefined) this.noteSeq(m.seq);
          return this.reject(
            {
              code: ErrorCode.UnknownCommand,
              message: `no command with id "${m.id}" was sent`,
              id: m.id,
              ...(m.seq !== undefined ? { seq: m.seq } : {}),
            },
            now,
          );
        }
        if (!this.takeSeq(m.seq, now)) return this.state !== 'closed';
        const stored: StoredReading[] = [];
        for (const r of m.readings) stored.push({ metric: r.metric, value: r.value, unit: this.ingest(r, now), ts: r.ts ?? now });
        this.ctx.commands.onReport(m.id, this.sensorId!, this.room, stored);
        this.ctx.commits.endMessage(this, m.seq);
        return true;
      }
      case 'ping':
        this.send(m.id !== undefined ? { type: 'pong', time: now, id: m.id } : { type: 'pong', time: now });
        return true;
      case 'bye':
        this.state = 'closing';
        this.ctx.commits.afterNextCommit(() => {
          this.flushAck();
          this.link.end();
        });
        return false;
      case 'error':
        if (this.sensorId) this.ctx.commands.onSensorError(this.sensorId, m);
        return true;
    }
  }

  private hello(m: Extract<SensorMessage, { type: 'hello' }>, now: number): boolean {
    if (this.state !== 'greeting') {
      return this.reject({ code: ErrorCode.BadMessage, message: 'hello was already received on this connection' }, now);
    }
    const storeProblem = this.ctx.storeUnavailable();
    if (storeProblem !== null) {
      // Nothing could be stored or acknowledged: the sensor keeps its readings and comes back later.
      this.closeWithError(ErrorCode.ShuttingDown, `the store is unavailable (${storeProblem}); reconnect later`);
      return false;
    }
    const room = m.room ?? DEFAULT_ROOM;
    const verdict = this.ctx.checkHello(m.token, m.sensor, room);
    this.ctx.recordActivity({
      actor: m.sensor,
      address: this.address,
      action: 'sensor.connect',
      target: room,
      outcome: verdict.ok ? 'ok' : 'denied',
      code: verdict.ok ? 200 : verdict.code,
      detail: verdict.ok ? (verdict.tokenId ? `token ${verdict.tokenId}` : 'no token needed') : verdict.message,
    });
    if (!verdict.ok) {
      const counters = this.ctx.counters;
      counters.rejected.set(verdict.code, (counters.rejected.get(verdict.code) ?? 0) + 1);
      this.closeWithError(verdict.code, verdict.message);
      return false;
    }
    this.tokenId = verdict.tokenId;
    this.sensorId = m.sensor;
    this.room = room;
    this.declaredUnits = new Map((m.metrics ?? []).map((d) => [d.metric, d.unit ?? defaultUnit(d.metric)]));
    // fromEntries defines own properties: a metric named `constructor` is data, not a prototype's member.
    const declared: Record<string, string> = Object.fromEntries(this.declaredUnits);
    this.ctx.claim(this);
    this.record = this.ctx.registry.connect(m.sensor, this.room, this.address, declared, now);
    this.connectionId = this.record.connectionId;
    this.state = 'active';
    if (this.helloTimer) clearTimeout(this.helloTimer);
    this.send({ type: 'welcome', v: 1, sensor: m.sensor, time: now });
    return true;
  }

  /** Queues one valid reading; returns the unit it is stored with. */
  private ingest(r: ReadingInput, now: number): string {
    const metric = r.metric;
    const unit = r.unit ?? defaultUnit(metric, this.declaredUnits);
    let cached = this.seriesCache.get(metric);
    if (cached === undefined || cached.unit !== unit) {
      const seriesId = this.ctx.catalog.seriesId(this.sensorId!, this.room, metric, unit);
      cached = { unit, seriesId, channel: this.ctx.catalog.channel(seriesId) };
      this.seriesCache.set(metric, cached);
      this.ctx.registry.noteMetric(this.record!, metric);
    }
    const ts = r.ts ?? now;
    const ch = cached.channel;
    if (ts > ch.lastTs) {
      ch.lastTs = ts;
      this.ctx.commits.addFresh(cached.seriesId, ts, r.value);
    } else {
      this.ctx.commits.addMaybeDuplicate(cached.seriesId, ts, r.value);
    }
    this.ctx.counters.readingsReceived++;
    return unit;
  }

  /** Checks that seq increases; false (and a 422) if not. */
  private takeSeq(seq: number | undefined, now: number): boolean {
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
  private noteSeq(seq: number): void {
    if (seq > this.lastSeq) this.lastSeq = seq;
    this.ctx.commits.endMessage(this, seq);
  }

  /** Answers an error; returns whether to keep reading this connection. */
  private reject(error: WireError, now: number): boolean {
    const counters = this.ctx.counters;
    counters.rejected.set(error.code, (counters.rejected.get(error.code) ?? 0) + 1);
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

  private closeWithError(code: ErrorCode, message: string): void {
    if (this.state === 'closed') return;
    this.send({ type: 'error', code, message });
    this.state = 'closing';
    this.link.endAndCut();
  }

  destroy(): void {
    this.link.destroy();
  }

  private onClosed(): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    if (this.helloTimer) clearTimeout(this.helloTimer);
    if (this.record) this.ctx.registry.disconnect(this.record, this.connectionId, this.ctx.now());
    this.ctx.release(this);
  }
}
