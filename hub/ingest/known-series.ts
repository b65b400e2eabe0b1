/**
 * Each sensor's series as the inputs (batch-ingest.ts) last used them, kept across submits (a
 * device sends the same metrics in every message): a reading of a known series costs no key and
 * no catalog lookup. A sensor's entry is valid while its record, room and declared units and the
 * catalog's generation are the ones it was made with; bounded as the sensors and series are
 * (growth-limits.ts).
 */
import { defaultUnit } from '../../protocol/names.ts';
import type { SensorRecord, SensorRegistry } from '../sensors/sensor-registry.ts';
import type { GrowthLimits } from './growth-limits.ts';
import type { Channel, SeriesCatalog } from './series-catalog.ts';

export interface KnownSensor {
  record: SensorRecord;
  room: string;
  declared: SensorRecord['declaredMetrics'];
  generation: number;
  /** by metric: its series, one per unit (nearly always one) */
  series: Map<string, KnownSeries>;
}

export interface KnownSeries {
  unit: string;
  /** the metric's default unit for this sensor: a reading that names none goes here */
  isDefault: boolean;
  id: number;
  channel: Channel;
  next: KnownSeries | null;
}

export class KnownSeriesCache {
  /** by sensor id */
  private readonly known = new Map<string, KnownSensor>();

  constructor(
    private readonly catalog: SeriesCatalog,
    private readonly registry: SensorRegistry,
    private readonly growth: GrowthLimits,
  ) {}

  /** Whether `sensor` has known series in `room` (its id and room were checked when they were made). */
  checked(sensor: string, room: string | undefined): boolean {
    const cached = this.known.get(sensor);
    return cached !== undefined && (room === undefined || room === cached.room);
  }

  /** The sensor's known series, started over if its record, room, declared units or the catalog changed. */
  of(cached: KnownSensor | null, record: SensorRecord): KnownSensor {
    const generation = this.catalog.generation;
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

  /** The series of (metric, unit) known for this sensor, or null (`unit` undefined: the metric's default). */
  find(known: KnownSensor, metric: string, unit: string | undefined): KnownSeries | null {
    let series = known.series.get(metric) ?? null;
    while (series !== null && (unit === undefined ? !series.isDefault : series.unit !== unit)) series = series.next;
    return series;
  }

  /** The series of a reading whose (metric, unit) this sensor has not used since its entry started; or why not (the limit). */
  add(known: KnownSensor, metric: string, named: string | undefined): KnownSeries | string {
    const record = known.record;
    const fallback = defaultUnit(metric, record.declaredMetrics);
    const unit = named ?? fallback;
    // The record's room now: the room this submit gave, or the one the sensor was in.
    const id = this.catalog.seriesIdWithin(record.sensor, record.room, metric, unit, this.growth.caps.maxSeries);
    if (id === -1)
      return this.growth.newSeriesRefusal(record.sensor, metric, this.catalog.seriesCount) ?? 'the hub keeps as many series as it may';
    const series: KnownSeries = {
      unit,
      isDefault: unit === fallback,
      id,
      channel: this.catalog.channel(id),
      next: known.series.get(metric) ?? null,
    };
    known.series.set(metric, series);
    this.registry.noteMetric(record, metric);
    return series;
  }
}
