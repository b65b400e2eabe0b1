/**
 * The alert rule grammar, shared by the hub (which evaluates rules), the CLI (which checks them
 * before sending) and the dashboard (which shows them):
 *
 *   rule       condition [for DURATION] [clear OP NUMBER]
 *              | no data for DURATION
 *   condition  METRIC OP NUMBER          e.g. temperature > 30
 *   OP         >  >=  <  <=
 *
 * `for` is how long the condition must hold before the alert fires (default: at once). `clear`
 * is the hysteresis: a firing `temperature > 30` alert with `clear < 29` clears only when a
 * reading is below 29, so a value wobbling around 30 fires once. Without `clear` it clears when
 * the condition stops holding. `no data for 5m` fires for a sensor that sent nothing for 5
 * minutes and clears at its next reading. Durations follow protocol/duration.ts.
 */
import { formatDuration, parseDuration } from './duration.ts';
import { METRIC_PATTERN } from './names.ts';

export type AlertOp = '>' | '>=' | '<' | '<=';

export type AlertCondition =
  | {
      kind: 'threshold';
      metric: string;
      op: AlertOp;
      value: number;
      /** ms the condition must hold before firing; 0: at once */
      forMs: number;
      /** the hysteresis: the alert clears when this holds (default: the condition's negation) */
      clear: { op: AlertOp; value: number };
    }
  | { kind: 'no-data'; forMs: number };

export type AlertParse = { ok: true; condition: AlertCondition } | { ok: false; problem: string };

/** the longest `for` a rule may wait: a week (a timer further out is a mistake) */
export const MAX_ALERT_FOR_MS = 7 * 86_400_000;
export const MAX_RULE_CHARS = 200;

const OPS: ReadonlySet<string> = new Set(['>', '>=', '<', '<=']);
const NUMBER = /^-?\d+(\.\d+)?$/;
export const RULE_FORMS =
  '"METRIC > NUMBER [for DURATION] [clear < NUMBER]" or "no data for DURATION" (e.g. "temperature > 30 for 2m clear < 29")';

/** The negation of `op value`: what clears an alert that has no `clear`. */
function negation(op: AlertOp): AlertOp {
  return op === '>' ? '<=' : op === '>=' ? '<' : op === '<' ? '>=' : '>';
}

export function holds(op: AlertOp, value: number, threshold: number): boolean {
  switch (op) {
    case '>':
      return value > threshold;
    case '>=':
      return value >= threshold;
    case '<':
      return value < threshold;
    case '<=':
      return value <= threshold;
  }
}

function forDuration(word: string | undefined): { ok: true; ms: number } | { ok: false; problem: string } {
  if (word === undefined) return { ok: false, problem: 'give a duration after "for" (e.g. for 2m)' };
  const d = parseDuration(word);
  if (!d.ok) return d;
  if (d.ms > MAX_ALERT_FOR_MS) return { ok: false, problem: `"for ${word}" is longer than a week: give at most 7d` };
  return d;
}

/** Parses a rule's text; `problem` says what is wrong and what to write. */
export function parseAlertRule(text: unknown): AlertParse {
  if (typeof text !== 'string' || text.trim() === '') return { ok: false, problem: `a rule is text such as ${RULE_FORMS}` };
  if (text.length > MAX_RULE_CHARS) return { ok: false, problem: `a rule is at most ${MAX_RULE_CHARS} characters` };
  const words = text.trim().split(/\s+/);
  if (words[0] === 'no') {
    if (words[1] !== 'data' || words[2] !== 'for' || words.length !== 4)
      return { ok: false, problem: `"${text}" is not a rule: a silence rule reads "no data for DURATION" (e.g. no data for 5m)` };
    const d = forDuration(words[3]);
    return d.ok ? { ok: true, condition: { kind: 'no-data', forMs: d.ms } } : d;
  }
  const [metric, op, value] = words;
  if (metric === undefined || !METRIC_PATTERN.test(metric))
    return { ok: false, problem: `"${metric ?? ''}" is not a metric name (lower case letters, digits and _): a rule reads ${RULE_FORMS}` };
  if (op === undefined || !OPS.has(op))
    return { ok: false, problem: `after the metric comes one of > >= < <= (spaces around it): a rule reads ${RULE_FORMS}` };
  if (value === undefined || !NUMBER.test(value))
    return { ok: false, problem: `"${value ?? ''}" is not a number: give the threshold as e.g. 30 or -5.5` };
  const condOp = op as AlertOp;
  const threshold = Number(value);
  let forMs = 0;
  let clear: { op: AlertOp; value: number } | null = null;
  for (let i = 3; i < words.length; i += 2) {
    const word = words[i];
    if (word === 'for' && forMs === 0) {
      const d = forDuration(words[i + 1]);
      if (!d.ok) return d;
      forMs = d.ms;
    } else if (word === 'clear' && clear === null) {
      const cOp = words[i + 1];
      const cValue = words[i + 2];
      if (cOp === undefined || !OPS.has(cOp) || cValue === undefined || !NUMBER.test(cValue))
        return { ok: false, problem: 'after "clear" comes an operator and a number (e.g. clear < 29)' };
      clear = { op: cOp as AlertOp, value: Number(cValue) };
      i++;
    } else {
      return {
        ok: false,
        problem: `"${word}" is not expected here: after the condition come "for DURATION" and "clear OP NUMBER", each at most once`,
      };
    }
  }
  if (clear) {
    const problem = clearProblem(condOp, threshold, clear);
    if (problem) return { ok: false, problem };
  }
  return {
    ok: true,
    condition: {
      kind: 'threshold',
      metric,
      op: condOp,
      value: threshold,
      forMs,
      clear: clear ?? { op: negation(condOp), value: threshold },
    },
  };
}

/** A clear condition must lie on the other side of the threshold, or the alert could fire and clear on one reading. */
function clearProblem(op: AlertOp, threshold: number, clear: { op: AlertOp; value: number }): string | null {
  const above = op === '>' || op === '>=';
  const clearBelow = clear.op === '<' || clear.op === '<=';
  if (above !== clearBelow)
    return `"clear ${clear.op} ${clear.value}" must point the other way from "${op} ${threshold}" (e.g. "> 30 clear < 29")`;
  // No value may both hold the condition and the clear.
  const overlap = above
    ? clear.value > threshold || (clear.value === threshold && op === '>=' && clear.op === '<=')
    : clear.value < threshold || (clear.value === threshold && op === '<=' && clear.op === '>=');
  if (overlap) return `"clear ${clear.op} ${clear.value}" overlaps "${op} ${threshold}": a value must not both fire and clear the alert`;
  return null;
}

/** The rule's text as the hub writes it back (normalised: single spaces, clear only when given). */
export function formatAlertRule(c: AlertCondition): string {
  if (c.kind === 'no-data') return `no data for ${formatDuration(c.forMs)}`;
  let s = `${c.metric} ${c.op} ${c.value}`;
  if (c.forMs > 0) s += ` for ${formatDuration(c.forMs)}`;
  if (!(c.clear.op === negation(c.op) && c.clear.value === c.value)) s += ` clear ${c.clear.op} ${c.clear.value}`;
  return s;
}

/** A rule's name: what `cli alerts set NAME` and the API's path take. */
export const RULE_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
export function isRuleName(name: unknown): name is string {
  return typeof name === 'string' && RULE_NAME_PATTERN.test(name);
}
