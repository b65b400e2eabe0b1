/**
 * The newest reading of every (sensor, metric), as `GET /api/v1/latest` answers it,
 * sorted by sensor then metric. The sorted channel list is cached until a channel is added.
 * The answers dashboards poll (everything, or the rooms of a room-scoped token) are rendered
 * once per change of latest and then served as bytes, so a poll costs no JSON encoding; each
 * has an ETag (an unchanged answer is a 304) and a gzip copy made on first demand (3,000
 * readings: 310 KB of JSON, 30 KB gzipped, about 1 ms to compress once per change).
 */
import { randomBytes } from 'node:crypto';
import { constants, gzipSync } from 'node:zlib';
import type { Reading } from '../../protocol/api.ts';
import { matches, type Filters } from '../../protocol/filters.ts';
import type { Channel, SeriesCatalog } from '../ingest/series-catalog.ts';

/** A reading as `latest` shows it. */
export type LatestReading = Reading;

/** Room sets whose rendered answer is kept: beyond the dashboards in use, the oldest goes. */
const MAX_RENDERED = 64;

/** Below this an answer is sent as it is: gzip would save less than it costs. */
const GZIP_FROM_BYTES = 1_024;

/** One rendered answer: its JSON, its ETag, and its gzip copy made once when first asked for. */
export class RenderedLatest {
  private gzipped: Buffer | null = null;

  constructor(
    readonly json: Buffer,
    /** a weak validator: unique to this rendering in this process (a restart gives new ones) */
    readonly etag: string,
  ) {}

  /** The gzip copy, or null for an answer too small to be worth it. */
  gzip(): Buffer | null {
    if (this.json.length < GZIP_FROM_BYTES) return null;
    // The fastest level: 10x smaller already, and it runs once per change of latest.
    this.gzipped ??= gzipSync(this.json, { level: constants.Z_BEST_SPEED });
    return this.gzipped;
  }
}

export class LatestView {
  private sorted: Channel[] = [];
  private sortedVersion = -1;
  /** by room set (see rendered's key): the answer, rendered once per change of latest */
  private readonly renderings = new Map<string, { version: string; body: RenderedLatest }>();
  /** ETags are `W/"<boot>.<n>"`: this process's random prefix, then a count of renderings */
  private readonly boot = randomBytes(6).toString('hex');
  private renderCount = 0;

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
  rendered(filters: Filters): RenderedLatest | null {
    if (filters.sensor !== null || filters.metric !== null) return null;
    // '*' is every room; an empty room set (a scope that leaves none) is '=' and answers nothing.
    const key = filters.room === null ? '*' : `=${[...filters.room].sort().join('\n')}`;
    const version = `${this.catalog.version}:${this.catalog.latestVersion}`;
    const hit = this.renderings.get(key);
    if (hit?.version === version) return hit.body;
    const json = Buffer.from(JSON.stringify({ readings: this.readings(filters) }));
    const body = new RenderedLatest(json, `W/"${this.boot}.${++this.renderCount}"`);
    // Bounded: a client asking for ever new room sets evicts the oldest, never grows the hub.
    if (!hit && this.renderings.size >= MAX_RENDERED) this.renderings.delete(this.renderings.keys().next().value!);
    this.renderings.set(key, { version, body });
    return body;
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
