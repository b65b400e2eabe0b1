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
import { DEFAULT_GROWTH_CAPS, GrowthLimits } from './growth-limits.ts';
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
  /**
   * 422 a name or value breaks a rule of the contract, 403 the caller may not write it, 507 it
   * would make a new sensor or series past the hub's limits (growth-limits.ts)
   */
  code: 403 | 422 | 507;
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
  /** what each way in took and refused (/metrics); absent: counters of its own */
  counters?: SourceCounters;
  /** the hub's limits on sensors and series; absent: the defaults, counted in `counters` */
  growth?: GrowthLimits;
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

/** A sensor of one submit, in one room (`roomKey`): whether it may be written, and its record once it is. */
interface SubmitSensor {
  sensor: string;
  roomKey: string;
  /** the sensor id or room breaks the contract's rules (422) */
  problem: string | null;
  /** the caller may not write it (403), or it is new and the hub keeps as many sensors as it may (507) */
  refusal: string | null;
  refusalCode: 403 | 507;
  /** registered (or moved to the submit's room) at its first reading that may be stored */
  record: SensorRecord | null;
  known: KnownSensor | null;
  /** the same sensor in another room of this submit */
  other: SubmitSensor | null;
}

/**
 * A sensor's series as inputs last used them, kept across submits (a device sends the same
 * metrics in every message): a reading of a known series costs no key and no catalog lookup.
 * Valid while the record, its room and declared units and the catalog's generation are the ones
 * it was made with; bounded as the sensors and series are (growth-limits.ts).
 */
interface KnownSensor {
  record: SensorRecord;
  room: string;
  declared: SensorRecord['declaredMetrics'];
  generation: number;
  /** by metric: its series, one per unit (nearly always one) */
  series: Map<string, KnownSeries>;
}

interface KnownSeries {
  unit: string;
  /** the metric's default unit for this sensor: a reading that names none goes here */
  isDefault: boolean;
  id: number;
  channel: Channel;
  next: KnownSeries | null;
}

export class BatchIngest {
  readonly counters: SourceCounters;
  readonly growth: GrowthLimits;
  private readonly retryAfterS: number;
  /** by sensor id */
  private readonly known = new Map<string, KnownSensor>();
  /** the code of the last refusal add() returned */
  private lastCode: 403 | 422 | 507 = 422;

  constructor(private readonly deps: BatchIngestDeps) {
    this.retryAfterS = deps.retryAfterS ?? 2;
    this.counters = deps.counters ?? new SourceCounters();
    this.growth = deps.growth ?? new GrowthLimits(DEFAULT_GROWTH_CAPS, this.counters);
  }

  /** Stores what may be stored of `readings`; resolves once it is committed (see the header). */
  async submit(readings: readonly ExternalReading[], who: Rights, source: Source): Promise<BatchOutcome> {
    this.admit(readings.length, source);
    const now = this.deps.now();
    const refused: RefusedReading[] = [];
    /** by sensor id (then by room, through `other`): one rights check and one registry update per pair */
    const sensors = new Map<string, SubmitSensor>();
    let stored = 0;
    let s: SubmitSensor | undefined;
    /** refused by the limits: [sensors, series] */
    const limited = [0, 0];
    for (let i = 0; i < readings.length; i++) {
      const r = readings[i]!;
      // The readings of one sensor come together (a message, a line's fields): looked up once per run.
      if (s === undefined || r.sensor !== s.sensor || (r.room ?? '') !== s.roomKey) s = this.sensorOf(sensors, r, who);
      const refusal = this.add(s, r, source, now);
      if (refusal === null) {
        stored++;
        continue;
      }
      refused.push({ index: i, reason: refusal, code: this.lastCode });
      if (this.lastCode === 507) limited[s.refusal === null ? 1 : 0]!++;
    }
    this.counters.took(source, stored);
    for (const r of refused) if (r.code !== 507) this.counters.refused(source, r.code === 403 ? 'forbidden' : 'invalid');
    if (limited[0]! > 0 || limited[1]! > 0) this.countLimited(refused, source, limited[0]!, limited[1]!);
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

  private countLimited(refused: readonly RefusedReading[], source: Source, sensors: number, series: number): void {
    const reasons = refused.filter((r) => r.code === 507).map((r) => r.reason);
    if (sensors > 0) this.growth.refused(source, 'sensor_limit', reasons.find((t) => t.startsWith('sensor')) ?? '', sensors);
    if (series > 0) this.growth.refused(source, 'series_limit', reasons.find((t) => !t.startsWith('sensor')) ?? '', series);
  }

  private sensorOf(sensors: Map<string, SubmitSensor>, r: ExternalReading, who: Rights): SubmitSensor {
    // '' stands for "no room given": room names are never empty.
    const roomKey = r.room ?? '';
    const first = sensors.get(r.sensor);
    for (let s = first ?? null; s !== null; s = s.other) if (s.roomKey === roomKey) return s;
    // A sensor with known series has a valid id, and its room is valid: the patterns only for others.
    const cached = this.known.get(r.sensor);
    const s: SubmitSensor = {
      sensor: r.sensor,
      roomKey,
      problem: cached !== undefined && (r.room === undefined || r.room === cached.room) ? null : sensorProblem(r),
      refusal: null,
      refusalCode: 403,
      record: null,
      known: null,
      other: first ?? null,
    };
    sensors.set(r.sensor, s);
    if (s.problem !== null) return s;
    const registry = this.deps.registry;
    const known = registry.records.get(r.sensor);
    const room = r.room ?? known?.room ?? DEFAULT_ROOM;
    s.refusal = who.refusal(r.sensor, room, known?.room);
    if (s.refusal === null && known === undefined) {
      s.refusal = this.growth.newSensorRefusal(r.sensor, registry.records.size);
      s.refusalCode = 507;
    }
    return s;
  }

  /** Adds one reading to the group commit; or why not (its code in lastCode). */
  private add(s: SubmitSensor, r: ExternalReading, source: Source, now: number): string | null {
    if (s.problem !== null) return this.refuse(422, s.problem);
    if (s.refusal !== null) return this.refuse(s.refusalCode, s.refusal);
    // The registry's record: once per sensor and room of a submit (it moves the sensor, marks it
    // heard), at its first valid reading: a sensor none of whose readings is valid is not registered.
    if (s.record === null) {
      const problem = valueProblem(r, now);
      if (problem !== null) return this.refuse(422, problem);
      s.record = this.deps.registry.heardFrom(r.sensor, r.room, source, now);
    }
    const record = s.record;
    const known = (s.known = this.knownOf(s.known, record));
    let series = known.series.get(r.metric) ?? null;
    const unit = r.unit;
    while (series !== null && (unit === undefined ? !series.isDefault : series.unit !== unit)) series = series.next;
    if (series === null) {
      const problem = valueProblem(r, now);
      if (problem !== null) return this.refuse(422, problem);
      const made = this.newSeries(known, r);
      if (typeof made === 'string') return this.refuse(507, made);
      series = made;
    } else {
      // The metric and unit were checked when the series was made: the value and ts remain.
      const v = r.value;
      if (typeof v !== 'number' || !Number.isFinite(v)) return this.refuse(422, `the value of ${r.metric} must be a finite number`);
      if (r.ts !== undefined) {
        const problem = tsProblem(r.ts, now);
        if (problem !== null) return this.refuse(422, problem);
      }
    }
    const { catalog, commits } = this.deps;
    const ts = r.ts ?? now;
    if (catalog.claimTs(series.channel, ts)) commits.addFresh(series.id, ts, r.value);
    else commits.addMaybeDuplicate(series.id, ts, r.value);
    return null;
  }

  private refuse(code: 403 | 422 | 507, reason: string): string {
    this.lastCode = code;
    return reason;
  }

  /** The sensor's known series, started over if its record, room, declared units or the catalog changed. */
  private knownOf(cached: KnownSensor | null, record: SensorRecord): KnownSensor {
    const generation = this.deps.catalog.generation;
    if (cached !== null && cached.room === record.room && cached.declared === record.declaredMetrics && cached.generation === generation)
      return cached;
    let k = this.known.get(record.sensor);
    if (
      k === undefined ||
      k.record !== record ||
      k.room !== record.room ||
      k.declared !== record.declaredMetrics ||
      k.generation !== generation
    ) {
      k = { record, room: record.room, declared: record.declaredMetrics, generation, series: new Map() };
      this.known.set(record.sensor, k);
    }
    return k;
  }

  /** The series of a reading whose (metric, unit) this sensor has not used since its cache started; or why not (the limit). */
  private newSeries(known: KnownSensor, r: ExternalReading): KnownSeries | string {
    const { catalog, registry } = this.deps;
    const record = known.record;
    const fallback = defaultUnit(r.metric, record.declaredMetrics);
    const unit = r.unit ?? fallback;
    // The record's room now: the room this submit gave, or the one the sensor was in.
    const id = catalog.seriesIdWithin(record.sensor, record.room, r.metric, unit, this.growth.caps.maxSeries);
    if (id === -1)
      return this.growth.newSeriesRefusal(record.sensor, r.metric, catalog.seriesCount) ?? 'the hub keeps as many series as it may';
    const series: KnownSeries = {
      unit,
      isDefault: unit === fallback,
      id,
      channel: catalog.channel(id),
      next: known.series.get(r.metric) ?? null,
    };
    known.series.set(r.metric, series);
    registry.noteMetric(record, r.metric);
    return series;
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
