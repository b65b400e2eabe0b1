/**
 * One simulated sensor speaking the sensor protocol (PROTOCOL.md §1) to a hub over TCP, or TLS:
 * a batch of readings every interval, kept until acknowledged and sent again after a
 * reconnect, report-now, and reconnects with backoff. What happens on one connection (hello,
 * acks, pings, the timers that give up on a silent hub) is the HubConnection's, made afresh for
 * each connection (hub-connection.ts).
 */
import type { SensorMessage } from '../protocol/messages.ts';
import { PROTOCOL_VERSION, isRoom, isSensorId } from '../protocol/names.ts';
import { DEFAULT_BACKOFF, backoffDelayMs, checkBackoff, type BackoffOptions } from './backoff.ts';
import { HubConnection, type ConnectionEvents } from './hub-connection.ts';
import { nextAttemptDelay, type HubAddress } from './hub-list.ts';
import { createRoomModel, type SensorModel } from './models.ts';
import { Outbox, type OutboxCounts } from './outbox.ts';
import { deriveSeed, seededRandom, type Random } from './random.ts';
import { TickScheduler, type TickHandle } from './tick-scheduler.ts';

export interface SensorClientOptions {
  sensorId: string;
  room: string;
  host: string;
  port: number;
  /**
   * Hubs to try in turn (a cluster's, hub-list.ts), instead of host and port alone: the sensor
   * starts on hubs[firstHub % length] and moves to the next when it loses its hub.
   */
  hubs?: readonly HubAddress[];
  firstHub?: number;
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

/** online: a connection is open or opening; backoff: waiting to reconnect. */
type State = 'idle' | 'online' | 'backoff' | 'stopping' | 'stopped';

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
  /** One object for every connection: a connection calls it only until it reports its close. */
  private readonly connectionEvents: ConnectionEvents;
  private readonly hubs: readonly HubAddress[];
  /** index in hubs of the hub the current (or next) connection goes to */
  private hubIndex: number;

  private state: State = 'idle';
  /** The open connection; replaced only after it has closed. */
  private connection: HubConnection | null = null;
  /** Failed connection attempts since the last welcome. */
  private attempt = 0;
  private tickHandle: TickHandle | null = null;
  private reconnectTimer: NodeJS.Timeout | null = null;
  private stopPromise: Promise<void> | null = null;
  private onStoppingClosed: (() => void) | null = null;

  private reconnects = 0;
  private lastError: string | null = null;
  private stoppedByCode: number | null = null;

  constructor(options: SensorClientOptions) {
    const o = { ...sensorDefaults, ...options };
    if (!isSensorId(o.sensorId)) throw new RangeError(`sensorId "${String(o.sensorId)}" must match ^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$`);
    if (!isRoom(o.room)) throw new RangeError(`room "${String(o.room)}" must match ^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$`);
    if (!Number.isInteger(o.port) || o.port < 1 || o.port > 65_535)
      throw new RangeError(`port must be an integer from 1 to 65535, got ${o.port}`);
    for (const name of ['intervalMs', 'pingIdleMs', 'welcomeTimeoutMs', 'ackTimeoutMs', 'stopTimeoutMs'] as const) {
      if (!Number.isFinite(o[name]) || o[name] < 1) throw new RangeError(`${name} must be a number of at least 1, got ${o[name]}`);
    }
    if (!Number.isFinite(o.firstTickDelayMs) || o.firstTickDelayMs < 0)
      throw new RangeError(`firstTickDelayMs must be 0 or more, got ${o.firstTickDelayMs}`);
    checkBackoff(o.backoff);
    this.options = o;
    this.hubs = o.hubs !== undefined && o.hubs.length > 0 ? o.hubs : [{ host: o.host, port: o.port }];
    this.hubIndex = (o.firstHub ?? 0) % this.hubs.length;
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
    this.connectionEvents = {
      problem: (message) => (this.lastError = message),
      tlsFailed: (code, message) => this.emit({ type: 'tls-error', code, message }),
      welcomed: (hubTimeMs) => {
        this.attempt = 0;
        this.emit({ type: 'welcome', hubTimeMs });
      },
      reportNow: (commandId) => this.outbox.add(this.model.read(), commandId),
      hubError: (code, message) => {
        this.lastError = `hub error ${code}: ${message}`;
        this.emit({ type: 'hub-error', code, message });
      },
      refusedForGood: (code) => {
        this.stoppedByCode = code;
        this.finish();
      },
      closed: (hadError) => this.onClosed(hadError),
    };
  }

  start(): void {
    if (this.state !== 'idle') return;
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
      connected: this.state === 'online' && this.connection !== null && this.connection.isReady,
      ...this.outbox.counts,
      reconnects: this.reconnects,
      lastError: this.lastError,
      stoppedByCode: this.stoppedByCode,
      writeBlocked: this.connection?.writeBlocked ?? false,
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
    this.connection?.flush();
  }

  private connect(): void {
    const o = this.options;
    const hello: SensorMessage = {
      type: 'hello',
      v: PROTOCOL_VERSION,
      sensor: this.sensorId,
      room: this.room,
      metrics: this.model.metrics.map((m) => ({ metric: m.metric, unit: m.unit })),
    };
    if (o.token !== undefined) hello.token = o.token;
    this.state = 'online';
    const hub = this.hubs[this.hubIndex]!;
    this.connection = new HubConnection(
      {
        host: hub.host,
        port: hub.port,
        ...(o.tls !== undefined && { tls: o.tls }),
        hello,
        welcomeTimeoutMs: o.welcomeTimeoutMs,
        pingIdleMs: o.pingIdleMs,
        ackTimeoutMs: o.ackTimeoutMs,
        stopTimeoutMs: o.stopTimeoutMs,
      },
      this.outbox,
      this.connectionEvents,
    );
    this.emit({ type: 'connecting', attempt: this.attempt });
  }

  private onClosed(hadError: boolean): void {
    this.connection = null;
    this.emit({ type: 'closed', hadError });
    if (this.onStoppingClosed !== null) return this.onStoppingClosed();
    if (this.state === 'stopped') return;
    this.state = 'backoff';
    // Lost or never reached: the next hub of the list, at once while the list has untried ones.
    this.hubIndex = (this.hubIndex + 1) % this.hubs.length;
    const delayMs = nextAttemptDelay(this.attempt, this.hubs.length, (round) => backoffDelayMs(round, this.options.backoff, this.random));
    this.emit({ type: 'backoff', attempt: this.attempt, delayMs });
    this.attempt++;
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = null;
      this.reconnects++;
      this.connect();
    }, delayMs);
  }

  private async shutDown(): Promise<void> {
    this.tickHandle?.cancel();
    this.tickHandle = null;
    this.clearReconnect();
    if (this.state === 'stopped') return this.release();
    const connection = this.connection;
    if (connection === null) {
      this.state = 'stopped';
      this.emit({ type: 'stopped', code: null });
      return this.release();
    }
    this.state = 'stopping';
    const closed = new Promise<void>((resolve) => (this.onStoppingClosed = resolve));
    if (connection.isReady) connection.sayBye();
    else connection.destroy();
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
    this.connection?.destroy();
    this.release();
    this.emit({ type: 'stopped', code: this.stoppedByCode });
  }

  private release(): void {
    this.clearReconnect();
    if (this.ownsScheduler) this.scheduler.stop();
  }

  private clearReconnect(): void {
    if (this.reconnectTimer !== null) clearTimeout(this.reconnectTimer);
    this.reconnectTimer = null;
  }

  private emit(event: SensorEvent): void {
    this.options.onEvent?.(event);
  }
}
