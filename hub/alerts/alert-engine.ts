/**
 * Evaluates the alert rules. Fed committed readings (the hook the live stream uses), so an
 * alert never fires on a reading that was not stored; each reading costs O(1) per rule on its
 * metric (rules are indexed by metric, a sensor's match against a pattern is remembered). A
 * tick (the project's TickScheduler, on an injected clock) fires pending alerts whose `for`
 * has passed and finds silent sensors. Times are the hub clock's, not the readings' stamps:
 * a backlog resent after a reconnect must not look like minutes of heat.
 *
 * An alert is one (rule, sensor): ok (no entry), pending (the condition holds, `for` not yet
 * passed) or firing. Firing and clearing are events, handed to `emit` (alert-service.ts stores
 * them and sends them to webhooks).
 */
import type { AlertRule } from './alert-rule.ts';
import { ruleCovers } from './alert-rule.ts';
import { holds } from '../../protocol/alert-rules.ts';

export type AlertState = 'firing' | 'cleared';

/** An event before the log numbers it. */
export interface AlertEventDraft {
  ts: number;
  rule: string;
  state: AlertState;
  sensor: string;
  room: string;
  metric: string | null;
  value: number | null;
  condition: string;
}

interface Instance {
  sensor: string;
  room: string;
  state: 'pending' | 'firing';
  sinceMs: number;
  value: number | null;
}

export interface AlertEngineDeps {
  now: () => number;
  emit: (event: AlertEventDraft) => void;
}

export class AlertEngine {
  /** by rule name */
  private readonly rules = new Map<string, AlertRule>();
  /** by metric: the threshold rules on it */
  private readonly byMetric = new Map<string, AlertRule[]>();
  private noDataRules: AlertRule[] = [];
  /** by rule name, then sensor id */
  private readonly instances = new Map<string, Map<string, Instance>>();
  /** by sensor id: when the hub last stored a reading of it, and its room */
  private readonly lastSeen = new Map<string, { ms: number; room: string }>();

  constructor(private readonly deps: AlertEngineDeps) {}

  get hasRules(): boolean {
    return this.rules.size > 0;
  }

  get ruleList(): AlertRule[] {
    return [...this.rules.values()];
  }

  rule(name: string): AlertRule | undefined {
    return this.rules.get(name);
  }

  /** Sensors for which the rule fires now. */
  firingCount(name: string): number {
    let n = 0;
    for (const i of this.instances.get(name)?.values() ?? []) if (i.state === 'firing') n++;
    return n;
  }

  /** The alerts firing now: rule, sensor, room and since when. */
  *firing(): Generator<{ rule: string; sensor: string; room: string; sinceMs: number }> {
    for (const [rule, m] of this.instances)
      for (const i of m.values()) if (i.state === 'firing') yield { rule, sensor: i.sensor, room: i.room, sinceMs: i.sinceMs };
  }

  /** A sensor known before start (the registry): silence is counted from `ms`. */
  knowSensor(sensor: string, room: string, ms: number): void {
    if (!this.lastSeen.has(sensor)) this.lastSeen.set(sensor, { ms, room });
  }

  /** Counts every known sensor's silence from `ms`. */
  silenceFrom(ms: number): void {
    for (const seen of this.lastSeen.values()) seen.ms = Math.max(seen.ms, ms);
  }

  /**
   * Adds or replaces a rule. A replaced rule's alerts start again from ok, and those that were
   * firing clear (value null): the condition they fired on no longer exists.
   */
  setRule(rule: AlertRule): void {
    const old = this.rules.get(rule.name);
    if (old) this.removeRule(old.name);
    this.rules.set(rule.name, rule);
    this.instances.set(rule.name, new Map());
    if (rule.condition.kind === 'no-data') this.noDataRules = [...this.noDataRules, rule];
    else {
      const list = this.byMetric.get(rule.condition.metric) ?? [];
      this.byMetric.set(rule.condition.metric, [...list, rule]);
    }
  }

  /** Removes a rule; its firing alerts clear. */
  removeRule(name: string): boolean {
    const rule = this.rules.get(name);
    if (!rule) return false;
    for (const i of this.instances.get(name)!.values()) if (i.state === 'firing') this.clear(rule, i, null);
    this.rules.delete(name);
    this.instances.delete(name);
    if (rule.condition.kind === 'no-data') this.noDataRules = this.noDataRules.filter((r) => r !== rule);
    else {
      const metric = rule.condition.metric;
      const list = this.byMetric.get(metric)!.filter((r) => r !== rule);
      if (list.length === 0) this.byMetric.delete(metric);
      else this.byMetric.set(metric, list);
    }
    return true;
  }

  /**
   * At start: an alert that was firing when the hub stopped is firing again without an event.
   * Given the newest stored value of its sensor and metric, a threshold alert whose clear
   * condition holds clears now (it cleared while the hub was down, or its reading was stored
   * just before a crash and never evaluated).
   */
  restoreFiring(rule: string, sensor: string, room: string, sinceMs: number, newest: number | undefined): void {
    const r = this.rules.get(rule);
    if (!r) return;
    const inst: Instance = { sensor, room, state: 'firing', sinceMs, value: null };
    this.instances.get(rule)!.set(sensor, inst);
    const c = r.condition;
    if (c.kind === 'threshold' && newest !== undefined && holds(c.clear.op, newest, c.clear.value)) this.clear(r, inst, newest);
  }

  /** One committed reading. */
  reading(sensor: string, room: string, metric: string, value: number): void {
    const now = this.deps.now();
    const seen = this.lastSeen.get(sensor);
    if (seen) {
      seen.ms = now;
      seen.room = room;
    } else this.lastSeen.set(sensor, { ms: now, room });
    for (const rule of this.noDataRules) {
      const inst = this.instances.get(rule.name)!.get(sensor);
      if (inst) this.clear(rule, inst, value);
    }
    const rules = this.byMetric.get(metric);
    if (rules === undefined) return;
    for (const rule of rules) {
      if (!ruleCovers(rule, sensor, room)) continue;
      const c = rule.condition;
      if (c.kind !== 'threshold') continue;
      const alerts = this.instances.get(rule.name)!;
      const inst = alerts.get(sensor);
      if (holds(c.op, value, c.value)) {
        if (inst === undefined) {
          const fresh: Instance = { sensor, room, state: 'pending', sinceMs: now, value };
          alerts.set(sensor, fresh);
          if (c.forMs === 0) this.fire(rule, fresh, value, now);
        } else if (inst.state === 'pending') {
          inst.value = value;
          if (now - inst.sinceMs >= c.forMs) this.fire(rule, inst, value, now);
        }
      } else if (inst !== undefined) {
        if (inst.state === 'pending') alerts.delete(sensor);
        else if (holds(c.clear.op, value, c.clear.value)) this.clear(rule, inst, value);
      }
    }
  }

  /** Fires pending alerts whose `for` has passed, and no-data alerts of silent sensors. */
  tick(): void {
    const now = this.deps.now();
    for (const rule of this.rules.values()) {
      const c = rule.condition;
      const alerts = this.instances.get(rule.name)!;
      if (c.kind === 'threshold') {
        if (c.forMs === 0) continue;
        for (const inst of alerts.values())
          if (inst.state === 'pending' && now - inst.sinceMs >= c.forMs) this.fire(rule, inst, inst.value, now);
      } else {
        for (const [sensor, seen] of this.lastSeen) {
          if (now - seen.ms < c.forMs || alerts.has(sensor) || !ruleCovers(rule, sensor, seen.room)) continue;
          const inst: Instance = { sensor, room: seen.room, state: 'pending', sinceMs: now, value: null };
          alerts.set(sensor, inst);
          this.fire(rule, inst, null, now);
        }
      }
    }
  }

  private fire(rule: AlertRule, inst: Instance, value: number | null, now: number): void {
    inst.state = 'firing';
    inst.sinceMs = now;
    this.deps.emit(this.draft(rule, inst, 'firing', value, now));
  }

  private clear(rule: AlertRule, inst: Instance, value: number | null): void {
    this.instances.get(rule.name)?.delete(inst.sensor);
    this.deps.emit(this.draft(rule, inst, 'cleared', value, this.deps.now()));
  }

  private draft(rule: AlertRule, inst: Instance, state: AlertState, value: number | null, ts: number): AlertEventDraft {
    const c = rule.condition;
    return {
      ts,
      rule: rule.name,
      state,
      sensor: inst.sensor,
      room: inst.room,
      metric: c.kind === 'threshold' ? c.metric : null,
      value,
      condition: rule.rule,
    };
  }
}
