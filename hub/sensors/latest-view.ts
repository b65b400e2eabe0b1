/**
 * The newest reading of every (sensor, metric), as `GET /api/v1/latest` answers it,
 * sorted by sensor then metric. The sorted channel list is cached until a channel is added.
 */
import type { Reading } from '../../protocol/api.ts';
import { matches, NO_FILTERS, type Filters } from '../../protocol/filters.ts';
import type { Channel, SeriesCatalog } from '../ingest/series-catalog.ts';

/** A reading as `latest` shows it. */
export type LatestReading = Reading;

export class LatestView {
  private sorted: Channel[] = [];
  private sortedVersion = -1;
  /** the unfiltered answer, rendered once per change of latest */
  private allJson: Buffer = Buffer.alloc(0);
  private allVersion = '';

  constructor(private readonly catalog: SeriesCatalog) {}

  readings(filters: Filters): LatestReading[] {
    const out: LatestReading[] = [];
    for (const ch of this.sortedChannels()) {
      if (ch.latestSeries < 0) continue;
      const s = this.catalog.series[ch.latestSeries]!;
      if (!matches(filters, s.sensor, s.room, s.metric)) continue;
      out.push({ sensor: s.sensor, room: s.room, metric: s.metric, value: ch.latestValue, unit: s.unit, ts: ch.latestTs });
    }
    return out;
  }

  /** The unfiltered answer as JSON bytes, rendered again only when latest has changed. */
  allAsJson(): Buffer {
    const version = `${this.catalog.version}:${this.catalog.latestVersion}`;
    if (version !== this.allVersion) {
      this.allJson = Buffer.from(JSON.stringify({ readings: this.readings(NO_FILTERS) }));
      this.allVersion = version;
    }
    return this.allJson;
  }

  private sortedChannels(): Channel[] {
    if (this.sortedVersion !== this.catalog.version) {
      this.sorted = [...this.catalog.channels.values()].sort((a, b) =>
        a.sensor < b.sensor ? -1 : a.sensor > b.sensor ? 1 : a.metric < b.metric ? -1 : a.metric > b.metric ? 1 : 0,
      );
      this.sortedVersion = this.catalog.version;
    }
    return this.sorted;
  }
}
