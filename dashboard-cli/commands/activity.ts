/**
 * `activity` (admin; docs/ADMIN.md "Activity log"): the hub's log of connections, logins,
 * uploads, exports and changes to users and tokens, from `GET /api/v1/activity`, oldest first.
 * With `--follow` it then asks every second for what came `after` the last event shown, and prints
 * new events as they come, until Ctrl-C (exit 0) or the hub goes away (exit 3).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { checkActivityBody } from '../access-types.ts';
import type { ActivityBody, ActivityEvent } from '../access-types.ts';
import { parseIntegerOption, splitList } from '../args.ts';
import type { CommandContext, CommandSpec } from '../command.ts';
import { ExitCode, UsageError } from '../errors.ts';
import { formatClock, printable } from '../format.ts';
import type { JsonAnswer, Query } from '../hub-client.ts';
import { oneLine } from '../json-output.ts';
import { renderTable } from '../table.ts';
import { bold } from '../terminal.ts';
import { SENSOR_ID_PATTERN, isSensorId } from '../../protocol/names.ts';
import { ACTIVITY_ACTIONS } from '../../protocol/api.ts';
import { MAX_ACTIVITY_LIMIT } from '../../protocol/schemas/activity.ts';

export const ACTIVITY_PATH = '/api/v1/activity';

const ACTIONS = ACTIVITY_ACTIONS;

export const activityDefaults = {
  limit: 50,
  /** The hub's own cap on `limit`. */
  maxLimit: MAX_ACTIVITY_LIMIT,
  /** How often --follow asks for new events. */
  pollMs: 1000,
} as const;

const COLUMNS = ['time', 'actor', 'address', 'action', 'target', 'outcome', 'detail'];

/** One event as table cells: local time, actor, address, action, target, outcome (with its code), detail. */
export function eventCells(e: ActivityEvent): string[] {
  const code = e.code === null || e.code === undefined ? '' : ` ${e.code}`;
  return [formatClock(e.ts), e.actor, e.address ?? '-', e.action, e.target ?? '-', `${e.outcome}${code}`, e.detail ?? ''];
}

export function renderActivity(events: readonly ActivityEvent[], options: { color: boolean; filtered: boolean }): string {
  if (events.length === 0) return options.filtered ? 'no events match the filters\n' : 'no activity recorded yet\n';
  const columns = COLUMNS.map((header) => ({ header }));
  return renderTable(columns, events.map(eventCells), { header: (line) => bold(line, options.color) }).join('\n') + '\n';
}

/** Lines for --follow: the table's columns, which start at typical widths and only widen, since later events are not known yet. */
export class ActivityLines {
  /** Minimum widths of every column but the last (detail). */
  private readonly widths = [19, 10, 15, 14, 14, 12];

  private line(cells: readonly string[]): string {
    return cells
      .map((cell, i) => {
        const text = printable(cell);
        if (i >= this.widths.length) return text;
        this.widths[i] = Math.max(this.widths[i] ?? 0, [...text].length);
        return text + ' '.repeat((this.widths[i] ?? 0) - [...text].length);
      })
      .join('  ')
      .trimEnd();
  }

  header(color: boolean): string {
    return bold(this.line(COLUMNS), color);
  }

  format(e: ActivityEvent): string {
    return this.line(eventCells(e));
  }
}

export const activityCommand: CommandSpec = {
  name: 'activity',
  summary: "the hub's activity log (admin): connections, logins, uploads, changes",
  filterFlags: false,
  details: [
    'Columns: time (local), actor (user, sensor id or anonymous), address, action, target, outcome (ok, denied',
    'or failed, with its code) and detail; oldest first. Actions: ' + ACTIONS.join(', ') + '.',
    '--follow then prints new events as they happen (asking every second) until Ctrl-C; with --json, one',
    "JSON object per event and line. Without --follow, --json prints the hub's answer.",
  ],
  options: {
    follow: { type: 'boolean', help: 'activity: then print new events as they happen, until Ctrl-C' },
    action: { type: 'string', valueName: 'ACTION[,ACTION...]', help: 'activity: only these actions (login, user.put, ...)' },
    actor: { type: 'string', valueName: 'NAME[,NAME...]', help: 'activity: only events by these users or sensors' },
    limit: {
      type: 'string',
      valueName: 'N',
      help: `activity: the newest N events, 1 to ${activityDefaults.maxLimit} (default ${activityDefaults.limit})`,
    },
  },
  async run(ctx) {
    const query = activityQuery(ctx);
    const first = await ctx.hub.getJson(ACTIVITY_PATH, query, checkActivityBody);
    if (ctx.options.follow !== true) {
      const filtered = query.action !== undefined || query.actor !== undefined;
      ctx.stdout.write(ctx.json ? oneLine(first) + '\n' : renderActivity(first.value.events, { color: ctx.color, filtered }));
      return ExitCode.Done;
    }
    return follow(ctx, query, first);
  },
};

/** The query of the first request, every value checked: `limit`, and `action` and `actor` when given. */
export function activityQuery(ctx: Pick<CommandContext, 'options'>): { limit: string; action?: string[]; actor?: string[] } {
  const text = (name: string): string | undefined => {
    const value = ctx.options[name];
    return typeof value === 'string' ? value : undefined;
  };
  const limitText = text('limit');
  const limit = limitText === undefined ? activityDefaults.limit : parseIntegerOption('--limit', limitText, 1, activityDefaults.maxLimit);
  const actionText = text('action');
  const actorText = text('actor');
  const actions = actionText === undefined ? undefined : splitList('--action', [actionText]);
  for (const action of actions ?? []) {
    if (!(ACTIONS as readonly string[]).includes(action))
      throw new UsageError(`unknown --action "${action}"; the actions are ${ACTIONS.join(', ')}`);
  }
  const actors = actorText === undefined ? undefined : splitList('--actor', [actorText]);
  const badActor = actors?.find((actor): boolean => !isSensorId(actor));
  if (badActor !== undefined)
    throw new UsageError(`invalid --actor "${badActor}": a user name or sensor id matches ${SENSOR_ID_PATTERN.source}`);
  return { limit: String(limit), ...(actions ? { action: actions } : {}), ...(actors ? { actor: actors } : {}) };
}

async function follow(ctx: CommandContext, query: Query, first: JsonAnswer<ActivityBody>): Promise<ExitCode> {
  const lines = new ActivityLines();
  const print = (events: readonly ActivityEvent[]): void => {
    for (const e of events) ctx.stdout.write((ctx.json ? JSON.stringify(e) : lines.format(e)) + '\n');
  };
  if (!ctx.json) {
    if (ctx.stdout.isTTY)
      ctx.stdout.write(bold(`activity at ${ctx.hub.displayUrl}, then new events as they happen (Ctrl-C to stop)`, ctx.color) + '\n');
    ctx.stdout.write(lines.header(ctx.color) + '\n');
  }
  print(first.value.events);
  let lastId = nextAfter(first.value, undefined);
  let full = false;
  for (;;) {
    if (!full) {
      try {
        await sleep(activityDefaults.pollMs, undefined, { signal: ctx.signal });
      } catch {
        return ExitCode.Done; // Ctrl-C: the normal end of following
      }
    }
    let body: ActivityBody;
    try {
      const pollQuery = { ...query, limit: String(activityDefaults.maxLimit), ...(lastId !== undefined ? { after: String(lastId) } : {}) };
      body = (await ctx.hub.getJson(ACTIVITY_PATH, pollQuery, checkActivityBody)).value;
    } catch (error) {
      if (ctx.signal.aborted) return ExitCode.Done;
      throw error; // the hub went away (exit 3), or refused (a session that ended: exit 1)
    }
    print(body.events);
    lastId = nextAfter(body, lastId);
    // A full page may have more behind it: ask again at once.
    full = body.events.length >= activityDefaults.maxLimit;
  }
}

/** Where the next poll starts: the hub's `last_id`, else the last event's id, else where it was. */
function nextAfter(body: ActivityBody, previous: number | string | undefined): number | string | undefined {
  return body.last_id ?? body.events.at(-1)?.id ?? previous;
}
