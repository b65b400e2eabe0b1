/**
 * `report-now`: asks the connected sensors for a fresh reading of each metric, through
 * `POST /api/v1/report-now` (PROTOCOL.md §2 "Report now"), and shows who answered with what,
 * and who did not. The hub holds the request open for up to `timeout_ms`, so the HTTP timeout
 * of this one request is widened to leave the hub time to answer after waiting.
 */
import { checkReportNowBody } from '../api-types.ts';
import type { ReportNowBody } from '../api-types.ts';
import { hasFilters, parseIntegerOption } from '../args.ts';
import type { Filters } from '../args.ts';
import type { CommandSpec } from '../command.ts';
import { ExitCode } from '../errors.ts';
import { printable } from '../format.ts';
import { oneLine } from '../json-output.ts';
import { renderTable } from '../table.ts';
import { readingsTable } from './latest.ts';
import { FILTER_NAMES } from '../../protocol/filters.ts';
import { DEFAULT_REPORT_TIMEOUT_MS, MAX_REPORT_TIMEOUT_MS } from '../../protocol/schemas/report-now.ts';
import type { ReportNowRequest } from '../../protocol/api.ts';

export const REPORT_NOW_PATH = '/api/v1/report-now';

/** §2: `timeout_ms` is 0 to 30000, default 2000 (protocol/schemas/report-now.ts). */
export const REPORT_TIMEOUT = { defaultMs: DEFAULT_REPORT_TIMEOUT_MS, minMs: 0, maxMs: MAX_REPORT_TIMEOUT_MS } as const;
/** Time left for the hub to send its answer after its wait, on top of `timeout_ms`. */
const ANSWER_MARGIN_MS = 5000;

/** The JSON body: only the filters given (an empty list would match nothing), and the wait. */
export function reportNowRequest(filters: Filters, timeoutMs: number): ReportNowRequest {
  const body: ReportNowRequest = {};
  for (const name of FILTER_NAMES) if (filters[name].length > 0) body[name] = filters[name];
  body.timeout_ms = timeoutMs;
  return body;
}

function plural(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** What people see: a summary line, the fresh readings, then who did not answer and why. */
export function renderReportNow(
  body: ReportNowBody,
  options: { nowMs: number; roundTripMs: number; timeoutMs: number; color: boolean; filtered: boolean },
): string {
  if (body.requested === 0) return options.filtered ? 'no connected sensor matches the filters\n' : 'no sensor is connected\n';
  const lines = [`${body.responded} of ${plural(body.requested, 'sensor', 'sensors')} answered in ${Math.round(options.roundTripMs)} ms`];
  if (body.readings.length > 0) {
    lines.push('', ...readingsTable(body.readings, options.nowMs, options.color));
  }
  const errors = [...(body.errors ?? [])].sort((a, b) => cmp(a.sensor, b.sensor));
  const failed = new Set(errors.map((e) => e.sensor));
  const silent = body.missing.filter((s) => !failed.has(s)).sort(cmp);
  if (silent.length > 0) {
    lines.push('', `no answer within ${options.timeoutMs} ms from ${plural(silent.length, 'sensor', 'sensors')}:`);
    for (const sensor of silent) lines.push(`  ${printable(sensor)}`);
  }
  if (errors.length > 0) {
    lines.push('', `answered with an error:`);
    const table = renderTable(
      [{ header: 'sensor' }, { header: 'code' }, { header: 'message' }],
      errors.map((e) => [e.sensor, String(e.code), e.message]),
    );
    for (const line of table.slice(1)) lines.push(`  ${line}`);
  }
  return lines.join('\n') + '\n';
}

export const reportNowCommand: CommandSpec = {
  name: 'report-now',
  summary: 'ask the connected sensors for a fresh reading now',
  details: [
    'The hub sends report-now to every connected sensor that matches the filters and answers when',
    'all have reported or --timeout-ms has passed. Shown: how many answered and how fast (the round',
    'trip), the fresh readings, then the sensors that did not answer or answered with an error.',
    'Exit 0 whenever the hub answered, even if some sensors did not.',
  ],
  options: {
    'timeout-ms': {
      type: 'string',
      valueName: 'MS',
      help: `how long the hub waits for the sensors, ${REPORT_TIMEOUT.minMs} to ${REPORT_TIMEOUT.maxMs} (default ${REPORT_TIMEOUT.defaultMs})`,
    },
  },
  async run(ctx) {
    const given = ctx.options['timeout-ms'];
    const timeoutMs =
      typeof given === 'string'
        ? parseIntegerOption('--timeout-ms', given, REPORT_TIMEOUT.minMs, REPORT_TIMEOUT.maxMs)
        : REPORT_TIMEOUT.defaultMs;
    // --timeout covers the whole request; the hub may rightly take timeout_ms before it answers.
    const httpTimeoutMs = Math.max(ctx.hub.timeoutMs, timeoutMs + ANSWER_MARGIN_MS);
    const started = performance.now();
    const answer = await ctx.hub.postJson(REPORT_NOW_PATH, reportNowRequest(ctx.filters, timeoutMs), checkReportNowBody, {
      timeoutMs: httpTimeoutMs,
    });
    const roundTripMs = performance.now() - started;
    if (ctx.json) {
      ctx.stdout.write(oneLine(answer) + '\n');
    } else {
      const options = { nowMs: ctx.now(), roundTripMs, timeoutMs, color: ctx.color, filtered: hasFilters(ctx.filters) };
      ctx.stdout.write(renderReportNow(answer.value, options));
    }
    return ExitCode.Done;
  },
};
