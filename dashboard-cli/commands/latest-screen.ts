/**
 * The latest readings fitted to a screen, for `latest --refresh` redrawn in place: a table taller
 * than the terminal scrolls its own header (and the top rows) away on every redraw, and a
 * dashboard that shows a different slice each second is no dashboard. So when every reading does
 * not fit, it shows one row per room and metric (sensors, min, mean, max, the newest reading's
 * age) and says how to see every reading; when even that does not fit, the rooms that do, and
 * how many are left out.
 */
import type { Reading } from '../api-types.ts';
import { formatAge, formatValue } from '../format.ts';
import { renderTable } from '../table.ts';
import { bold } from '../terminal.ts';

export interface ScreenOptions {
  color: boolean;
  /** Lines the table may take, its header and notes included. */
  maxLines: number;
  /** Readings are sorted and tabled by the caller's function when they fit. */
  fullTable: (readings: readonly Reading[]) => string[];
}

interface RoomMetric {
  room: string;
  metric: string;
  unit: string;
  sensors: Set<string>;
  min: number;
  max: number;
  sum: number;
  count: number;
  newestTs: number;
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** One entry per (room, metric, unit): a unit that differs between sensors is a row of its own, never averaged with the others. */
export function summarizeByRoom(readings: readonly Reading[]): RoomMetric[] {
  /** by room, metric and unit, joined with NUL (which no name may hold) */
  const groups = new Map<string, RoomMetric>();
  for (const r of readings) {
    const key = `${r.room}\0${r.metric}\0${r.unit}`;
    let g = groups.get(key);
    if (!g) {
      g = {
        room: r.room,
        metric: r.metric,
        unit: r.unit,
        sensors: new Set(),
        min: r.value,
        max: r.value,
        sum: 0,
        count: 0,
        newestTs: r.ts,
      };
      groups.set(key, g);
    }
    g.sensors.add(r.sensor);
    g.min = Math.min(g.min, r.value);
    g.max = Math.max(g.max, r.value);
    g.sum += r.value;
    g.count++;
    g.newestTs = Math.max(g.newestTs, r.ts);
  }
  return [...groups.values()].sort((a, b) => cmp(a.room, b.room) || cmp(a.metric, b.metric) || cmp(a.unit, b.unit));
}

/** A mean to show beside min and max: no more digits than a person reads at a glance. */
function formatMean(mean: number): string {
  return formatValue(Number(mean.toPrecision(4)));
}

function plural(n: number, one: string, many = `${one}s`): string {
  return `${n} ${n === 1 ? one : many}`;
}

/** The table's lines: every reading when they fit in `maxLines`, else the summary (cut to fit, and saying so). */
export function fitLatest(readings: readonly Reading[], nowMs: number, options: ScreenOptions): string[] {
  const full = options.fullTable(readings);
  if (full.length <= options.maxLines) return full;
  const groups = summarizeByRoom(readings);
  const rooms = new Set(groups.map((g) => g.room)).size;
  // Short: a note wider than the terminal would wrap onto a line the budget does not have.
  const note = `${plural(readings.length, 'reading')}, one line per room and metric to fit; --room shows each`;
  const columns = [
    { header: 'room' },
    { header: 'metric' },
    { header: 'sensors', align: 'right' as const },
    { header: 'min', align: 'right' as const },
    { header: 'mean', align: 'right' as const },
    { header: 'max', align: 'right' as const },
    { header: 'unit' },
    { header: 'newest', align: 'right' as const },
  ];
  const rows = groups.map((g) => [
    g.room,
    g.metric,
    String(g.sensors.size),
    formatValue(g.min),
    formatMean(g.sum / g.count),
    formatValue(g.max),
    g.unit,
    formatAge(nowMs - g.newestTs),
  ]);
  // Room by room, whole rooms only: half a room's metrics would read as the whole room.
  const budget = options.maxLines - 2; // the table's header and the note
  let shown = 0;
  let shownRooms = 0;
  while (shown < rows.length) {
    const room = groups[shown]!.room;
    let end = shown;
    while (end < rows.length && groups[end]!.room === room) end++;
    if (end > budget - (end < rows.length ? 1 : 0)) break;
    shown = end;
    shownRooms++;
  }
  const table = renderTable(columns, rows.slice(0, shown), { header: (line) => bold(line, options.color) });
  const lines = [...table];
  if (shown < rows.length) lines.push(`... and ${plural(rooms - shownRooms, 'more room')}`);
  lines.push(note);
  return lines.slice(0, Math.max(1, options.maxLines));
}
