/**
 * `alerts` (docs/ALERTS.md): what fires now and the recent events in your rooms
 * (`GET /api/v1/alerts`); and, for admins, the rules: `alerts rules`, `alerts set NAME RULE`
 * (`PUT /api/v1/alerts/rules/NAME`) and `alerts delete NAME`. A rule is checked here with the
 * hub's own grammar (protocol/alert-rules.ts) before it is sent, so a typo is a usage error
 * with the reason, not a round trip.
 */
import { answerCheck } from '../api-types.ts';
import { checkAnything } from '../access-types.ts';
import { parseIntegerOption } from '../args.ts';
import type { CommandContext, CommandSpec } from '../command.ts';
import { ExitCode, UsageError } from '../errors.ts';
import { formatClock, formatValue, printable } from '../format.ts';
import { oneLine } from '../json-output.ts';
import { renderTable } from '../table.ts';
import { bold } from '../terminal.ts';
import { isRuleName, parseAlertRule, RULE_FORMS } from '../../protocol/alert-rules.ts';
import {
  AlertEventsAnswer,
  AlertRuleBody,
  AlertRulesAnswer,
  MAX_ALERT_EVENTS_LIMIT,
  type AlertEvent,
  type AlertRuleBody as RuleBody,
} from '../../protocol/schemas/alerts.ts';

export const ALERTS_PATH = '/api/v1/alerts';
export const ALERT_RULES_PATH = '/api/v1/alerts/rules';

const checkEvents = answerCheck(AlertEventsAnswer);
const checkRules = answerCheck(AlertRulesAnswer);
const checkRule = answerCheck(AlertRuleBody);

export const alertsCommand: CommandSpec = {
  name: 'alerts',
  summary: 'alerts: what fires now and recent events; rules (admin): list, set, delete',
  subcommands: [
    {
      name: 'list',
      summary: 'what fires now, then the newest events (the default)',
      synopsis: '[--rule NAME] [--state firing|cleared] [--sensor ID] [--room ROOM] [--limit N]',
      options: ['rule', 'state', 'limit', 'sensor', 'room'],
    },
    { name: 'rules', summary: 'every rule, with how many sensors it fires for now' },
    {
      name: 'set',
      summary: "add or replace a rule, e.g. alerts set hot 'temperature > 30 for 2m clear < 29' --room server-room",
      args: [
        { name: 'NAME', required: true },
        { name: 'RULE', required: true },
      ],
      synopsis: '[--room ROOM] [--sensor PATTERN] [--webhook URL[,URL...]]',
      options: ['room', 'sensor', 'webhook'],
    },
    { name: 'delete', summary: 'delete a rule; its firing alerts clear', args: [{ name: 'NAME', required: true }] },
  ],
  defaultSubcommand: 'list',
  details: [
    `A rule reads ${RULE_FORMS},`,
    'or "no data for 5m" for sensors that went silent. Rooms and sensor patterns narrow it to those sensors.',
    'Webhooks get each firing and clearing as a JSON POST (docs/ALERTS.md "Webhooks").',
  ],
  options: {
    rule: { type: 'string', valueName: 'NAME', help: 'alerts list: only the events of this rule' },
    state: { type: 'string', valueName: 'firing|cleared', help: 'alerts list: only firing or only cleared events' },
    limit: { type: 'string', valueName: 'N', help: `alerts list: at most N events (default 20, at most ${MAX_ALERT_EVENTS_LIMIT})` },
    webhook: { type: 'string', valueName: 'URL[,URL...]', help: 'alerts set: where to POST its events' },
  },
  filterFlags: {
    sensor: {
      type: 'string',
      valueName: 'ID|PATTERN',
      help: "alerts list: one sensor's events; alerts set: the sensors it watches ('rack*')",
    },
    room: { type: 'string', valueName: 'ROOM', help: "alerts list: one room's events; alerts set: the room it watches" },
  },
  async run(ctx) {
    switch (ctx.subcommand ?? 'list') {
      case 'list':
        return list(ctx);
      case 'rules':
        return rules(ctx);
      case 'set':
        return set(ctx);
      case 'delete':
        return remove(ctx);
    }
    throw new UsageError(`alerts takes a subcommand: ${alertsCommand.subcommands?.map((s) => s.name).join(', ')}`);
  },
};

function one(ctx: CommandContext, flag: 'sensor' | 'room', what: string): string | undefined {
  const values = ctx.filters[flag];
  if (values.length > 1) throw new UsageError(`${what} takes one --${flag}`);
  return values[0];
}

const EVENT_COLUMNS = ['time', 'rule', 'state', 'sensor', 'room', 'value', 'condition'];

function eventCells(e: AlertEvent): string[] {
  const value = e.value === null ? (e.metric === null ? 'no data' : '-') : `${e.metric ?? ''} ${formatValue(e.value)}`;
  return [formatClock(e.ts), e.rule, e.state, e.sensor, e.room, value, e.condition];
}

export function renderAlerts(answer: { firing: AlertEvent[]; events: AlertEvent[] }, color: boolean): string {
  const table = (events: AlertEvent[]) =>
    renderTable(
      EVENT_COLUMNS.map((header) => ({ header })),
      events.map((e) => eventCells(e).map(printable)),
      { header: (line) => bold(line, color) },
    ).join('\n') + '\n';
  const firing = answer.firing.length === 0 ? 'nothing fires now\n' : `${bold('firing now', color)} (since)\n${table(answer.firing)}`;
  const events = answer.events.length === 0 ? 'no alert events\n' : `${bold('events', color)}, oldest first\n${table(answer.events)}`;
  return `${firing}\n${events}`;
}

async function list(ctx: CommandContext): Promise<ExitCode> {
  const state = ctx.options.state;
  if (state !== undefined && state !== 'firing' && state !== 'cleared') throw new UsageError('--state takes firing or cleared');
  const limit = typeof ctx.options.limit === 'string' ? parseIntegerOption('--limit', ctx.options.limit, 1, MAX_ALERT_EVENTS_LIMIT) : 20;
  const rule = typeof ctx.options.rule === 'string' ? ctx.options.rule : undefined;
  const sensor = one(ctx, 'sensor', 'alerts list');
  const room = one(ctx, 'room', 'alerts list');
  const query = {
    limit: String(limit),
    ...(rule !== undefined ? { rule } : {}),
    ...(typeof state === 'string' ? { state } : {}),
    ...(sensor !== undefined ? { sensor } : {}),
    ...(room !== undefined ? { room } : {}),
  };
  const answer = await ctx.hub.getJson(ALERTS_PATH, query, checkEvents);
  ctx.stdout.write(ctx.json ? oneLine(answer) + '\n' : renderAlerts(answer.value, ctx.color));
  return ExitCode.Done;
}

export function renderRules(list: readonly RuleBody[], color: boolean): string {
  if (list.length === 0) return "no alert rules; add one with alerts set NAME 'temperature > 30 for 2m'\n";
  const rows = list.map((r) => [r.name, r.rule, r.room ?? '*', r.sensor ?? '*', r.webhooks.join(' '), String(r.firing)].map(printable));
  const columns = ['name', 'rule', 'room', 'sensor', 'webhooks', 'firing'].map((header) => ({ header }));
  return renderTable(columns, rows, { header: (line) => bold(line, color) }).join('\n') + '\n';
}

async function rules(ctx: CommandContext): Promise<ExitCode> {
  const answer = await ctx.hub.getJson(ALERT_RULES_PATH, {}, checkRules);
  ctx.stdout.write(ctx.json ? oneLine(answer) + '\n' : renderRules(answer.value.rules, ctx.color));
  return ExitCode.Done;
}

async function set(ctx: CommandContext): Promise<ExitCode> {
  const [name = '', text = ''] = ctx.args;
  if (!isRuleName(name))
    throw new UsageError(`"${printable(name)}" is not a rule name: letters, digits, . _ - (at most 64), starting with a letter or digit`);
  const parsed = parseAlertRule(text);
  if (!parsed.ok) throw new UsageError(`invalid rule: ${parsed.problem}`);
  const room = one(ctx, 'room', 'alerts set');
  const sensor = one(ctx, 'sensor', 'alerts set');
  const webhooks = typeof ctx.options.webhook === 'string' ? ctx.options.webhook.split(',').filter((u) => u !== '') : [];
  const body = { rule: text, ...(room !== undefined ? { room } : {}), ...(sensor !== undefined ? { sensor } : {}), webhooks };
  const answer = await ctx.hub.requestJson('PUT', `${ALERT_RULES_PATH}/${encodeURIComponent(name)}`, checkRule, { body });
  const r = answer.value;
  ctx.stdout.write(
    ctx.json
      ? oneLine(answer) + '\n'
      : `${answer.status === 201 ? 'added' : 'replaced'} rule ${printable(r.name)}: ${printable(r.rule)} in ${printable(r.room ?? 'every room')}` +
          `${r.sensor ? ` for sensors ${printable(r.sensor)}` : ''}${r.webhooks.length ? `, webhooks ${printable(r.webhooks.join(' '))}` : ''}\n`,
  );
  return ExitCode.Done;
}

async function remove(ctx: CommandContext): Promise<ExitCode> {
  const name = ctx.args[0] ?? '';
  const answer = await ctx.hub.requestJson('DELETE', `${ALERT_RULES_PATH}/${encodeURIComponent(name)}`, checkAnything);
  ctx.stdout.write(ctx.json ? oneLine(answer) + '\n' : `deleted rule ${printable(name)}; its firing alerts cleared\n`);
  return ExitCode.Done;
}
