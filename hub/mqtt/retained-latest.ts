/**
 * Retained messages update latest but are not history. What a broker retains is the last state a
 * device published, replayed to every new subscription, possibly days later: storing it again
 * at each hub start would add readings that were never taken. So its readings go to `latest`
 * only (and the sensor to `sensors`), never to the store or the live stream:
 *
 * - with the device's own time: latest moves to it if it is newer than latest (as any reading);
 * - without one: only a (sensor, metric) with no latest yet takes it, stamped with the time the
 *   hub received it; a latest the hub has is never replaced by a value of unknown age.
 *
 * After a restart latest comes from the store again, and the broker replays the retained
 * messages again at subscribe.
 */
import { defaultUnit } from '../../protocol/names.ts';
import { readingProblem, type ExternalReading, type Rights } from '../ingest/batch-ingest.ts';
import type { GrowthLimits } from '../ingest/growth-limits.ts';
import type { SeriesCatalog } from '../ingest/series-catalog.ts';
import type { SensorRegistry } from '../sensors/sensor-registry.ts';

export interface RetainedLatestDeps {
  catalog: SeriesCatalog;
  registry: SensorRegistry;
  /** the hub's limits on sensors and series: a retained message makes no sensor or series past them either */
  growth: GrowthLimits;
  now(): number;
}

export type RetainedRefusal = 'invalid' | 'forbidden' | 'limit';

export class RetainedLatest {
  constructor(private readonly deps: RetainedLatestDeps) {}

  /** Offers the readings to latest; returns how many were taken and the reasons of those refused. */
  offer(readings: readonly ExternalReading[], rights: Rights): { taken: number; refused: RetainedRefusal[] } {
    const { catalog, registry, growth } = this.deps;
    const now = this.deps.now();
    let taken = 0;
    const refused: RetainedRefusal[] = [];
    for (const r of readings) {
      if (readingProblem(r, now) !== null) {
        refused.push('invalid');
        continue;
      }
      let rec = registry.records.get(r.sensor);
      const room = r.room ?? rec?.room ?? 'default';
      if (rights.refusal(r.sensor, room, rec?.room) !== null) {
        refused.push('forbidden');
        continue;
      }
      const full = rec === undefined ? growth.newSensorRefusal(r.sensor, registry.records.size) : null;
      if (full !== null) {
        growth.refused('mqtt', 'sensor_limit', full);
        refused.push('limit');
        continue;
      }
      // A sensor known only from a retained message was last seen when the device published it, if it says.
      if (rec === undefined || (r.room !== undefined && r.room !== rec.room))
        rec = registry.heardFrom(r.sensor, r.room, 'mqtt', r.ts ?? now);
      const unit = r.unit ?? defaultUnit(r.metric, rec.declaredMetrics);
      const seriesId = catalog.seriesIdWithin(rec.sensor, rec.room, r.metric, unit, growth.caps.maxSeries);
      if (seriesId === -1) {
        growth.refused('mqtt', 'series_limit', growth.newSeriesRefusal(rec.sensor, r.metric, catalog.seriesCount) ?? '');
        refused.push('limit');
        continue;
      }
      registry.noteMetric(rec, r.metric);
      const channel = catalog.channel(seriesId);
      if (r.ts !== undefined) catalog.offerLatest(seriesId, r.ts, r.value);
      else if (channel.latestSeries < 0) catalog.offerLatest(seriesId, now, r.value);
      taken++;
    }
    return { taken, refused };
  }
}
