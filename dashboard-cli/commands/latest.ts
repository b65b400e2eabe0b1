/**
 * `latest`: the newest reading of every (sensor, metric), from `GET /api/v1/latest`
 * (PROTOCOL.md §2), as a table for people or the hub's JSON for programs. With `--refresh MS`
 * it becomes a small dashboard: redrawn in place on a TTY, snapshot after snapshot when piped.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { checkLatestBody } from '../api-types.ts';
import type { LatestBody, Reading } from '../api-types.ts';
import { hasFilters, parseIntegerOption } from '../args.ts';
import type { CommandContext, CommandSpec } from '../command.ts';
import { describeError } from '../describe-error.ts';
import { ExitCode, UsageError, exitCodeFor } from '../errors.ts';
import { formatAge, formatClock, formatValue } from '../format.ts';
import type { JsonAnswer } from '../hub-client.ts';
import { oneLine } from '../json-output.ts';
import { renderTable } from '../table.ts';
import { CLEAR_SCREEN, bold } from '../terminal.ts';
import { filterQuery } from './filter-query.ts';
import { fitLatest } from './latest-screen.ts';

const MIN_REFRESH_MS = 100; // faster only loads the hub; a person cannot read it anyway
const MAX_REFRESH_MS = 86_400_000;
/** Redrawn in place: the title, a blank line, and the line the cursor rests on after the table. */
const SCREEN_LINES_NOT_TABLE = 3;
/** Below this a table is unreadable anyway: it is cut no further (the terminal scrolls). */
const MIN_TABLE_LINES = 4;

export const LATEST_PATH = '/api/v1/latest';

function compareReadings(a: Reading, b: Reading): number {
  // Code-unit order, like the hub's own sorting: the same for everyone, whatever the locale.
  return cmp(a.room, b.room) || cmp(a.sensor, b.sensor) || cmp(a.metric, b.metric);
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * The table people see: sorted by room, sensor, metric; ages against `nowMs`. Ends with a newline.
 * With `maxLines` (a screen redrawn in place), a summary per room when every reading does not fit.
 */
export function renderLatest(
  body: LatestBody,
  nowMs: number,
  options: { color: boolean; filtered: boolean; maxLines?: number | undefined },
): string {
  if (body.readings.length === 0) return options.filtered ? 'no readings match the filters\n' : 'no readings yet\n';
  const fullTable = (readings: readonly Reading[]): string[] => readingsTable(readings, nowMs, options.color);
  const lines =
    options.maxLines === undefined
      ? fullTable(body.readings)
      : fitLatest(body.readings, nowMs, { color: options.color, maxLines: options.maxLines, fullTable });
  return lines.join('\n') + '\n';
}

/** Readings as table lines (room, sensor, metric, value, unit, age), sorted by room, sensor, metric. */
export function readingsTable(readings: readonly Reading[], nowMs: number, color: boolean): string[] {
  const rows = [...readings]
    .sort(compareReadings)
    .map((r) => [r.room, r.sensor, r.metric, formatValue(r.value), r.unit, formatAge(nowMs - r.ts)]);
  const columns = [
    { header: 'room' },
    { header: 'sensor' },
    { header: 'metric' },
    { header: 'value', align: 'right' as const },
    { header: 'unit' },
    { header: 'age', align: 'right' as const },
  ];
  return renderTable(columns, rows, { header: (line) => bold(line, color) });
}

export const latestCommand: CommandSpec = {
  name: 'latest',
  summary: 'the newest reading of every sensor and metric',
  details: [
    'Columns: room, sensor, metric, value, unit, age (of the reading, by the local clock).',
    'With --refresh the table is redrawn in place on a terminal, or printed snapshot after',
    'snapshot when piped (one JSON line per snapshot with --json), until Ctrl-C or --times.',
    'Once a snapshot has been shown, a failed one is reported on stderr and retried. Redrawn in place,',
    'a table taller than the terminal becomes one line per room and metric (sensors, min, mean, max).',
  ],
  options: {
    refresh: { type: 'string', valueName: 'MS', help: `redraw every MS milliseconds (at least ${MIN_REFRESH_MS}) until Ctrl-C` },
    times: { type: 'string', valueName: 'N', help: 'with --refresh: stop after N snapshots' },
  },
  async run(ctx) {
    const refreshText = ctx.options.refresh;
    const timesText = ctx.options.times;
    const refreshMs =
      typeof refreshText === 'string' ? parseIntegerOption('--refresh', refreshText, MIN_REFRESH_MS, MAX_REFRESH_MS) : undefined;
    const times = typeof timesText === 'string' ? parseIntegerOption('--times', timesText, 1, Number.MAX_SAFE_INTEGER) : undefined;
    if (times !== undefined && refreshMs === undefined) throw new UsageError('--times needs --refresh MS');

    const fetchLatest = (): Promise<JsonAnswer<LatestBody>> => ctx.hub.getJson(LATEST_PATH, filterQuery(ctx.filters), checkLatestBody);
    if (refreshMs === undefined) {
      ctx.stdout.write(snapshotText(ctx, await fetchLatest()));
      return ExitCode.Done;
    }
    return refreshLoop(ctx, fetchLatest, refreshMs, times);
  },
};

function snapshotText(ctx: CommandContext, answer: JsonAnswer<LatestBody>, fitScreen = false): string {
  if (ctx.json) return oneLine(answer) + '\n';
  const rows = fitScreen ? ctx.stdout.rows : undefined;
  const maxLines = rows === undefined ? undefined : Math.max(MIN_TABLE_LINES, rows - SCREEN_LINES_NOT_TABLE);
  return renderLatest(answer.value, ctx.now(), { color: ctx.color, filtered: hasFilters(ctx.filters), maxLines });
}

async function refreshLoop(
  ctx: CommandContext,
  fetchLatest: () => Promise<JsonAnswer<LatestBody>>,
  refreshMs: number,
  times: number | undefined,
): Promise<ExitCode> {
  const inPlace = ctx.stdout.isTTY && !ctx.json;
  let shown = 0;
  let lastCode: ExitCode = ExitCode.Done;
  for (let attempt = 0; times === undefined || attempt < times; attempt++) {
    if (attempt > 0) {
      try {
        await sleep(refreshMs, undefined, { signal: ctx.signal });
      } catch {
        break; // Ctrl-C: the normal way to end a dashboard
      }
    }
    const header = bold(
      `latest from ${ctx.hub.displayUrl} at ${formatClock(ctx.now())}` + (inPlace ? ` (every ${refreshMs} ms; Ctrl-C to stop)` : ''),
      ctx.color,
    );
    try {
      const answer = await fetchLatest();
      // In place, the table fits the screen: one taller scrolls the title and its top rows away.
      const body = snapshotText(ctx, answer, inPlace);
      if (inPlace) ctx.stdout.write(`${CLEAR_SCREEN}${header}\n\n${body}`);
      else if (ctx.json) ctx.stdout.write(body);
      else ctx.stdout.write(`${shown > 0 ? '\n' : ''}${header}\n${body}`);
      shown++;
      lastCode = ExitCode.Done;
    } catch (error) {
      if (ctx.signal.aborted) break;
      // A wrong URL or filter should fail at once; a hub that goes away later is waited for.
      lastCode = exitCodeFor(error);
      if (shown === 0 || lastCode === ExitCode.Internal) throw error;
      if (inPlace) ctx.stdout.write(`${CLEAR_SCREEN}${header}\n\n`);
      ctx.stderr.write(`${describeError(error, false)}\nretrying in ${refreshMs} ms\n`);
    }
  }
  return lastCode;
}
