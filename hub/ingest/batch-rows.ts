/**
 * One submit's readings on their way into the group commit (batch-ingest.ts): each checked by
 * the contract's rules (PROTOCOL.md §1 "Names and values") and the caller's rights, its sensor
 * registered, its series found, and its row added as certainly new or as a possible duplicate.
 * Readings are given as values, not objects, so an input that parses a body can hand each one
 * over as it reads it (influx-write.ts) without an object per reading.
 */
import { DEFAULT_ROOM, isMetric, isRoom, isSensorId, tsProblem, unitProblem } from '../../protocol/names.ts';
import type { SensorRecord, SensorRegistry, Source } from '../sensors/sensor-registry.ts';
import type { GroupCommit } from './group-commit.ts';
import type { GrowthLimits } from './growth-limits.ts';
import type { KnownSensor, KnownSeriesCache } from './known-series.ts';
import type { SeriesCatalog } from './series-catalog.ts';

export interface RefusedReading {
  /** its index in the submitted readings */
  index: number;
  /** what is wrong, for the client: names the field and the rule */
  reason: string;
  /**
   * 422 a name or value breaks a rule of the contract, 403 the caller may not write it, 507 it
   * would make a new sensor or series past the hub's limits (growth-limits.ts)
   */
  code: 403 | 422 | 507;
}

/** What a caller may write: checked once per distinct (sensor, room) of a submit. */
export interface Rights {
  /** for logs: `token t-1a2b`, `user alex`, `anyone` */
  readonly who: string;
  /** Why `sensor` may not be written into `room` (`knownRoom`: the room it is in now, if known), or null if it may. */
  refusal(sensor: string, room: string, knownRoom: string | undefined): string | null;
}

export interface BatchRowsDeps {
  catalog: SeriesCatalog;
  registry: SensorRegistry;
  commits: GroupCommit;
  growth: GrowthLimits;
  known: KnownSeriesCache;
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

export class BatchRows {
  /** readings accepted into the commit */
  stored = 0;
  /** readings refused, in index order */
  readonly refused: RefusedReading[] = [];
  /** refused by the limits: sensors, series */
  limitedSensors = 0;
  limitedSeries = 0;
  /** readings given so far: the index of the next */
  private index = 0;
  /** by sensor id (then by room, through `other`): one rights check and one registry update per pair */
  private readonly sensors = new Map<string, SubmitSensor>();
  private s: SubmitSensor | null = null;
  /** the code of the last refusal */
  private lastCode: 403 | 422 | 507 = 422;

  constructor(
    private readonly deps: BatchRowsDeps,
    private readonly who: Rights,
    private readonly source: Source,
    private readonly now: number,
  ) {}

  /**
   * Adds one reading (`room`, `unit`, `ts` undefined: not given); returns null, or why it is
   * refused (also listed in `refused`).
   */
  add(
    sensor: string,
    room: string | undefined,
    metric: string,
    value: number,
    unit: string | undefined,
    ts: number | undefined,
  ): string | null {
    const index = this.index++;
    let s = this.s;
    // The readings of one sensor come together (a message, a line's fields): looked up once per run.
    if (s === null || sensor !== s.sensor || (room ?? '') !== s.roomKey) s = this.s = this.sensorOf(sensor, room);
    const refusal = this.addTo(s, room, metric, value, unit, ts);
    if (refusal === null) {
      this.stored++;
      return null;
    }
    this.refused.push({ index, reason: refusal, code: this.lastCode });
    if (this.lastCode === 507) {
      if (s.refusal === null) this.limitedSeries++;
      else this.limitedSensors++;
    }
    return refusal;
  }

  private sensorOf(sensor: string, room: string | undefined): SubmitSensor {
    // '' stands for "no room given": room names are never empty.
    const roomKey = room ?? '';
    const first = this.sensors.get(sensor);
    for (let s = first ?? null; s !== null; s = s.other) if (s.roomKey === roomKey) return s;
    // A sensor with known series has a valid id, and its room is valid: the patterns only for others.
    const s: SubmitSensor = {
      sensor,
      roomKey,
      problem: this.deps.known.checked(sensor, room) ? null : sensorProblem(sensor, room),
      refusal: null,
      refusalCode: 403,
      record: null,
      known: null,
      other: first ?? null,
    };
    this.sensors.set(sensor, s);
    if (s.problem !== null) return s;
    const registry = this.deps.registry;
    const known = registry.records.get(sensor);
    s.refusal = this.who.refusal(sensor, room ?? known?.room ?? DEFAULT_ROOM, known?.room);
    if (s.refusal === null && known === undefined) {
      s.refusal = this.deps.growth.newSensorRefusal(sensor, registry.records.size);
      s.refusalCode = 507;
    }
    return s;
  }

  /** Adds one reading of `s` to the group commit; or why not (its code in lastCode). */
  private addTo(
    s: SubmitSensor,
    room: string | undefined,
    metric: string,
    value: number,
    unit: string | undefined,
    ts: number | undefined,
  ): string | null {
    if (s.problem !== null) return this.refuse(422, s.problem);
    if (s.refusal !== null) return this.refuse(s.refusalCode, s.refusal);
    const now = this.now;
    // The registry's record: once per sensor and room of a submit (it moves the sensor, marks it
    // heard), at its first valid reading: a sensor none of whose readings is valid is not registered.
    if (s.record === null) {
      const problem = valueProblem(metric, value, unit, ts, now);
      if (problem !== null) return this.refuse(422, problem);
      s.record = this.deps.registry.heardFrom(s.sensor, room, this.source, now);
    }
    const cache = this.deps.known;
    const known = (s.known = cache.of(s.known, s.record));
    let series = cache.find(known, metric, unit);
    if (series === null) {
      const problem = valueProblem(metric, value, unit, ts, now);
      if (problem !== null) return this.refuse(422, problem);
      const made = cache.add(known, metric, unit);
      if (typeof made === 'string') return this.refuse(507, made);
      series = made;
    } else {
      // The metric and unit were checked when the series was made: the value and ts remain.
      if (typeof value !== 'number' || !Number.isFinite(value)) return this.refuse(422, `the value of ${metric} must be a finite number`);
      if (ts !== undefined) {
        const problem = tsProblem(ts, now);
        if (problem !== null) return this.refuse(422, problem);
      }
    }
    const { catalog, commits } = this.deps;
    const at = ts ?? now;
    if (catalog.claimTs(series.channel, at)) commits.addFresh(series.id, at, value);
    else commits.addMaybeDuplicate(series.id, at, value);
    return null;
  }

  private refuse(code: 403 | 422 | 507, reason: string): string {
    this.lastCode = code;
    return reason;
  }
}

export function sensorProblem(sensor: string, room: string | undefined): string | null {
  if (!isSensorId(sensor)) return `sensor id ${show(sensor)} must match ^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$`;
  if (room !== undefined && !isRoom(room)) return `room ${show(room)} must match ^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$`;
  return null;
}

export function valueProblem(metric: string, value: number, unit: string | undefined, ts: number | undefined, now: number): string | null {
  if (!isMetric(metric)) return `metric ${show(metric)} must match ^[a-z][a-z0-9_]{0,63}$`;
  if (typeof value !== 'number' || !Number.isFinite(value)) return `the value of ${metric} must be a finite number`;
  if (unit !== undefined) {
    const p = typeof unit === 'string' ? unitProblem(unit) : 'unit must be a string';
    if (p !== null) return p;
  }
  if (ts !== undefined) return tsProblem(ts, now);
  return null;
}

function show(s: unknown): string {
  const text = String(s);
  return JSON.stringify(text.length > 70 ? `${text.slice(0, 67)}...` : text);
}
