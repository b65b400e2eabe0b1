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
import { HubError } from '../hub-error.ts';
import type { SensorRegistry, Source } from '../sensors/sensor-registry.ts';
import type { AckTarget, GroupCommit } from './group-commit.ts';
import type { SeriesCatalog } from './series-catalog.ts';
import { DEFAULT_GROWTH_CAPS, GrowthLimits } from './growth-limits.ts';
import { SourceCounters } from './source-counters.ts';
import { BatchRows, sensorProblem, valueProblem, type RefusedReading, type Rights } from './batch-rows.ts';
import { KnownSeriesCache } from './known-series.ts';

export type { Source } from '../sensors/sensor-registry.ts';
export type { RefusedReading, Rights } from './batch-rows.ts';
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

export interface BatchOutcome {
  /** readings accepted into the commit (stored, or found to be duplicates of stored ones) */
  stored: number;
  /** readings not stored, in index order */
  refused: RefusedReading[];
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

export class BatchIngest {
  readonly counters: SourceCounters;
  readonly growth: GrowthLimits;
  private readonly retryAfterS: number;
  private readonly known: KnownSeriesCache;

  constructor(private readonly deps: BatchIngestDeps) {
    this.retryAfterS = deps.retryAfterS ?? 2;
    this.counters = deps.counters ?? new SourceCounters();
    this.growth = deps.growth ?? new GrowthLimits(DEFAULT_GROWTH_CAPS, this.counters);
    this.known = new KnownSeriesCache(deps.catalog, deps.registry, this.growth);
  }

  /** Stores what may be stored of `readings`; resolves once it is committed (see the header). */
  async submit(readings: readonly ExternalReading[], who: Rights, source: Source): Promise<BatchOutcome> {
    const rows = this.begin(readings.length, who, source);
    for (let i = 0; i < readings.length; i++) {
      const r = readings[i]!;
      rows.add(r.sensor, r.room, r.metric, r.value, r.unit, r.ts);
    }
    return this.end(rows, source);
  }

  /**
   * A submit given reading by reading (`rows.add`), for an input that reads its body as it goes;
   * `n` readings (or how to count them), refused at once, whole, when the hub cannot take them. Then end(),
   * in the same turn: a message to the group commit is the rows added since the last one ended.
   */
  begin(n: number | (() => number), who: Rights, source: Source): BatchRows {
    this.admit(n, source);
    const { catalog, registry, commits } = this.deps;
    return new BatchRows({ catalog, registry, commits, growth: this.growth, known: this.known }, who, source, this.deps.now());
  }

  /** The submit's readings are all added: resolves once the commit that holds them succeeded. */
  async end(rows: BatchRows, source: Source): Promise<BatchOutcome> {
    const { stored, refused } = rows;
    this.counters.took(source, stored);
    for (const r of refused) if (r.code !== 507) this.counters.refused(source, r.code === 403 ? 'forbidden' : 'invalid');
    if (rows.limitedSensors > 0 || rows.limitedSeries > 0) this.countLimited(refused, source, rows.limitedSensors, rows.limitedSeries);
    if (stored === 0) return { stored, refused };
    await this.committed();
    return { stored, refused };
  }

  /** Refuses the whole submit when the hub cannot take it now (nothing of it is queued then). */
  private admit(count: number | (() => number), source: Source): void {
    const n = () => (typeof count === 'number' ? count : count());
    const { commits } = this.deps;
    const problem = commits.storeProblem;
    if (problem?.unavailable) {
      this.counters.refused(source, 'store_unavailable', n());
      throw new HubError('store_unavailable', `the store is unavailable (${problem.reason}); nothing was stored: send again later`, {
        retryAfterS: this.retryAfterS,
      });
    }
    if (commits.isSaturated) {
      this.counters.refused(source, 'busy', n());
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
}

/** Why a reading breaks the contract's rules (PROTOCOL.md §1 "Names and values"), or null. */
export function readingProblem(r: ExternalReading, now: number): string | null {
  return sensorProblem(r.sensor, r.room) ?? valueProblem(r.metric, r.value, r.unit, r.ts, now);
}
