/**
 * The newest reading of every (sensor, metric), as `GET /api/v1/latest` answers it,
 * sorted by sensor then metric. The sorted channel list is cached until a channel is added.
 * The answers dashboards poll (everything, or the rooms of a room-scoped token) are rendered
 * once per change of latest and then served as bytes, so a poll costs no JSON encoding.
 */
import type { Reading } from '../../protocol/api.ts';
import { matches, type Filters } from '../../protocol/filters.ts';
import type { Channel, SeriesCatalog } from '../ingest/series-catalog.ts';

/** A reading as `latest` shows it. */
export type LatestReading = Reading;

/** Room sets whose rendered answer is kept: beyond the dashboards in use, the oldest goes. */
const MAX_RENDERED = 64;

export class LatestView {
  private sorted: Channel[] = [];
  private sortedVersion = -1;
  /** by room set (see asJson's key): the answer, rendered once per change of latest */
  private readonly rendered = new Map<string, { version: string; json: Buffer }>();

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

  /**
   * The answer for `filters` as JSON bytes when only rooms (or nothing) are filtered, rendered
   * again only when latest has changed; null for other filters (rendered per request).
   */
  asJson(filters: Filters): Buffer | null {
    if (filters.sensor !== null || filters.metric !== null) return null;
    // '*' is every room; an empty room set (a scope that leaves none) is '=' and answers nothing.
    const key = filters.room === null ? '*' : `=${[...filters.room].sort().join('\n')}`;
    const version = `${this.catalog.version}:${this.catalog.latestVersion}`;
    const hit = this.rendered.get(key);
    if (hit?.version === version) return hit.json;
    const json = Buffer.from(JSON.stringify({ readings: this.readings(filters) }));
    // Bounded: a client asking for ever new room sets evicts the oldest, never grows the hub.
    if (!hit && this.rendered.size >= MAX_RENDERED) this.rendered.delete(this.rendered.keys().next().value!);
    this.rendered.set(key, { version, json });
    return json;
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
