/** Alerts (docs/ALERTS.md): `/api/v1/alerts/rules[/:name]` (admins) and `GET /api/v1/alerts`. */
import { Type, type Static } from '@sinclair/typebox';
import { closed, TimeMs } from './common.ts';
import { MAX_RULE_CHARS, RULE_NAME_PATTERN } from '../alert-rules.ts';

export const MAX_ALERT_RULES = 1000;
export const MAX_RULE_WEBHOOKS = 5;
export const MAX_ALERT_EVENTS_LIMIT = 1000;
export const DEFAULT_ALERT_EVENTS_LIMIT = 100;

const RuleName = Type.String({
  pattern: RULE_NAME_PATTERN.source,
  errorMessage: 'must be a rule name: letters, digits, . _ - (at most 64)',
});

export const AlertRuleParams = closed({ name: RuleName });

export const AlertRulePutRequest = closed({
  /** the rule's text (protocol/alert-rules.ts), e.g. "temperature > 30 for 2m clear < 29" */
  rule: Type.String({ maxLength: MAX_RULE_CHARS, errorMessage: `must be a rule's text of at most ${MAX_RULE_CHARS} characters` }),
  /** only sensors in this room; absent: every room */
  room: Type.Optional(Type.String({ maxLength: 64, errorMessage: 'must be a room name' })),
  /** only sensors whose id matches this pattern (`*`, `?`); absent: every sensor */
  sensor: Type.Optional(Type.String({ maxLength: 64, errorMessage: 'must be a sensor id pattern' })),
  /** where firing and clearing are POSTed as JSON */
  webhooks: Type.Optional(
    Type.Array(Type.String({ maxLength: 2048 }), {
      maxItems: MAX_RULE_WEBHOOKS,
      errorMessage: `must be at most ${MAX_RULE_WEBHOOKS} http(s) URLs`,
    }),
  ),
});
export type AlertRulePutRequest = Static<typeof AlertRulePutRequest>;

export const AlertRuleBody = Type.Object({
  name: Type.String(),
  rule: Type.String(),
  room: Type.Union([Type.String(), Type.Null()]),
  sensor: Type.Union([Type.String(), Type.Null()]),
  webhooks: Type.Array(Type.String()),
  updated_at: TimeMs,
  /** sensors for which it fires now */
  firing: Type.Integer({ minimum: 0 }),
});
export type AlertRuleBody = Static<typeof AlertRuleBody>;

export const AlertRulesAnswer = Type.Object({ rules: Type.Array(AlertRuleBody) });

const Digits = (what: string) => Type.String({ pattern: '^\\d+$', errorMessage: `must be ${what}` });

export const AlertEventsQuery = closed({
  /** an event id: only later events, oldest first; absent: the newest `limit` */
  after: Type.Optional(Digits(`a whole number from 0 to ${Number.MAX_SAFE_INTEGER}`)),
  limit: Type.Optional(Digits(`a whole number from 1 to ${MAX_ALERT_EVENTS_LIMIT}`)),
  rule: Type.Optional(Type.String({ maxLength: 64 })),
  sensor: Type.Optional(Type.String({ maxLength: 64 })),
  room: Type.Optional(Type.String({ maxLength: 64 })),
  state: Type.Optional(Type.Union([Type.Literal('firing'), Type.Literal('cleared')], { errorMessage: 'must be firing or cleared' })),
});

export const AlertEvent = Type.Object({
  id: Type.Integer({ minimum: 1 }),
  /** when it fired or cleared (hub clock, ms) */
  ts: TimeMs,
  rule: Type.String(),
  state: Type.Union([Type.Literal('firing'), Type.Literal('cleared')]),
  sensor: Type.String(),
  room: Type.String(),
  /** the metric, or null for a no-data rule */
  metric: Type.Union([Type.String(), Type.Null()]),
  /** the reading that fired or cleared it; null for no-data, and for a clear at start or by a rule change */
  value: Type.Union([Type.Number(), Type.Null()]),
  /** the rule's text when it happened */
  condition: Type.String(),
});
export type AlertEvent = Static<typeof AlertEvent>;

/** `firing`: what fires now (each one's firing event), in the asker's rooms; `events`: the log, oldest first. */
export const AlertEventsAnswer = Type.Object({
  firing: Type.Array(AlertEvent),
  events: Type.Array(AlertEvent),
  last_id: Type.Integer({ minimum: 0 }),
});
