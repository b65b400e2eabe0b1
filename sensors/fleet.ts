/**
 * Many simulated sensors in one process. They share one tick timer, connect in staggered
 * waves and start their readings at random offsets within the interval, so neither the hub
 * nor this process sees 10,000 sensors act in the same millisecond.
 */
import { ROOM_PATTERN, SENSOR_ID_PATTERN, isRoom, isSensorId } from '../protocol/names.ts';
import type { BackoffOptions } from './backoff.ts';
import type { HubAddress } from './hub-list.ts';
import { deriveSeed, seededRandom } from './random.ts';
import { SimulatedSensor, type SensorEvent } from './sensor-client.ts';
import { TickScheduler } from './tick-scheduler.ts';

export const DEFAULT_ROOMS: readonly string[] = Object.freeze(['living-room', 'bedroom', 'kitchen', 'server-room', 'greenhouse']);

export interface FleetOptions {
  count: number;
  host: string;
  port: number;
  /** a cluster's hubs, tried in turn; sensor i starts on hubs[i % length], so the fleet is spread over them */
  hubs?: readonly HubAddress[];
  intervalMs: number;
  rooms?: readonly string[];
  idPrefix?: string;
  seed?: number;
  /** Sensors that connect together; the hub accepts a fleet in mouthfuls, not all at once. */
  waveSize?: number;
  waveIntervalMs?: number;
  now?: () => number;
  token?: string;
  /** Connect with TLS, verifying the hub against `ca` (PEM) or, without it, Node's public CAs. */
  tls?: { ca?: Buffer };
  maxUnackedMessages?: number;
  backoff?: BackoffOptions;
  pingIdleMs?: number;
  stopTimeoutMs?: number;
  onSensorEvent?: (sensorId: string, event: SensorEvent) => void;
}

export const fleetDefaults = {
  rooms: DEFAULT_ROOMS,
  idPrefix: 'sim',
  seed: 1,
  waveSize: 100,
  waveIntervalMs: 200,
} satisfies Partial<FleetOptions>;

export interface FleetStats {
  sensors: number;
  /** Sensors whose wave has come. */
  started: number;
  connected: number;
  sentReadings: number;
  resentReadings: number;
  ackedReadings: number;
  bufferedReadings: number;
  droppedReadings: number;
  rejectedReadings: number;
  reconnects: number;
  /** Sensors the hub ended for good, by error code (409 replaced, 401, 403, 505). */
  stoppedByCode: Record<number, number>;
  lastError: string | null;
}

/** Stats with every count at zero, to add sensors' stats to. */
export function emptyFleetStats(sensors: number, started: number): FleetStats {
  return {
    sensors,
    started,
    connected: 0,
    sentReadings: 0,
    resentReadings: 0,
    ackedReadings: 0,
    bufferedReadings: 0,
    droppedReadings: 0,
    rejectedReadings: 0,
    reconnects: 0,
    stoppedByCode: {},
    lastError: null,
  };
}

/** `${prefix}-001` ... : zero-padded to the width of the count, at least three digits, so ids sort in order. */
export function fleetSensorIds(count: number, prefix: string): string[] {
  const width = Math.max(3, String(count).length);
  return Array.from({ length: count }, (_, i) => `${prefix}-${String(i + 1).padStart(width, '0')}`);
}

export class SensorFleet {
  readonly sensors: readonly SimulatedSensor[];
  private readonly scheduler = new TickScheduler();
  private readonly waveSize: number;
  private readonly waveIntervalMs: number;
  private started = 0;
  private waveTimer: NodeJS.Timeout | null = null;
  private finishStarting: (() => void) | null = null;
  private stopPromise: Promise<void> | null = null;

  constructor(options: FleetOptions) {
    const o = { ...fleetDefaults, ...options };
    if (!Number.isInteger(o.count) || o.count < 1) throw new RangeError(`count must be an integer of at least 1, got ${o.count}`);
    if (!Number.isInteger(o.waveSize) || o.waveSize < 1)
      throw new RangeError(`waveSize must be an integer of at least 1, got ${o.waveSize}`);
    if (!Number.isFinite(o.waveIntervalMs) || o.waveIntervalMs < 0)
      throw new RangeError(`waveIntervalMs must be 0 or more, got ${o.waveIntervalMs}`);
    if (o.rooms.length === 0) throw new RangeError('rooms must name at least one room');
    const badRoom = o.rooms.find((room): boolean => !isRoom(room));
    if (badRoom !== undefined) throw new RangeError(`room "${badRoom}" must match ${ROOM_PATTERN.source}`);
    const ids = fleetSensorIds(o.count, o.idPrefix);
    const longest: string = ids[ids.length - 1]!;
    if (!isSensorId(longest)) {
      throw new RangeError(
        `idPrefix "${o.idPrefix}" makes sensor ids like "${ids[ids.length - 1]}", which must match ${SENSOR_ID_PATTERN.source}`,
      );
    }
    this.waveSize = o.waveSize;
    this.waveIntervalMs = o.waveIntervalMs;

    const offsets = seededRandom(deriveSeed(o.seed, 'fleet-offsets'));
    this.sensors = ids.map((sensorId, i) => {
      const onSensorEvent = o.onSensorEvent;
      return new SimulatedSensor({
        sensorId,
        room: o.rooms[i % o.rooms.length]!,
        host: o.host,
        port: o.port,
        ...(o.hubs !== undefined && { hubs: o.hubs, firstHub: i }),
        intervalMs: o.intervalMs,
        seed: deriveSeed(o.seed, sensorId),
        firstTickDelayMs: Math.floor(offsets() * o.intervalMs),
        scheduler: this.scheduler,
        ...(o.now !== undefined && { now: o.now }),
        ...(o.token !== undefined && { token: o.token }),
        ...(o.tls !== undefined && { tls: o.tls }),
        ...(o.maxUnackedMessages !== undefined && { maxUnackedMessages: o.maxUnackedMessages }),
        ...(o.backoff !== undefined && { backoff: o.backoff }),
        ...(o.pingIdleMs !== undefined && { pingIdleMs: o.pingIdleMs }),
        ...(o.stopTimeoutMs !== undefined && { stopTimeoutMs: o.stopTimeoutMs }),
        ...(onSensorEvent !== undefined && { onEvent: (event: SensorEvent) => onSensorEvent(sensorId, event) }),
      });
    });
  }

  /** Starts the sensors wave by wave; resolves once the last wave has started (or stop() was called). */
  start(): Promise<void> {
    if (this.started > 0 || this.finishStarting !== null || this.stopPromise !== null) return Promise.resolve();
    return new Promise((resolve) => {
      this.finishStarting = resolve;
      this.startWave();
    });
  }

  stop(): Promise<void> {
    this.stopPromise ??= (async () => {
      if (this.waveTimer !== null) clearTimeout(this.waveTimer);
      this.waveTimer = null;
      this.doneStarting();
      await Promise.all(this.sensors.map((s) => s.stop()));
      this.scheduler.stop();
    })();
    return this.stopPromise;
  }

  get stats(): FleetStats {
    const total = emptyFleetStats(this.sensors.length, this.started);
    for (const sensor of this.sensors) {
      const s = sensor.stats;
      if (s.connected) total.connected++;
      total.sentReadings += s.sentReadings;
      total.resentReadings += s.resentReadings;
      total.ackedReadings += s.ackedReadings;
      total.bufferedReadings += s.bufferedReadings;
      total.droppedReadings += s.droppedReadings;
      total.rejectedReadings += s.rejectedReadings;
      total.reconnects += s.reconnects;
      if (s.stoppedByCode !== null) total.stoppedByCode[s.stoppedByCode] = (total.stoppedByCode[s.stoppedByCode] ?? 0) + 1;
      if (s.lastError !== null) total.lastError = s.lastError;
    }
    return total;
  }

  private startWave(): void {
    this.waveTimer = null;
    const end = Math.min(this.sensors.length, this.started + this.waveSize);
    for (; this.started < end; this.started++) this.sensors[this.started]!.start();
    if (this.started < this.sensors.length) this.waveTimer = setTimeout(() => this.startWave(), this.waveIntervalMs);
    else this.doneStarting();
  }

  private doneStarting(): void {
    this.finishStarting?.();
    this.finishStarting = null;
  }
}
