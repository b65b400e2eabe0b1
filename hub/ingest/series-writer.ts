/**
 * Where one connection's readings go: the series of each metric (sensor, room, metric, unit),
 * cached for the connection, and each reading into the group commit, as certainly new or as a
 * possible duplicate. Called once per reading: nothing is allocated unless a series is new.
 */
import type { ReadingInput } from '../../protocol/messages.ts';
import { defaultUnit } from '../../protocol/names.ts';
import type { SensorRecord } from '../sensors/sensor-registry.ts';
import type { Channel } from './series-catalog.ts';
import type { SessionContext } from './session-context.ts';

interface CachedSeries {
  unit: string;
  seriesId: number;
  channel: Channel;
}

export class SeriesWriter {
  /** by metric: the series this connection's readings of it go to */
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
    const unit = r.unit ?? defaultUnit(metric, this.declaredUnits);
    let cached = this.cache.get(metric);
    if (cached === undefined || cached.unit !== unit) {
      const seriesId = this.ctx.catalog.seriesId(this.sensor, this.room, metric, unit);
      cached = { unit, seriesId, channel: this.ctx.catalog.channel(seriesId) };
      this.cache.set(metric, cached);
      this.ctx.registry.noteMetric(this.record, metric);
    }
    const ts = r.ts ?? now;
    if (this.ctx.catalog.claimTs(cached.channel, ts)) {
      this.ctx.commits.addFresh(cached.seriesId, ts, r.value);
    } else {
      this.ctx.commits.addMaybeDuplicate(cached.seriesId, ts, r.value);
    }
    this.ctx.counters.readingsReceived++;
    return unit;
  }
}
