/**
 * The time a room view shows, as it lives in the URL: `range=15m|1h|24h|7d` (a preset that
 * slides with the clock), or `from=…&to=…` (a custom range, ISO 8601 with a zone or ms), and
 * `zoom=FROM..TO` (the part dragged on a chart). Times are read by the hub's own grammar
 * (protocol/time.ts), so a link the hub would refuse is never made.
 *
 * The bucket length (`every` of history.csv) is chosen so a chart gets at most about one bucket
 * per pixel of its width (the bound is two: one looks the same and halves what travels),
 * whatever the range and however many readings it holds.
 */
import { parseTime } from '../../../protocol/time.ts';

export interface Preset {
  key: string;
  label: string;
  ms: number;
}

export const PRESETS: readonly Preset[] = [
  { key: '15m', label: '15 min', ms: 15 * 60_000 },
  { key: '1h', label: '1 h', ms: 3_600_000 },
  { key: '24h', label: '24 h', ms: 86_400_000 },
  { key: '7d', label: '7 d', ms: 7 * 86_400_000 },
];
export const DEFAULT_PRESET = '1h';

export type Range = { kind: 'preset'; preset: Preset } | { kind: 'custom'; from: number; to: number };

export interface Span {
  from: number;
  /** exclusive */
  to: number;
}

export interface ViewWindow extends Span {
  /** the window ends now and moves with the clock: live readings are drawn as they come */
  live: boolean;
  zoomed: boolean;
}

function timeParam(text: string | null): number | null {
  if (text === null) return null;
  const t = parseTime(text);
  return t.ok ? t.ms : null;
}

/** The range in the URL; anything unreadable is the default preset (a bad link still shows the room). */
export function rangeOf(query: URLSearchParams): Range {
  const from = timeParam(query.get('from'));
  const to = timeParam(query.get('to'));
  if (from !== null && to !== null && to > from) return { kind: 'custom', from, to };
  const preset = PRESETS.find((p) => p.key === query.get('range')) ?? PRESETS.find((p) => p.key === DEFAULT_PRESET)!;
  return { kind: 'preset', preset };
}

/** What of the URL decides the window: a view loads again when it changes. */
export function windowKey(query: URLSearchParams): string {
  return `${query.get('range')}|${query.get('from')}|${query.get('to')}|${query.get('zoom')}`;
}

export function zoomOf(query: URLSearchParams): Span | null {
  const [a, b, extra] = (query.get('zoom') ?? '').split('..');
  if (extra !== undefined || a === undefined || b === undefined) return null;
  const from = timeParam(a);
  const to = timeParam(b);
  return from !== null && to !== null && to > from ? { from, to } : null;
}

export function iso(ms: number): string {
  return new Date(ms).toISOString();
}

/** The query parameters of a range (the others removed). */
export function rangeParams(range: Range): Record<string, string | undefined> {
  return range.kind === 'preset'
    ? { range: range.preset.key, from: undefined, to: undefined, zoom: undefined }
    : { range: undefined, from: iso(range.from), to: iso(range.to), zoom: undefined };
}

export function zoomParam(zoom: Span | null): Record<string, string | undefined> {
  return { zoom: zoom ? `${iso(zoom.from)}..${iso(zoom.to)}` : undefined };
}

/** What is shown at `now`: the zoom when there is one, else the range. */
export function windowOf(range: Range, zoom: Span | null, now: number): ViewWindow {
  if (zoom) return { ...zoom, live: zoom.to > now, zoomed: true };
  if (range.kind === 'custom') return { from: range.from, to: range.to, live: range.to > now, zoomed: false };
  return { from: now - range.preset.ms, to: now, live: true, zoomed: false };
}

/** The charts' plot width for choosing buckets: the page's width less the axes and margins. */
export function plotWidthPx(): number {
  return Math.max(240, Math.min(window.innerWidth, 1200) - 100);
}

/** Bucket lengths people read easily, shortest first, as `every` writes them. */
const STEPS: readonly [number, string][] = [
  [10, '10ms'],
  [20, '20ms'],
  [50, '50ms'],
  [100, '100ms'],
  [200, '200ms'],
  [500, '500ms'],
  [1_000, '1s'],
  [2_000, '2s'],
  [5_000, '5s'],
  [10_000, '10s'],
  [15_000, '15s'],
  [30_000, '30s'],
  [60_000, '1m'],
  [120_000, '2m'],
  [300_000, '5m'],
  [600_000, '10m'],
  [900_000, '15m'],
  [1_800_000, '30m'],
  [3_600_000, '1h'],
  [7_200_000, '2h'],
  [10_800_000, '3h'],
  [21_600_000, '6h'],
  [43_200_000, '12h'],
  [86_400_000, '1d'],
  [172_800_000, '2d'],
  [604_800_000, '1w'],
  [2_419_200_000, '4w'],
  [31_449_600_000, '52w'],
];

export interface Every {
  ms: number;
  /** as history.csv's `every` takes it */
  text: string;
}

/** Buckets per pixel at most: a line of more says nothing more, and costs the hub, the wire and the page. */
export const BUCKETS_PER_PIXEL = 1;

/** The shortest easy bucket that gives at most BUCKETS_PER_PIXEL buckets per pixel of `widthPx` over `spanMs`. */
export function chooseEvery(spanMs: number, widthPx: number): Every {
  const wanted = spanMs / (BUCKETS_PER_PIXEL * Math.max(1, widthPx));
  const step = STEPS.find(([ms]) => ms >= wanted) ?? STEPS.at(-1)!;
  return { ms: step[0], text: step[1] };
}
