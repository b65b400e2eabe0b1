/**
 * One simulated sensor speaking the sensor protocol (PROTOCOL.md §1) to a hub over TCP, or TLS:
 * hello, a batch of readings every interval, resend of everything unacknowledged after a
 * reconnect, report-now, pings when idle, and reconnects with backoff.
 */
import net from 'node:net';
import tls from 'node:tls';
import { ErrorCode } from '../protocol/codes.ts';
import { decodeHubLine } from '../protocol/decode.ts';
import { LineSplitter } from '../protocol/line-splitter.ts';
import { encodeLine, type HubMessage, type SensorMessage } from '../protocol/messages.ts';
import { DEFAULT_MAX_LINE_BYTES, PROTOCOL_VERSION, isRoom, isSensorId } from '../protocol/names.ts';
import { DEFAULT_BACKOFF, backoffDelayMs, checkBackoff, type BackoffOptions } from './backoff.ts';
import { createRoomModel, type SensorModel } from './models.ts';
import { Outbox, type OutboxCounts } from './outbox.ts';
import { deriveSeed, seededRandom, type Random } from './random.ts';
import { TickScheduler, type TickHandle } from './tick-scheduler.ts';

export interface SensorClientOptions {
  sensorId: string;
  room: string;
  host: string;
  port: number;
  intervalMs: number;
  token?: string;
  /**
   * Connect with TLS. The hub's certificate is always verified, for the host name given:
   * against `ca` (PEM) when given, else Node's store of public CAs.
   */
  tls?: { ca?: Buffer };
  /** Stamps every reading; the hub's clock and ours may differ, and tests move it by hand. */
  now?: () => number;
  /** Seeds the readings; default derived from the sensor id, so a sensor is the same every run. */
  seed?: number;
  /** Reconnect jitter; default a stream derived from the seed. */
  random?: Random;
  /** What the sensor measures; default a room model of temperature, humidity and cpu_load. */
  model?: SensorModel;
  maxUnackedMessages?: number;
  backoff?: BackoffOptions;
  /** Sends a ping after this long without sending anything, so a slow sensor is not timed out as idle. */
  pingIdleMs?: number;
  /** Covers connect and hello; a hub that accepts but never welcomes must not hold the sensor. */
  welcomeTimeoutMs?: number;
  /** A connection that carries messages but brings no ack for this long is taken as broken and replaced. */
  ackTimeoutMs?: number;
  /** How long stop() waits for the final ack and the close after bye. */
  stopTimeoutMs?: number;
  /** Delay of the first reading after start(); a fleet spreads these so sensors do not send in lockstep. */
  firstTickDelayMs?: number;
  /** Shared by a fleet: one timer for all sensors. Without it the sensor keeps its own. */
  scheduler?: TickScheduler;
  onEvent?: (event: SensorEvent) => void;
}

export const sensorDefaults = {
  maxUnackedMessages: 10_000,
  backoff: DEFAULT_BACKOFF,
  pingIdleMs: 15_000,
  welcomeTimeoutMs: 10_000,
  ackTimeoutMs: 30_000,
  stopTimeoutMs: 2_000,
  firstTickDelayMs: 0,
} satisfies Partial<SensorClientOptions>;

export type SensorEvent =
  | { type: 'connecting'; attempt: number }
  | { type: 'welcome'; hubTimeMs: number }
  | { type: 'closed'; hadError: boolean }
  | { type: 'backoff'; attempt: number; delayMs: number }
  | { type: 'hub-error'; code: number; message: string }
  /** The TLS handshake failed: the hub's certificate is not trusted, not for this host, or the port does not speak TLS. */
  | { type: 'tls-error'; code: string | undefined; message: string }
  | { type: 'stopped'; code: number | null };

export interface SensorStats extends OutboxCounts {
  /** Welcomed by the hub on a live connection. */
  connected: boolean;
  reconnects: number;
  lastError: string | null;
  /** The hub error that ended this sensor for good (409, 401, 403, 505), else null. */
  stoppedByCode: number | null;
  /** The socket asked us to wait for 'drain'. */
  writeBlocked: boolean;
}

/** Hub errors after which reconnecting would only hammer the hub: bad token, forbidden, wrong version, replaced. */
const TERMINAL_CODES: ReadonlySet<number> = new Set([ErrorCode.Unauthorized, ErrorCode.Forbidden, ErrorCode.VersionNotSupported, ErrorCode.Replaced]);

/** Errors of the TCP connect itself, before TLS had a say. */
function isConnectError(err: NodeJS.ErrnoException): boolean {
  return ['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL'].includes(err.code ?? '');
}

type State = 'idle' | 'connecting' | 'ready' | 'backoff' | 'stopping' | 'stopped';

export class SimulatedSensor {
  readonly sensorId: string;
  readonly room: string;
  readonly firstTickDelayMs: number;
  private readonly options: SensorClientOptions & typeof sensorDefaults;
  private readonly model: SensorModel;
  private readonly random: Random;
  private readonly scheduler: TickScheduler;
  private readonly ownsScheduler: boolean;
  private readonly outbox: Outbox;

  private state: State = 'idle';
  private socket: net.Socket | null = null;
  private splitter = new LineSplitter(DEFAULT_MAX_LINE_BYTES);
  /** Failed connection attempts since the last welcome. */
  private attempt = 0;
  private tickHandle: TickHandle | null = null;
  private reconnectTimer: NodeJS.Timeout | null = null;
  private welcomeTimer: NodeJS.Timeout | null = null;
  private pingTimer: NodeJS.Timeout | null = null;
  private ackTimer: NodeJS.Timeout | null = null;
  private closeGuardTimer: NodeJS.Timeout | null = null;
  private stopPromise: Promise<void> | null = null;
  private onStoppingClosed: (() => void) | null = null;

  private reconnects = 0;
  private writeBlocked = false;
  private lastError: string | null = null;
  private stoppedByCode: number | null = null;

  constructor(options: SensorClientOptions) {
    const o = { ...sensorDefaults, ...options };
    if (!isSensorId(o.sensorId)) throw new RangeError(`sensorId "${o.sensorId}" must match ^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$`);
    if (!isRoom(o.room)) throw new RangeError(`room "${o.room}" must match ^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$`);
    if (!Number.isInteger(o.port) || o.port < 1 || o.port > 65_535) throw new RangeError(`port must be an integer from 1 to 65535, got ${o.port}`);
    for (const name of ['intervalMs', 'pingIdleMs', 'welcomeTimeoutMs', 'ackTimeoutMs', 'stopTimeoutMs'] as const) {
      if (!Number.isFinite(o[name]) || o[name] < 1) throw new RangeError(`${name} must be a number of at least 1, got ${o[name]}`);
    }
    if (!Number.isFinite(o.firstTickDelayMs) || o.firstTickDelayMs < 0) throw new RangeError(`firstTickDelayMs must be 0 or more, got ${o.firstTickDelayMs}`);
    checkBackoff(o.backoff);
    this.options = o;
    this.sensorId = o.sensorId;
    this.room = o.room;
    this.firstTickDelayMs = o.firstTickDelayMs;
    const seed = o.seed ?? deriveSeed(o.sensorId);
    const now = o.now ?? Date.now;
    this.model = o.model ?? createRoomModel({ room: o.room, random: seededRandom(deriveSeed(seed, 'model')), now });
    this.random = o.random ?? seededRandom(deriveSeed(seed, 'jitter'));
    this.outbox = new Outbox(o.maxUnackedMessages);
    this.ownsScheduler = o.scheduler === undefined;
    this.scheduler = o.scheduler ?? new TickScheduler();
  }

  start(): void {
    if (this.state !== 'idle') return;
    this.state = 'connecting';
    this.tickHandle = this.scheduler.add(this.options.intervalMs, this.firstTickDelayMs, () => this.takeReading());
    this.connect();
  }

  /** Says bye, waits (bounded) for the final ack and the close, and leaves no timer or socket. */
  stop(): Promise<void> {
    this.stopPromise ??= this.shutDown();
    return this.stopPromise;
  }

  get stats(): SensorStats {
    return {
      connected: this.state === 'ready',
      ...this.outbox.counts,
      reconnects: this.reconnects,
      lastError: this.lastError,
      stoppedByCode: this.stoppedByCode,
      writeBlocked: this.writeBlocked,
    };
  }

  /** True once the sensor will send nothing more: stopped, or ended by the hub. */
  get isStopped(): boolean {
    return this.state === 'stopped';
  }

  /** Takes one reading of every metric and sends it as a batch (buffered if it cannot go now). */
  takeReading(): void {
    if (this.state === 'stopping' || this.state === 'stopped') return;
    this.outbox.add(this.model.read());
    this.flush();
  }

  private connect(): void {
    const { host, port } = this.options;
    const secure = this.options.tls;
    // rejectUnauthorized is tls's default and stays so: a sensor never sends to a hub it cannot verify.
    const socket: net.Socket = secure
      ? tls.connect({ host, port, ...(net.isIP(host) === 0 && { servername: host }), ...(secure.ca !== undefined && { ca: secure.ca }) })
      : net.createConnection({ host, port });
    this.socket = socket;
    this.outbox.newConnection();
    this.writeBlocked = false;
    this.splitter = new LineSplitter(DEFAULT_MAX_LINE_BYTES);
    this.state = 'connecting';
    this.emit({ type: 'connecting', attempt: this.attempt });
    let handshakeDone = !secure;
    socket.setNoDelay(true);
    this.welcomeTimer = setTimeout(() => {
      this.lastError = handshakeDone
        ? `no welcome within ${this.options.welcomeTimeoutMs} ms`
        : `no TLS handshake within ${this.options.welcomeTimeoutMs} ms (does the hub serve TLS on port ${port}?)`;
      socket.destroy();
    }, this.options.welcomeTimeoutMs);
    // Over TLS, 'connect' is only TCP: hello waits for the verified handshake.
    socket.on(secure ? 'secureConnect' : 'connect', () => {
      handshakeDone = true;
      const hello: SensorMessage = {
        type: 'hello',
        v: PROTOCOL_VERSION,
        sensor: this.sensorId,
        room: this.room,
        metrics: this.model.metrics.map((m) => ({ metric: m.metric, unit: m.unit })),
      };
      if (this.options.token !== undefined) hello.token = this.options.token;
      this.write(hello);
    });
    socket.on('data', (chunk: Buffer) => {
      const result = this.splitter.push(chunk, (line) => {
        if (socket !== this.socket) return false;
        this.onLine(line);
        return socket === this.socket && !socket.destroyed;
      });
      if (result === 'too-long' && socket === this.socket) {
        this.lastError = `a line from the hub exceeded ${DEFAULT_MAX_LINE_BYTES} bytes`;
        socket.destroy();
      }
    });
    socket.on('drain', () => {
      if (socket !== this.socket) return;
      this.writeBlocked = false;
      this.flush();
    });
    socket.on('error', (err: NodeJS.ErrnoException) => {
      this.lastError = err.message;
      if (!handshakeDone && secure && socket === this.socket && !isConnectError(err)) {
        this.lastError = `TLS handshake with ${host}:${port} failed: ${err.message}`;
        this.emit({ type: 'tls-error', code: err.code, message: err.message });
      }
    });
    socket.on('close', (hadError) => this.onClose(socket, hadError));
  }

  private onLine(line: string): void {
    const decoded = decodeHubLine(line);
    if (!decoded.ok) {
      // A hub we do not understand is its bug, not a reason to drop the connection and our data.
      this.lastError = `unreadable line from hub (${decoded.error.message})`;
      return;
    }
    const m: HubMessage = decoded.message;
    switch (m.type) {
      case 'welcome':
        if (this.state !== 'connecting') return;
        this.state = 'ready';
        this.attempt = 0;
        this.clearTimer('welcomeTimer');
        this.pingTimer = setTimeout(() => this.pingIfIdle(), this.options.pingIdleMs);
        this.ackTimer = setTimeout(() => this.checkAcks(), this.options.ackTimeoutMs);
        this.emit({ type: 'welcome', hubTimeMs: m.time });
        this.flush();
        return;
      case 'ack':
        this.ackTimer?.refresh();
        return this.outbox.ack(m.seq);
      case 'command':
        return this.onCommand(m.id, m.command);
      case 'pong':
        return;
      case 'error':
        return this.onHubError(m.code, m.message, m.seq);
    }
  }

  private onCommand(id: string, command: string): void {
    if (this.state !== 'ready') return;
    if (command === 'report-now') {
      this.outbox.add(this.model.read(), id);
      this.flush();
      return;
    }
    this.write({ type: 'error', code: ErrorCode.NotImplemented, message: `unknown command "${command.slice(0, 80)}"`, id });
  }

  private onHubError(code: number, message: string, seq: number | undefined): void {
    this.lastError = `hub error ${code}: ${message}`;
    this.emit({ type: 'hub-error', code, message });
    if (seq !== undefined) {
      // An error naming a seq settles that message: a 500 is worth another try, anything
      // else would fail the same way again. (503 is about the connection, not the message.)
      if (code === ErrorCode.Internal) this.outbox.retryLater(seq);
      else if (code !== ErrorCode.ShuttingDown) this.outbox.reject(seq);
      this.flush();
    }
    // Once we said bye, the close is coming anyway.
    if (this.state === 'stopping') return;
    if (TERMINAL_CODES.has(code)) {
      this.stoppedByCode = code;
      this.finish();
      return;
    }
    if (code === ErrorCode.ShuttingDown && this.socket !== null) {
      // The hub closes after 503; if it does not, we do, and come back with backoff either way.
      const socket = this.socket;
      this.closeGuardTimer ??= setTimeout(() => socket.destroy(), this.options.stopTimeoutMs);
    }
  }

  private onClose(socket: net.Socket, hadError: boolean): void {
    if (socket !== this.socket) return;
    this.socket = null;
    this.writeBlocked = false;
    this.clearTimer('welcomeTimer');
    this.clearTimer('pingTimer');
    this.clearTimer('ackTimer');
    this.clearTimer('closeGuardTimer');
    this.emit({ type: 'closed', hadError });
    if (this.onStoppingClosed !== null) return this.onStoppingClosed();
    if (this.state === 'stopped') return;
    this.state = 'backoff';
    const delayMs = backoffDelayMs(this.attempt, this.options.backoff, this.random);
    this.emit({ type: 'backoff', attempt: this.attempt, delayMs });
    this.attempt++;
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      this.reconnects++;
      this.connect();
    }, delayMs);
  }

  /** Writes the messages this connection has not carried yet, in seq order, until the socket pushes back. */
  private flush(ignoreBackpressure = false): void {
    if (this.state !== 'ready' && !ignoreBackpressure) return;
    while (ignoreBackpressure || !this.writeBlocked) {
      // The ack clock starts when something goes out with nothing else awaiting an ack.
      if (!this.outbox.inFlight) this.ackTimer?.refresh();
      const message = this.outbox.takeNext();
      if (message === undefined) return;
      this.write(message);
    }
  }

  private checkAcks(): void {
    if (this.state !== 'ready' || !this.outbox.inFlight) return;
    this.lastError = `no ack within ${this.options.ackTimeoutMs} ms`;
    this.socket?.destroy();
  }

  /** Every write goes through here: it notes backpressure and resets the idle-ping clock. */
  private write(message: SensorMessage): void {
    const socket = this.socket;
    if (socket === null || socket.destroyed) return;
    if (!socket.write(encodeLine(message))) this.writeBlocked = true;
    this.pingTimer?.refresh();
  }

  private pingIfIdle(): void {
    if (this.state !== 'ready') return;
    // A blocked socket is not idle; the hub is just slow. Try again a period later.
    if (this.writeBlocked) this.pingTimer?.refresh();
    else this.write({ type: 'ping' });
  }

  private async shutDown(): Promise<void> {
    this.tickHandle?.cancel();
    this.tickHandle = null;
    this.clearTimer('reconnectTimer');
    if (this.state === 'stopped') return this.release();
    const socket = this.socket;
    if (socket === null) {
      this.state = 'stopped';
      this.emit({ type: 'stopped', code: null });
      return this.release();
    }
    const wasReady = this.state === 'ready';
    this.state = 'stopping';
    const closed = new Promise<void>((resolve) => (this.onStoppingClosed = resolve));
    if (wasReady) {
      // Everything produced goes out before bye, so the final ack can cover it.
      this.flush(true);
      this.write({ type: 'bye' });
      this.clearTimer('closeGuardTimer');
      this.closeGuardTimer = setTimeout(() => socket.destroy(), this.options.stopTimeoutMs);
    } else {
      socket.destroy();
    }
    await closed;
    this.onStoppingClosed = null;
    this.state = 'stopped';
    this.emit({ type: 'stopped', code: null });
    this.release();
  }

  /** Ends the sensor for good on the hub's word (409, 401, 403, 505): no reconnect. */
  private finish(): void {
    this.state = 'stopped';
    this.tickHandle?.cancel();
    this.tickHandle = null;
    this.socket?.destroy();
    this.release();
    this.emit({ type: 'stopped', code: this.stoppedByCode });
  }

  private release(): void {
    this.clearTimer('reconnectTimer');
    this.clearTimer('welcomeTimer');
    this.clearTimer('pingTimer');
    this.clearTimer('ackTimer');
    this.clearTimer('closeGuardTimer');
    if (this.ownsScheduler) this.scheduler.stop();
  }

  private clearTimer(name: 'reconnectTimer' | 'welcomeTimer' | 'pingTimer' | 'ackTimer' | 'closeGuardTimer'): void {
    const timer = this[name];
    if (timer !== null) clearTimeout(timer);
    this[name] = null;
  }

  private emit(event: SensorEvent): void {
    this.options.onEvent?.(event);
  }
}
