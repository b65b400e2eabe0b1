/**
 * An upload goes straight into PostgreSQL, not through the stream the hubs follow, so the hub
 * that took it tells the others on core NATS (at most once; the writers never see these):
 * - UPLOADED_SUBJECT: the newest reading of each series it touched, for their latest;
 * - UPLOADED_ROWS_SUBJECT: its newly stored rows, for their live subscribers (the contract's
 *   stream carries readings from uploads too).
 * Both are bundles (bundle.ts), cut so a message stays far under any max_payload.
 */
import type { NatsConnection } from '@nats-io/transport-node';
import type { Logger } from 'pino';
import type { SeriesDef } from '../store/store-messages.ts';
import { encodeBundle, type BundleSeries, type ReadingBundle } from './bundle.ts';
import { UPLOADED_ROWS_SUBJECT, UPLOADED_SUBJECT } from './cluster-names.ts';

/** rows per announcement: a few hundred KB */
const ROWS_PER_MESSAGE = 5_000;

interface Rows {
  n: number;
  series: ArrayLike<number>;
  ts: ArrayLike<number>;
  value: ArrayLike<number>;
}

export class UploadAnnouncer {
  constructor(
    private readonly hubId: string,
    private readonly catalogSeries: readonly (SeriesDef | undefined)[],
    private readonly nc: () => NatsConnection | null,
    private readonly log: Pick<Logger, 'warn'>,
  ) {}

  /** Each touched series' newest reading, for the other hubs' latest. */
  newest(newest: readonly { seriesId: number; ts: number; value: number }[]): void {
    this.send(UPLOADED_SUBJECT, {
      n: newest.length,
      series: newest.map((x) => x.seriesId),
      ts: newest.map((x) => x.ts),
      value: newest.map((x) => x.value),
    });
  }

  /** Newly stored rows, for the other hubs' live subscribers. */
  rows(rows: Rows): void {
    this.send(UPLOADED_ROWS_SUBJECT, rows);
  }

  private send(subject: string, rows: Rows): void {
    const nc = this.nc();
    if (!nc || nc.isClosed()) return;
    for (let at = 0; at < rows.n; at += ROWS_PER_MESSAGE) {
      try {
        nc.publish(subject, encodeBundle(this.bundle(rows, at, Math.min(rows.n, at + ROWS_PER_MESSAGE))));
      } catch (err) {
        this.log.warn({ err, subject }, 'could not tell the other hubs of an upload; their latest catches up at their next start');
        return;
      }
    }
  }

  private bundle(rows: Rows, from: number, to: number): ReadingBundle {
    const series: BundleSeries[] = [];
    const indexOf = new Map<number, number>();
    const b: ReadingBundle = {
      hub: this.hubId,
      gen: 0,
      partition: 0,
      series,
      n: 0,
      seriesIndex: new Int32Array(to - from),
      ts: new Float64Array(to - from),
      value: new Float64Array(to - from),
      sensors: [],
    };
    for (let i = from; i < to; i++) {
      const id = rows.series[i]!;
      let index = indexOf.get(id);
      if (index === undefined) {
        const def = this.catalogSeries[id];
        if (!def) continue;
        index = series.length;
        series.push({ sensor: def.sensor, room: def.room, metric: def.metric, unit: def.unit });
        indexOf.set(id, index);
      }
      b.seriesIndex[b.n] = index;
      b.ts[b.n] = rows.ts[i]!;
      b.value[b.n] = rows.value[i]!;
      b.n++;
    }
    return b;
  }
}
