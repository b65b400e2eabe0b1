/**
 * Every series (sensor, room, metric, unit) with its id, and every channel (sensor, metric):
 * the unit of identity for duplicates and of `latest`. Ids are handed out here, on the main
 * thread, so ingest never waits for the store to name a series.
 */
import type { Columns, LoadedState, SeriesDef } from '../store/store-messages.ts';

export interface Channel {
  readonly id: number;
  readonly sensor: string;
  readonly metric: string;
  /** Highest ts accepted for storage. A reading above it is certainly new: the fast path. */
  lastTs: number;
  /** The newest committed reading, or latestSeries -1 if none yet. */
  latestTs: number;
  latestValue: number;
  latestSeries: number;
}

export class SeriesCatalog {
  /** by series id (ids are dense from 1) */
  readonly series: (SeriesDef | undefined)[] = [];
  /** by series id */
  readonly channelOfSeries: (Channel | undefined)[] = [];
  /** by `${sensor}\0${metric}` */
  readonly channels = new Map<string, Channel>();
  /** by `${sensor}\0${room}\0${metric}\0${unit}` */
  private readonly idByKey = new Map<string, number>();
  /** created since the last commit was sealed; persisted with it */
  private unsaved: SeriesDef[] = [];
  private nextId = 1;
  private nextChannelId = 1;
  /** bumped when a channel is added, so sorted views can be cached */
  version = 0;
  /** bumped when any latest reading changes, so rendered views can be cached */
  latestVersion = 0;

  load(state: LoadedState): void {
    for (const s of state.series) this.add(s);
    this.unsaved = [];
    for (const n of state.newest) {
      const ch = this.channelOfSeries[n.seriesId];
      if (!ch) continue;
      this.offerLatest(n.seriesId, n.ts, n.value);
      if (n.ts > ch.lastTs) ch.lastTs = n.ts;
    }
  }

  /** The id of a series, created if new. */
  seriesId(sensor: string, room: string, metric: string, unit: string): number {
    const key = `${sensor}\0${room}\0${metric}\0${unit}`;
    const id = this.idByKey.get(key);
    if (id !== undefined) return id;
    const def: SeriesDef = {
      id: this.nextId,
      channel: this.channels.get(`${sensor}\0${metric}`)?.id ?? this.nextChannelId,
      sensor,
      room,
      metric,
      unit,
    };
    this.add(def);
    this.unsaved.push(def);
    return def.id;
  }

  channel(seriesId: number): Channel {
    const ch = this.channelOfSeries[seriesId];
    if (!ch) throw new Error(`unknown series ${seriesId}`);
    return ch;
  }

  takeUnsaved(): SeriesDef[] {
    const out = this.unsaved;
    this.unsaved = [];
    return out;
  }

  /** Gives back series whose commit failed, so the next commit persists them. */
  restoreUnsaved(defs: SeriesDef[]): void {
    this.unsaved = defs.concat(this.unsaved);
  }

  /** A stored reading: it becomes its channel's latest if it is newer (largest ts wins). */
  offerLatest(seriesId: number, ts: number, value: number): void {
    const ch = this.channelOfSeries[seriesId]!;
    if (ts > ch.latestTs) {
      ch.latestTs = ts;
      ch.latestValue = value;
      ch.latestSeries = seriesId;
      this.latestVersion++;
    }
  }

  /** Moves `latest` forward with committed rows; an older ts never replaces a newer one. */
  applyCommitted(rows: Columns, mask?: Uint8Array): void {
    const { series, ts, value } = rows;
    for (let i = 0; i < rows.n; i++) {
      if (mask && mask[i] === 0) continue;
      this.offerLatest(series[i]!, ts[i]!, value[i]!);
    }
  }

  private add(def: SeriesDef): void {
    this.series[def.id] = def;
    this.idByKey.set(`${def.sensor}\0${def.room}\0${def.metric}\0${def.unit}`, def.id);
    if (def.id >= this.nextId) this.nextId = def.id + 1;
    if (def.channel >= this.nextChannelId) this.nextChannelId = def.channel + 1;
    const chKey = `${def.sensor}\0${def.metric}`;
    let ch = this.channels.get(chKey);
    if (!ch) {
      ch = {
        id: def.channel,
        sensor: def.sensor,
        metric: def.metric,
        lastTs: -Infinity,
        latestTs: -Infinity,
        latestValue: 0,
        latestSeries: -1,
      };
      this.channels.set(chKey, ch);
      this.version++;
    }
    this.channelOfSeries[def.id] = ch;
  }
}
