/**
 * The way in for readings that do not come from a sensor connection: MQTT, InfluxDB line
 * protocol, Prometheus remote write. Each submit is checked by the contract's rules
 * (PROTOCOL.md §1 "Names and values") and the caller's rights, goes through the same series
 * path and group commit as a sensor's readings (so duplicates are found exactly as for sensors,
 * and latest, history, the stream and /metrics see them), and resolves only once the commit
 * that holds its rows has succeeded: a caller answers its client after that, never before.
 *
 *     const outcome = await ingest.submit(readings, rights, 'influx'); // { stored, refused }
 *
 * Refusals of single readings (a bad name, a room the caller may not write) are listed in the
 * outcome; the others are stored. The whole submit is refused with a HubError when the hub
 * cannot take it: `store_unavailable` (503, Retry-After) while too much waits for the store
 * (backpressure) or while the store cannot commit, `internal` (500) if the store refuses the
 * rows themselves.
 */
import { DEFAULT_ROOM, isMetric, isRoom, isSensorId, defaultUnit, tsProblem, unitProblem } from '../../protocol/names.ts';
import { HubError } from '../hub-error.ts';
import type { SensorRecord, SensorRegistry, Source } from '../sensors/sensor-registry.ts';
import type { AckTarget, GroupCommit } from './group-commit.ts';
import type { Channel, SeriesCatalog } from './series-catalog.ts';
import { SourceCounters } from './source-counters.ts';

export type { Source } from '../sensors/sensor-registry.ts';
export { SourceCounters } from './source-counters.ts';

export interface ExternalReading {
  sensor: string;
  /** absent: the sensor's known room, else `default` */
  room?: string;
  metric: string;
  value: number;
  /** absent: the unit the sensor declared, else the well-known unit, else empty */
  unit?: string;
  /** ms since the epoch; absent: the hub's time now */
  ts?: number;
}

export interface RefusedReading {
  /** its index in the submitted array */
  index: number;
  /** what is wrong, for the client: names the field and the rule */
  reason: string;
  /** the contract's code: 422 a name or value breaks a rule, 403 the caller may not write it */
  code: 403 | 422;
}

export interface BatchOutcome {
  /** readings accepted into the commit (stored, or found to be duplicates of stored ones) */
  stored: number;
  /** readings not stored, in index order */
  refused: RefusedReading[];
}

/** What a caller may write: checked once per distinct (sensor, room) of a submit. */
export interface Rights {
  /** for logs: `token t-1a2b`, `user alex`, `anyone` */
  readonly who: string;
  /** Why `sensor` may not be written into `room` (`knownRoom`: the room it is in now, if known), or null if it may. */
  refusal(sensor: string, room: string, knownRoom: string | undefined): string | null;
}

/** Anyone may write anything: a hub that asks for no sensor token, or a bridge the operator configured. */
export const ANYONE: Rights = { who: 'anyone', refusal: () => null };

export interface BatchIngestDeps {
  catalog: SeriesCatalog;
  registry: SensorRegistry;
  commits: GroupCommit;
  now(): number;
  /** seconds a client is told to wait when the hub is busy or the store is failing */
  retryAfterS?: number;
}

/** One submit owed an answer: the group commit calls it like a sensor connection owed an ack. */
class SubmitTarget implements AckTarget {
  constructor(
    private readonly resolve: () => void,
    private readonly reject: (err: HubError) => void,
    private readonly retryAfterS: number,
  ) {}

  committed(): void {
    this.resolve();
  }

  flushAck(): void {}

  refused(_seq: number, message: string): void {
    this.reject(new HubError('internal', message));
  }

  storeUnavailable(message: string): void {
    this.reject(new HubError('store_unavailable', message, { retryAfterS: this.retryAfterS }));
  }
}

/** A sensor of one submit: whether it may be written, its record, and its series by metric and unit. */
interface SubmitSensor {
  /** the sensor id or room breaks the contract's rules (422) */
  problem: string | null;
  /** the caller may not write it (403) */
  refusal: string | null;
  record: SensorRecord | null;
  /** by `${metric}\0${unit}` */
  series: Map<string, { id: number; channel: Channel }>;
}

export class BatchIngest {
  readonly counters = new SourceCounters();
  private readonly retryAfterS: number;

  constructor(private readonly deps: BatchIngestDeps) {
    this.retryAfterS = deps.retryAfterS ?? 2;
  }

  /** Stores what may be stored of `readings`; resolves once it is committed (see the header). */
  async submit(readings: readonly ExternalReading[], who: Rights, source: Source): Promise<BatchOutcome> {
    this.admit(readings.length, source);
    const now = this.deps.now();
    const refused: RefusedReading[] = [];
    /** by sensor id, then by room: one rights check and one registry update per pair */
    const sensors = new Map<string, Map<string, SubmitSensor>>();
    let stored = 0;
    for (let i = 0; i < readings.length; i++) {
      const r = readings[i]!;
      const s = this.sensorOf(sensors, r, who);
      const problem = s.problem ?? valueProblem(r, now);
      if (problem !== null) {
        refused.push({ index: i, reason: problem, code: 422 });
        continue;
      }
      if (s.refusal !== null) {
        refused.push({ index: i, reason: s.refusal, code: 403 });
        continue;
      }
      this.add(s, r, source, now);
      stored++;
    }
    this.counters.took(source, stored);
    for (const r of refused) this.counters.refused(source, r.code === 403 ? 'forbidden' : 'invalid');
    if (stored === 0) return { stored, refused };
    await this.committed();
    return { stored, refused };
  }

  /** Refuses the whole submit when the hub cannot take it now (nothing of it is queued then). */
  private admit(n: number, source: Source): void {
    const { commits } = this.deps;
    const problem = commits.storeProblem;
    if (problem?.unavailable) {
      this.counters.refused(source, 'store_unavailable', n);
      throw new HubError('store_unavailable', `the store is unavailable (${problem.reason}); nothing was stored: send again later`, {
        retryAfterS: this.retryAfterS,
      });
    }
    if (commits.isSaturated) {
      this.counters.refused(source, 'busy', n);
      // The store is not keeping up: the same code as a failing store (503, try again), its own counter reason.
      throw new HubError(
        'store_unavailable',
        `the hub has ${commits.bufferedRows} readings waiting for the store; nothing was stored: send again in ${this.retryAfterS} s`,
        { retryAfterS: this.retryAfterS },
      );
    }
  }

  /** The submit's rows are all added: resolves when the commit that holds them succeeds. */
  private committed(): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.deps.commits.endMessage(new SubmitTarget(resolve, reject, this.retryAfterS), 0);
      // A writer waits for this commit (an HTTP client with one request in flight): start it now,
      // or right after the one in flight, instead of after the flush interval.
      this.deps.commits.afterNextCommit(() => undefined);
    });
  }

  private sensorOf(sensors: Map<string, Map<string, SubmitSensor>>, r: ExternalReading, who: Rights): SubmitSensor {
    let rooms = sensors.get(r.sensor);
    if (rooms === undefined) {
      rooms = new Map();
      sensors.set(r.sensor, rooms);
    }
    // '' stands for "no room given": room names are never empty.
    const roomKey = r.room ?? '';
    let s = rooms.get(roomKey);
    if (s === undefined) {
      s = { problem: sensorProblem(r), refusal: null, record: null, series: new Map() };
      rooms.set(roomKey, s);
      if (s.problem !== null) return s;
      const known = this.deps.registry.records.get(r.sensor);
      const room = r.room ?? known?.room ?? DEFAULT_ROOM;
      s.refusal = who.refusal(r.sensor, room, known?.room);
    }
    return s;
  }

  /** The sensor's record, registered (or moved to the submit's room) at its first stored reading. */
  private recordOf(s: SubmitSensor, r: ExternalReading, source: Source, now: number): SensorRecord {
    return (s.record ??= this.deps.registry.heardFrom(r.sensor, r.room, source, now));
  }

  private add(s: SubmitSensor, r: ExternalReading, source: Source, now: number): void {
    const { catalog, commits, registry } = this.deps;
    const record = this.recordOf(s, r, source, now);
    const unit = r.unit ?? defaultUnit(r.metric, record.declaredMetrics);
    const key = `${r.metric}\0${unit}`;
    let series = s.series.get(key);
    if (series === undefined) {
      // The record's room now: the room this submit gave, or the one the sensor was in.
      const id = catalog.seriesId(record.sensor, record.room, r.metric, unit);
      series = { id, channel: catalog.channel(id) };
      s.series.set(key, series);
      registry.noteMetric(record, r.metric);
    }
    const ts = r.ts ?? now;
    if (catalog.claimTs(series.channel, ts)) commits.addFresh(series.id, ts, r.value);
    else commits.addMaybeDuplicate(series.id, ts, r.value);
  }
}

/** Why a reading breaks the contract's rules (PROTOCOL.md §1 "Names and values"), or null. */
export function readingProblem(r: ExternalReading, now: number): string | null {
  return sensorProblem(r) ?? valueProblem(r, now);
}

function sensorProblem(r: ExternalReading): string | null {
  if (!isSensorId(r.sensor)) return `sensor id ${show(r.sensor)} must match ^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$`;
  if (r.room !== undefined && !isRoom(r.room)) return `room ${show(r.room)} must match ^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$`;
  return null;
}

function valueProblem(r: ExternalReading, now: number): string | null {
  if (!isMetric(r.metric)) return `metric ${show(r.metric)} must match ^[a-z][a-z0-9_]{0,63}$`;
  if (typeof r.value !== 'number' || !Number.isFinite(r.value)) return `the value of ${r.metric} must be a finite number`;
  if (r.unit !== undefined) {
    const p = typeof r.unit === 'string' ? unitProblem(r.unit) : 'unit must be a string';
    if (p !== null) return p;
  }
  if (r.ts !== undefined) return tsProblem(r.ts, now);
  return null;
}

function show(s: unknown): string {
  const text = String(s);
  return JSON.stringify(text.length > 70 ? `${text.slice(0, 67)}...` : text);
}
