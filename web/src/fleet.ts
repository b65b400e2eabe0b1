/**
 * What the page knows of the sensors the user may see: the list (`GET /api/v1/sensors`), the
 * latest reading of each (sensor, metric) (`GET /api/v1/latest` once, then the live stream), and
 * each sensor's usual interval, learnt from the gaps between its readings, which says when a
 * value is stale. Readings are never polled. The sensor list is, every 10 s, and it is the
 * page's only poll there: the contract's stream (PROTOCOL.md §2) carries readings only, never a
 * connect or disconnect, and the activity stream, which has sensor connects but no disconnects,
 * is for admins and not per room. A sensor that connects and sends a reading shows at once;
 * a disconnect, or a connect without readings, within a reload.
 */
import { signal } from '@preact/signals';
import { useEffect, useState } from 'preact/hooks';
import type { LatestBody, Reading, SensorInfo, SensorsBody } from '../../protocol/api.ts';
import { getJson } from './api.ts';
import { live } from './live.ts';
import { pacedBump } from './redraw.ts';

/** A value is stale after this many of its sensor's usual intervals without a reading. */
export const STALE_INTERVALS = 3;
/** ... but never sooner than this (a 10 Hz sensor's hiccup is not news) */
export const MIN_STALE_MS = 5_000;
/** ... and for a sensor whose interval is not known yet (one reading seen), after this. */
export const UNKNOWN_INTERVAL_STALE_MS = 60_000;
/**
 * One chain of reloads per Fleet (one Fleet per view, the view in sight): the next is armed only
 * when one ends, so a slow hub is asked less often, never more. A hidden tab does not reload (a
 * dashboard left open in the background costs the hub nothing); it reloads when shown again.
 */
const SENSORS_RELOAD_MS = 10_000;
/** `latest` is loaded apart, and intervals are learnt from the readings that follow it: no replay */
const REPLAY = 0;

export interface SensorView {
  info: SensorInfo;
  /** by metric, sorted by metric */
  latest: Map<string, Reading>;
  /** the sensor's usual gap between readings of one metric, ms; null until two have been seen */
  intervalMs: number | null;
}

export class Fleet {
  /** by sensor id */
  readonly sensors = new Map<string, SensorView>();
  /** moves on every change (at most once a frame), so views re-render */
  readonly version = signal(0);
  readonly error = signal<string | null>(null);
  readonly loaded = signal(false);
  private readonly bump = pacedBump(this.version);
  private stopped = false;
  private reloadTimer: ReturnType<typeof setTimeout> | undefined;
  private unfollow: (() => void) | null = null;

  start(): void {
    // After a gap in the stream, connects and disconnects may have been missed too: both lists again.
    this.unfollow = live.follow({ replay: REPLAY, onReading: (r) => this.add(r), onGap: () => void this.load() });
    document.addEventListener('visibilitychange', this.onVisibility);
    void this.load();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.reloadTimer);
    document.removeEventListener('visibilitychange', this.onVisibility);
    this.unfollow?.();
  }

  /** Shown again after a pause in a hidden tab: the list at once, and the chain goes on from there. */
  private readonly onVisibility = (): void => {
    if (!document.hidden && this.reloadTimer === undefined) void this.loadSensors();
  };

  private async load(): Promise<void> {
    await Promise.all([this.loadSensors(), this.loadLatest()]);
    this.loaded.value = true;
  }

  private async loadSensors(): Promise<void> {
    try {
      const { sensors } = await getJson<SensorsBody>('/api/v1/sensors');
      const seen = new Set<string>();
      for (const info of sensors) {
        seen.add(info.sensor);
        const v = this.sensors.get(info.sensor);
        if (v) v.info = info;
        else this.sensors.set(info.sensor, { info, latest: new Map(), intervalMs: null });
      }
      for (const id of [...this.sensors.keys()]) if (!seen.has(id)) this.sensors.delete(id);
      this.error.value = null;
      this.bump();
    } catch (err) {
      this.error.value = `The sensor list did not load: ${(err as Error).message}`;
    } finally {
      // One timer at most, whoever called: a reload after a gap or a return to the tab
      // replaces the armed one instead of starting a second chain.
      clearTimeout(this.reloadTimer);
      this.reloadTimer = undefined;
      if (!this.stopped && !document.hidden) this.reloadTimer = setTimeout(() => void this.loadSensors(), SENSORS_RELOAD_MS);
    }
  }

  private async loadLatest(): Promise<void> {
    try {
      const { readings } = await getJson<LatestBody>('/api/v1/latest');
      for (const r of readings) this.add(r, false);
    } catch (err) {
      this.error.value = `The latest readings did not load: ${(err as Error).message}`;
    }
  }

  /** A reading from latest or the stream; an older one than shown never moves the value back. */
  private add(r: Reading, learn = true): void {
    let v = this.sensors.get(r.sensor);
    if (!v) {
      // a sensor new since the list was loaded: shown at once, its details with the next reload
      v = {
        info: { sensor: r.sensor, room: r.room, connected: true, last_seen: null, metrics: [r.metric] },
        latest: new Map(),
        intervalMs: null,
      };
      this.sensors.set(r.sensor, v);
    }
    const before = v.latest.get(r.metric);
    if (before && r.ts <= before.ts) return;
    if (before && learn) {
      const gap = r.ts - before.ts;
      // a smoothed gap: one late reading does not halve the time to "stale"
      v.intervalMs = v.intervalMs === null ? gap : Math.round(v.intervalMs * 0.8 + gap * 0.2);
    }
    v.latest.set(r.metric, r);
    this.bump();
  }
}

/** Whether a reading of this sensor taken at `ts` counts as stale at `now`. */
export function isStale(view: SensorView, ts: number, now: number): boolean {
  const limit = view.intervalMs === null ? UNKNOWN_INTERVAL_STALE_MS : Math.max(MIN_STALE_MS, STALE_INTERVALS * view.intervalMs);
  return now - ts > limit;
}

/** The rooms to show: those of the sensors, and the user's own rooms even when empty. */
export function roomsOf(fleet: Fleet, userRooms: readonly string[]): string[] {
  const rooms = new Set<string>(userRooms.filter((r) => r !== '*'));
  for (const v of fleet.sensors.values()) rooms.add(v.info.room);
  return [...rooms].sort();
}

/** The page's Fleet while the calling view is shown: loaded and followed on mount, let go on unmount. */
export function useFleet(): Fleet {
  const [fleet] = useState(() => new Fleet());
  useEffect(() => {
    fleet.start();
    return () => fleet.stop();
  }, [fleet]);
  return fleet;
}
