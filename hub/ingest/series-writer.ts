/**
 * Where one connection's readings go: the series of each metric (sensor, room, metric, unit),
 * cached for the connection, and each reading into the group commit, as certainly new or as a
 * possible duplicate. Called once per reading: nothing is allocated, and a reading of a metric
 * already seen costs one map lookup, unless a series is new.
 */
import type { ReadingInput } from '../../protocol/messages.ts';
import { defaultUnit } from '../../protocol/names.ts';
import type { SensorRecord } from '../sensors/sensor-registry.ts';
import type { Channel } from './series-catalog.ts';
import type { SessionContext } from './session-context.ts';

interface CachedSeries {
  unit: string;
  /** the unit is the metric's default here: a reading that names none goes to this series */
  isDefault: boolean;
  seriesId: number;
  channel: Channel;
}

export class SeriesWriter {
  /** by metric: the series this connection's last reading of it went to */
  private readonly cache = new Map<string, CachedSeries>();

  constructor(
    private readonly ctx: SessionContext,
    private readonly sensor: string,
    private readonly room: string,
    private readonly record: SensorRecord,
    /** by metric: the units the hello declared */
    private readonly declaredUnits: ReadonlyMap<string, string>,
  ) {}

  /** Queues one valid reading; returns the unit it is stored with. */
  add(r: ReadingInput, now: number): string {
    const metric = r.metric;
    const named = r.unit;
    let cached = this.cache.get(metric);
    if (cached === undefined || (named === undefined ? !cached.isDefault : named !== cached.unit)) cached = this.seriesOf(metric, named);
    const ts = r.ts ?? now;
    const ctx = this.ctx;
    if (ctx.catalog.claimTs(cached.channel, ts)) ctx.commits.addFresh(cached.seriesId, ts, r.value);
    else ctx.commits.addMaybeDuplicate(cached.seriesId, ts, r.value);
    ctx.counters.readingsReceived++;
    return cached.unit;
  }

  /**
   * Whether `n` readings could take the catalog past the hub's series limit (growth-limits.ts):
   * one comparison per message, so the check below runs only near the limit.
   */
  mayGrowPastLimit(n: number): boolean {
    return this.ctx.catalog.seriesCount + n > this.ctx.growth.caps.maxSeries;
  }

  /** The first of `readings` that would make one series too many, and why; null if they all fit. Creates nothing. */
  pastLimit(readings: readonly ReadingInput[]): { index: number; message: string } | null {
    const { catalog, growth } = this.ctx;
    const max = growth.caps.maxSeries;
    /** new series of these readings, by `${metric}\0${unit}` (only near the limit, so rarely) */
    const fresh = new Set<string>();
    for (let i = 0; i < readings.length; i++) {
      const r = readings[i]!;
      const unit = r.unit ?? defaultUnit(r.metric, this.declaredUnits);
      const key = `${r.metric}\0${unit}`;
      if (fresh.has(key)) continue;
      // At most `max` held: an existing series gets its id, a new one -1 (nothing is created).
      if (catalog.seriesIdWithin(this.sensor, this.room, r.metric, unit, catalog.seriesCount) !== -1) continue;
      fresh.add(key);
      if (catalog.seriesCount + fresh.size > max)
        return { index: i, message: growth.newSeriesRefusal(this.sensor, r.metric, catalog.seriesCount + fresh.size - 1)! };
    }
    return null;
  }

  /** The series of a metric in a unit this connection has not just used (a first reading, or a change of unit). */
  private seriesOf(metric: string, named: string | undefined): CachedSeries {
    const fallback = defaultUnit(metric, this.declaredUnits);
    const unit = named ?? fallback;
    const seriesId = this.ctx.catalog.seriesId(this.sensor, this.room, metric, unit);
    const cached = { unit, isDefault: unit === fallback, seriesId, channel: this.ctx.catalog.channel(seriesId) };
    this.cache.set(metric, cached);
    this.ctx.registry.noteMetric(this.record, metric);
    return cached;
  }
}
