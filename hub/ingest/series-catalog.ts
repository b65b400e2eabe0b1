/**
 * Every series (sensor, room, metric, unit) with its id, and every channel (sensor, metric):
 * the unit of identity for duplicates and of `latest`. Ids are handed out here, on the main
 * thread, so ingest never waits for the store to name a series.
 */
import type { Columns, LoadedState, SeriesDef } from '../store/store-messages.ts';
import { RecentTs } from './recent-ts.ts';

/**
 * Everything but the catalog reads a channel: its bounds move only through the catalog's
 * methods (claimTs, raiseBound, offerLatest), so the duplicate fast path has one keeper.
 */
export interface Channel {
  readonly id: number;
  readonly sensor: string;
  readonly metric: string;
  /** Highest ts accepted for storage. A reading above it is certainly new: the fast path. */
  readonly lastTs: number;
  /**
   * Two stretches (lo, hi), ends excluded, below lastTs where no ts was accepted and none is
   * stored (see claimTs): the widest jump of lastTs so far, and the last one.
   */
  readonly wideLo: number;
  readonly wideHi: number;
  readonly lastLo: number;
  readonly lastHi: number;
  /** the last ts accepted, once readings came out of order past the gaps (recent-ts.ts); else null */
  readonly recent: RecentTs | null;
  /** The newest committed reading, or latestSeries -1 if none yet. */
  readonly latestTs: number;
  readonly latestValue: number;
  readonly latestSeries: number;
}

/** A channel as the catalog holds it: the only place its fields are written. */
type OwnChannel = { -readonly [K in keyof Channel]: Channel[K] };

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
  /**
   * Bumped when series ids may no longer mean what they meant (the catalog is loaded again):
   * caches of ids outside the catalog (BatchIngest's) start over then. Adding a series keeps it.
   */
  generation = 0;
  private count = 0;

  /** Series held, the hub's growth limit counts them (growth-limits.ts). */
  get seriesCount(): number {
    return this.count;
  }

  load(state: LoadedState): void {
    this.generation++;
    for (const s of state.series) this.add(s);
    this.unsaved = [];
    for (const n of state.newest) {
      const ch = this.channelOfSeries[n.seriesId];
      if (!ch) continue;
      this.offerLatest(n.seriesId, n.ts, n.value);
      this.raiseBound(ch, n.ts);
    }
  }

  /**
   * A reading of `channel` at `ts` is about to be stored: true if it is certainly new (above
   * every ts accepted so far, which it now becomes, or inside one of the channel's gaps), false
   * if it may repeat a stored one and must be checked against the store.
   *
   * The gaps: when a ts jumps above lastTs, nothing was accepted or stored between the two (for
   * a channel new since the store was loaded, nothing below either). Writers that overlap (two
   * HTTP writes of one series, a device's messages over several MQTT sessions) deliver a
   * channel's readings out of order; those that land in a gap need no check against the store.
   * Two are kept: the widest jump (for a new channel, all below its first reading: the steps of
   * a series in order must not replace it) and the last one (a message overtaken by the next).
   * A reading taken from a gap is cut out of both (the upper part is kept: readings mostly come
   * in order), so a gap never holds an accepted ts. Past the gaps, a channel that got such a
   * reading keeps its last accepted ts from then on (recent-ts.ts): deeper reorderings.
   */
  claimTs(channel: Channel, ts: number): boolean {
    const ch = own(channel);
    const last = ch.lastTs;
    if (ts > last) {
      const jump = ts - last;
      if (jump > 1) {
        ch.lastLo = last;
        ch.lastHi = ts;
        if (jump >= ch.wideHi - ch.wideLo) {
          ch.wideLo = last;
          ch.wideHi = ts;
        }
      }
      ch.lastTs = ts;
      ch.recent?.add(ts);
      return true;
    }
    const inWide = ts > ch.wideLo && ts < ch.wideHi;
    const inLast = ts > ch.lastLo && ts < ch.lastHi;
    if (inWide || inLast) {
      if (inWide) {
        if (ch.wideHi - ts > 1) ch.wideLo = ts;
        else ch.wideHi = ts;
      }
      if (inLast) {
        if (ch.lastHi - ts > 1) ch.lastLo = ts;
        else ch.lastHi = ts;
      }
      ch.recent?.add(ts);
      return true;
    }
    // Past the gaps: the channel's last accepted ts tell, once they are kept (from now on).
    const recent = (ch.recent ??= new RecentTs(last));
    const free = recent.isFree(ts);
    // Kept either way: a reading sent to the store's check may be stored.
    recent.add(ts);
    return free;
  }

  /**
   * Readings up to `ts` are stored or being stored by another path (an upload, another hub):
   * from now on a live reading at or below it is checked against the store. Never lowers the
   * bound; the gaps keep only their parts above `ts`.
   */
  raiseBound(channel: Channel, ts: number): void {
    const ch = own(channel);
    if (ts > ch.lastTs) ch.lastTs = ts;
    if (ts > ch.wideLo) ch.wideLo = ts;
    if (ts > ch.lastLo) ch.lastLo = ts;
    if (ch.recent !== null && ts > ch.recent.floor) ch.recent.floor = ts;
  }

  /** The id of a series, created if new. */
  seriesId(sensor: string, room: string, metric: string, unit: string): number {
    return this.seriesIdWithin(sensor, room, metric, unit, Infinity);
  }

  /** The id of a series, created if new while fewer than `maxSeries` are held; -1 if it would be one too many. */
  seriesIdWithin(sensor: string, room: string, metric: string, unit: string, maxSeries: number): number {
    const key = seriesKey(sensor, room, metric, unit);
    const id = this.idByKey.get(key);
    if (id !== undefined) return id;
    if (this.count >= maxSeries) return -1;
    const def: SeriesDef = {
      id: this.nextId,
      channel: this.channels.get(channelKey(sensor, metric))?.id ?? this.nextChannelId,
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
    const ch = own(this.channelOfSeries[seriesId]!);
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
    if (this.series[def.id] === undefined) this.count++;
    this.series[def.id] = def;
    this.idByKey.set(seriesKey(def.sensor, def.room, def.metric, def.unit), def.id);
    if (def.id >= this.nextId) this.nextId = def.id + 1;
    if (def.channel >= this.nextChannelId) this.nextChannelId = def.channel + 1;
    const chKey = channelKey(def.sensor, def.metric);
    let ch = this.channels.get(chKey);
    if (!ch) {
      ch = {
        id: def.channel,
        sensor: def.sensor,
        metric: def.metric,
        lastTs: -Infinity,
        wideLo: 0,
        wideHi: 0,
        lastLo: 0,
        lastHi: 0,
        recent: null,
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

// Keys made by join(), not a template: a template's result is a tree of string pieces V8
// keeps as it is (about 200 bytes per key), join() makes one flat string. Kept for every series.
function seriesKey(sensor: string, room: string, metric: string, unit: string): string {
  return [sensor, room, metric, unit].join('\0');
}

function channelKey(sensor: string, metric: string): string {
  return [sensor, metric].join('\0');
}

/**
 * The writable view of a channel, for the catalog's own methods. Every Channel is made by add();
 * outside this file `ch.lastTs = ts` is a type error, which is the point.
 */
function own(channel: Channel): OwnChannel {
  return channel;
}
