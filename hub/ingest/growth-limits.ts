/**
 * How many sensors and series the hub creates at most, whatever way their readings arrive (the
 * sensor port, MQTT, InfluxDB line protocol, Prometheus remote write): every sensor and series
 * stays in memory for good (the registry, the series catalog), so a publisher that invents a new
 * sensor id or metric name in every message must not be able to grow them without end. Past a
 * limit, what would make a new sensor or series is refused (docs/ADMIN.md "Limits"); readings of
 * the sensors and series the hub knows go on as before.
 *
 * Refusals are counted in /metrics (`roomwatch_input_refused_total{source,reason}`, reasons
 * `sensor_limit` and `series_limit`) and logged at warn at most once a minute per limit.
 */
import type { Source } from '../sensors/sensor-registry.ts';
import type { SeriesCatalog } from './series-catalog.ts';
import type { SourceCounters } from './source-counters.ts';

export interface GrowthCaps {
  /** sensors the hub keeps at most (`--max-sensors`) */
  maxSensors: number;
  /** series (sensor, room, metric, unit) the hub keeps at most (`--max-series`) */
  maxSeries: number;
}

export const DEFAULT_GROWTH_CAPS: GrowthCaps = { maxSensors: 50_000, maxSeries: 500_000 };

export type GrowthLimit = 'sensor_limit' | 'series_limit';

export type GrowthLog = (fields: Record<string, unknown>, message: string) => void;

const LOG_EVERY_MS = 60_000;

export class GrowthLimits {
  /** by limit: when it was last logged */
  private readonly loggedAt = new Map<GrowthLimit, number>();
  /** by limit: refusals since it was last logged */
  private readonly unlogged = new Map<GrowthLimit, number>();

  constructor(
    readonly caps: GrowthCaps = DEFAULT_GROWTH_CAPS,
    private readonly counters: SourceCounters | null = null,
    private readonly log: GrowthLog | null = null,
    private readonly now: () => number = Date.now,
  ) {}

  /** Why a sensor the hub does not know may not be created now that it has `sensors`, or null. */
  newSensorRefusal(sensor: string, sensors: number): string | null {
    if (sensors < this.caps.maxSensors) return null;
    return (
      `sensor ${JSON.stringify(sensor.slice(0, 64))} is new, and this hub keeps at most ${this.caps.maxSensors} sensors ` +
      `(--max-sensors): nothing of it was stored; an admin raises the limit, or the sender reuses its sensor ids`
    );
  }

  /** Why a new series may not be created now that there are `series`, or null. */
  newSeriesRefusal(sensor: string, metric: string, series: number): string | null {
    if (series < this.caps.maxSeries) return null;
    return (
      `${metric.slice(0, 64)} of sensor ${JSON.stringify(sensor.slice(0, 64))} would be a new series, and this hub keeps at most ` +
      `${this.caps.maxSeries} series (--max-series): it was not stored; an admin raises the limit, or the sender reuses its metric names`
    );
  }

  /**
   * Whether series made all at once (an upload's) fit: the first limit they would pass, and why,
   * or null. Creates nothing. A series given twice (two spellings of one room) counts twice.
   */
  batchRefusal(
    series: readonly { sensor: string; room: string; metric: string; unit: string }[],
    catalog: SeriesCatalog,
    sensors: ReadonlyMap<string, unknown>,
  ): { limit: GrowthLimit; reason: string } | null {
    const newSensors = new Set<string>();
    let newSeries = 0;
    let firstNew: { sensor: string; metric: string } | null = null;
    for (const s of series) {
      if (!sensors.has(s.sensor)) newSensors.add(s.sensor);
      // With the limit at the count held, an existing series gets its id and a new one -1.
      if (catalog.seriesIdWithin(s.sensor, s.room, s.metric, s.unit, catalog.seriesCount) !== -1) continue;
      newSeries++;
      firstNew ??= s;
    }
    if (newSensors.size > 0 && sensors.size + newSensors.size > this.caps.maxSensors) {
      const [first] = newSensors;
      return { limit: 'sensor_limit', reason: this.newSensorRefusal(first!, this.caps.maxSensors)! };
    }
    if (firstNew !== null && catalog.seriesCount + newSeries > this.caps.maxSeries)
      return { limit: 'series_limit', reason: this.newSeriesRefusal(firstNew.sensor, firstNew.metric, this.caps.maxSeries)! };
    return null;
  }

  /** `n` readings (or a hello) of `source` were refused by `limit`: counted, and logged at most once a minute. */
  refused(source: Source, limit: GrowthLimit, reason: string, n = 1): void {
    this.counters?.refused(source, limit, n);
    const now = this.now();
    const last = this.loggedAt.get(limit);
    if (last !== undefined && now - last < LOG_EVERY_MS) {
      this.unlogged.set(limit, (this.unlogged.get(limit) ?? 0) + n);
      return;
    }
    const before = this.unlogged.get(limit) ?? 0;
    this.loggedAt.set(limit, now);
    this.unlogged.set(limit, 0);
    this.log?.(
      { source, limit, refusedSinceLastLog: before, ...this.caps },
      `refused what would grow the hub past its limit (${reason}); counted in /metrics as roomwatch_input_refused_total{reason="${limit}"}, logged once a minute`,
    );
  }
}
