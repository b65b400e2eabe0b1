/**
 * What a sensor session (sensor-session.ts) works with: its limits, and the parts of the hub it
 * hands readings, reports, connections and hello checks to.
 */
import type { HelloVerdict } from '../access/sensor-tokens.ts';
import type { ActivityEvent } from '../access/activity-log.ts';
import type { SensorRegistry } from '../sensors/sensor-registry.ts';
import type { GroupCommit } from './group-commit.ts';
import type { GrowthLimits } from './growth-limits.ts';
import type { LinkLimits } from './sensor-link.ts';
import type { SeriesCatalog } from './series-catalog.ts';
import type { SensorSession } from './sensor-session.ts';

export interface SessionLimits extends LinkLimits {
  maxLineBytes: number;
  /** a connection that has not said hello by then gets 401 and is closed */
  helloTimeoutMs: number;
  maxErrors: number;
  errorWindowMs: number;
}

/** A reading as stored: unit and ts resolved. */
export interface StoredReading {
  metric: string;
  value: number;
  unit: string;
  ts: number;
}

/** Where `report` and sensor `error` messages go (the report-now broadcaster). */
export interface CommandSink {
  isKnown(commandId: string): boolean;
  onReport(commandId: string, sensor: string, room: string, readings: StoredReading[]): void;
  onSensorError(sensor: string, error: { code: number; message: string; id?: string }): void;
}

export interface IngestCounters {
  messages: number;
  readingsReceived: number;
  rejected: Map<number, number>;
  acksSent: number;
}

export interface SessionContext {
  readonly limits: SessionLimits;
  now(): number;
  readonly catalog: SeriesCatalog;
  readonly commits: GroupCommit;
  readonly registry: SensorRegistry;
  /** how many sensors and series the hub creates at most */
  readonly growth: GrowthLimits;
  readonly commands: CommandSink;
  readonly counters: IngestCounters;
  /** the token rules for a hello (hub/access/sensor-tokens.ts) */
  checkHello(token: string | undefined, sensor: string, room: string): HelloVerdict;
  recordActivity(event: ActivityEvent): void;
  /** why the store cannot take readings now (hellos are turned away with 503), or null */
  storeUnavailable(): string | null;
  /** this session said hello as its sensor: any older session of that sensor is replaced */
  claim(session: SensorSession): void;
  /** the session closed */
  release(session: SensorSession): void;
}
