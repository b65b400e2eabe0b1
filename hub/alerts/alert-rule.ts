/** A rule as the hub keeps it: its parsed condition and its compiled scope. */
import { formatAlertRule, parseAlertRule, type AlertCondition } from '../../protocol/alert-rules.ts';
import { ROOM_PATTERN } from '../../protocol/names.ts';
import { compileSensorPattern, sensorPatternProblem, type SensorPattern } from '../access/sensor-pattern.ts';
import { HubError } from '../hub-error.ts';

/** What is stored of a rule (the alert_rules table) and what the API takes and answers. */
export interface AlertRuleRecord {
  name: string;
  rule: string;
  room: string | null;
  sensor: string | null;
  webhooks: string[];
  updatedAt: number;
}

export interface AlertRule extends AlertRuleRecord {
  readonly condition: AlertCondition;
  readonly pattern: SensorPattern | null;
  /** by sensor id: whether its id matches the pattern, worked out once per sensor */
  readonly matches: Map<string, boolean>;
}

/** Checks and compiles a rule; a HubError `bad_alert_rule` says what is wrong. */
export function compileRule(record: AlertRuleRecord): AlertRule {
  const parsed = parseAlertRule(record.rule);
  if (!parsed.ok) throw new HubError('bad_alert_rule', `rule ${record.name}: ${parsed.problem}`);
  if (record.room !== null && !ROOM_PATTERN.test(record.room))
    throw new HubError('bad_alert_rule', `rule ${record.name}: "${record.room}" is not a room name (letters, digits, . _ : -)`);
  if (record.sensor !== null) {
    const problem = sensorPatternProblem(record.sensor);
    if (problem) throw new HubError('bad_alert_rule', `rule ${record.name}: ${problem}`);
  }
  for (const url of record.webhooks) {
    let ok = false;
    try {
      const u = new URL(url);
      ok = (u.protocol === 'http:' || u.protocol === 'https:') && u.username === '' && u.password === '';
    } catch {
      ok = false;
    }
    if (!ok)
      throw new HubError(
        'bad_alert_rule',
        `rule ${record.name}: webhook "${url.slice(0, 80)}" is not an http:// or https:// URL without a user and password`,
      );
  }
  return {
    ...record,
    rule: formatAlertRule(parsed.condition),
    condition: parsed.condition,
    pattern: record.sensor === null ? null : compileSensorPattern(record.sensor),
    matches: new Map(),
  };
}

/** Whether a sensor in a room is one the rule watches. O(1) after the first reading of a sensor. */
export function ruleCovers(rule: AlertRule, sensor: string, room: string): boolean {
  if (rule.room !== null && rule.room !== room) return false;
  if (rule.pattern === null) return true;
  let m = rule.matches.get(sensor);
  if (m === undefined) {
    m = rule.pattern.test(sensor);
    rule.matches.set(sensor, m);
  }
  return m;
}
