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
