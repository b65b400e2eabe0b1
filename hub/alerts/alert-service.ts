/**
 * Alerts, wired: the rules (kept in the store), the engine that evaluates them on committed
 * readings and on a tick, the event log (numbered here, written to the store in the
 * background), and the webhooks. Nothing here makes ingest wait: a committed batch costs a
 * loop over its rows with O(1) work per rule on each row's metric, and events are queued.
 */
import type { Logger } from 'pino';
import type { AlertEvent } from '../../protocol/schemas/alerts.ts';
import { MAX_ALERT_RULES } from '../../protocol/schemas/alerts.ts';
import { TickScheduler, type TickHandle, type TimerClock } from '../../sensors/tick-scheduler.ts';
import type { SeriesCatalog } from '../ingest/series-catalog.ts';
import { HubError } from '../hub-error.ts';
import type { Columns } from '../store/store-messages.ts';
import type { AlertCall, AlertEventQuery, AlertsLoaded } from '../store/alert-sql.ts';
import { AlertEngine, type AlertEventDraft } from './alert-engine.ts';
import { compileRule, type AlertRule, type AlertRuleRecord } from './alert-rule.ts';
import { WEBHOOK_DEFAULTS, WebhookSender, type WebhookOptions } from './webhook-sender.ts';

/** What the service needs of the store. */
export interface AlertStore {
  alerts(call: AlertCall): Promise<unknown>;
}

export interface AlertServiceOptions {
  store: AlertStore;
  /** the hub clock (ms since the epoch): event times and `for` durations */
  now: () => number;
  /** the timers of the tick and the webhook retries */
  clock: TimerClock;
  log: Pick<Logger, 'warn' | 'error'>;
  tickMs?: number;
  webhooks?: WebhookOptions;
  /** events not yet written to the store, at most; past it the oldest are dropped and counted */
  maxUnwritten?: number;
}

/**
 * In cluster mode every hub sees every reading and keeps every alert's state, but one hub
 * stores and sends the events of a sensor (hub/cluster/alert-duty.ts): without this, a rule
 * would fire once per hub and every webhook would hear it that many times.
 */
export type AnnouncesFor = (sensor: string) => boolean;

/** The sensors the hub knows (the registry), with their rooms. */
export type KnownSensors = () => Iterable<{ sensor: string; room: string }>;

export class AlertService {
  private readonly engine: AlertEngine;
  private readonly scheduler: TickScheduler;
  private tick: TickHandle | null = null;
  private nextId = 1;
  /** by `${rule}\0${sensor}`: the firing event of each alert firing now */
  private readonly firingNow = new Map<string, AlertEvent>();
  private unwritten: AlertEvent[] = [];
  private writing: Promise<void> = Promise.resolve();
  private writeScheduled = false;
  private retryTimer: unknown = null;
  /** by URL */
  private readonly webhooks = new Map<string, WebhookSender>();
  readonly stats = { events: 0, eventsUnstored: 0, writeFailures: 0 };
  private knownSensors: KnownSensors = () => [];
  private announces: AnnouncesFor = () => true;

  constructor(private readonly o: AlertServiceOptions) {
    this.engine = new AlertEngine({ now: o.now, emit: (e) => this.emitted(e) });
    this.scheduler = new TickScheduler({ clock: o.clock });
  }

  /** Loads rules and the alerts firing at the last stop; clears those whose newest reading says they cleared meanwhile. */
  async start(catalog: SeriesCatalog, sensors: KnownSensors): Promise<void> {
    const loaded = (await this.o.store.alerts({ kind: 'load' })) as AlertsLoaded;
    this.nextId = loaded.maxId + 1;
    const startMs = this.o.now();
    // Silence counts from the start: the hub being down is not the sensors' fault.
    this.knownSensors = sensors;
    for (const s of sensors()) this.engine.knowSensor(s.sensor, s.room, startMs);
    for (const record of loaded.rules) {
      try {
        this.engine.setRule(compileRule(record));
      } catch (err) {
        this.o.log.error(
          { rule: record.name, err: (err as Error).message },
          'a stored alert rule is not valid and is ignored; set it again',
        );
      }
    }
    for (const e of loaded.firing) {
      if (!this.engine.rule(e.rule)) continue;
      this.firingNow.set(key(e.rule, e.sensor), e);
      const channel = e.metric === null ? undefined : catalog.channels.get(`${e.sensor}\0${e.metric}`);
      this.engine.restoreFiring(e.rule, e.sensor, e.room, e.ts, channel && channel.latestSeries >= 0 ? channel.latestValue : undefined);
    }
    this.tick = this.scheduler.add(this.o.tickMs ?? 1_000, this.o.tickMs ?? 1_000, () => this.engine.tick());
  }

  async stop(): Promise<void> {
    this.tick?.cancel();
    this.tick = null;
    this.scheduler.stop();
    if (this.retryTimer !== null) this.o.clock.clearTimeout(this.retryTimer);
    this.retryTimer = null;
    for (const w of this.webhooks.values()) w.stop();
    await this.flush();
  }

  /** Committed rows (the group commit's onCommitted): `mask` 0 marks a duplicate, which is not evaluated. */
  committed(catalog: SeriesCatalog, rows: Columns, mask?: Uint8Array): void {
    if (!this.engine.hasRules) return;
    for (let i = 0; i < rows.n; i++) {
      if (mask && mask[i] === 0) continue;
      const def = catalog.series[rows.series[i]!];
      if (def) this.engine.reading(def.sensor, def.room, def.metric, rows.value[i]!);
    }
  }

  /** Cluster mode: which sensors' events this hub stores and sends (default: all). */
  announceOnly(announces: AnnouncesFor): void {
    this.announces = announces;
  }

  /**
   * Cluster mode: another hub changed the rules in the shared store; take its set. Rules kept
   * keep their state (pending, firing); removed ones are dropped, as deleteRule does.
   */
  async reloadRules(): Promise<void> {
    const loaded = (await this.o.store.alerts({ kind: 'load' })) as AlertsLoaded;
    const names = new Set(loaded.rules.map((r) => r.name));
    for (const r of this.engine.ruleList) if (!names.has(r.name)) this.engine.removeRule(r.name);
    for (const record of loaded.rules) {
      const had = this.engine.rule(record.name);
      if (
        had &&
        had.rule === record.rule &&
        had.room === record.room &&
        had.sensor === record.sensor &&
        sameList(had.webhooks, record.webhooks)
      )
        continue;
      try {
        const rule = compileRule(record);
        if (!this.engine.hasRules) this.engine.silenceFrom(this.o.now());
        this.engine.setRule(rule);
        if (rule.condition.kind === 'no-data') for (const s of this.knownSensors()) this.engine.knowSensor(s.sensor, s.room, this.o.now());
      } catch (err) {
        this.o.log.error({ rule: record.name, err: (err as Error).message }, 'an alert rule another hub stored is not valid here; ignored');
      }
    }
    this.dropIdleWebhooks();
  }

  get rules(): AlertRule[] {
    return this.engine.ruleList.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  }

  rule(name: string): AlertRule | undefined {
    return this.engine.rule(name);
  }

  firingCount(name: string): number {
    return this.engine.firingCount(name);
  }

  /** The firing event of every alert firing now, oldest first. */
  firing(): AlertEvent[] {
    return [...this.firingNow.values()].sort((a, b) => a.id - b.id);
  }

  webhookStats(): { url: string; queued: number; delivered: number; failedAttempts: number; dropped: number; lastError: string | null }[] {
    return [...this.webhooks.values()].map((w) => ({ url: w.url, queued: w.queued, ...w.stats, lastError: w.lastError }));
  }

  async putRule(record: AlertRuleRecord): Promise<AlertRule> {
    const rule = compileRule(record);
    if (!this.engine.rule(record.name) && this.engine.ruleList.length >= MAX_ALERT_RULES)
      throw new HubError('too_many_alert_rules', `this hub keeps at most ${MAX_ALERT_RULES} alert rules: delete one first`);
    await this.o.store.alerts({ kind: 'put-rule', rule: { ...record, rule: rule.rule } });
    // Without rules, readings are not looked at (committed() returns at once): what the engine
    // knows of when sensors were last seen is stale, and counts from now.
    if (!this.engine.hasRules) this.engine.silenceFrom(this.o.now());
    this.engine.setRule(rule);
    // A sensor silent since before the rule existed is silent from now on, not unknown to it.
    if (rule.condition.kind === 'no-data') for (const s of this.knownSensors()) this.engine.knowSensor(s.sensor, s.room, this.o.now());
    this.dropIdleWebhooks();
    return rule;
  }

  async deleteRule(name: string): Promise<boolean> {
    if (!this.engine.rule(name)) return false;
    await this.o.store.alerts({ kind: 'delete-rule', name });
    this.engine.removeRule(name);
    this.dropIdleWebhooks();
    return true;
  }

  /** The event log; events not yet written are written first, so an answer never misses one. */
  async events(query: AlertEventQuery): Promise<AlertEvent[]> {
    await this.flush();
    return (await this.o.store.alerts({ kind: 'query', query })) as AlertEvent[];
  }

  get lastId(): number {
    return this.nextId - 1;
  }

  private emitted(draft: AlertEventDraft): void {
    const mine = this.announces(draft.sensor);
    // Another hub's event keeps its place in firingNow (what this hub lists as firing) with id 0:
    // its numbered copy is the other hub's, in the shared store.
    const event: AlertEvent = { id: mine ? this.nextId++ : 0, ...draft };
    const k = key(event.rule, event.sensor);
    if (event.state === 'firing') this.firingNow.set(k, event);
    else this.firingNow.delete(k);
    if (!mine) return;
    this.stats.events++;
    const max = this.o.maxUnwritten ?? 10_000;
    if (this.unwritten.length >= max) {
      this.unwritten.shift();
      this.stats.eventsUnstored++;
    }
    this.unwritten.push(event);
    this.scheduleWrite();
    for (const url of this.engine.rule(event.rule)?.webhooks ?? []) this.sender(url).send(event);
  }

  private sender(url: string): WebhookSender {
    let w = this.webhooks.get(url);
    if (!w) {
      w = new WebhookSender(url, this.o.clock, this.o.webhooks ?? WEBHOOK_DEFAULTS, (u, message) =>
        this.o.log.warn({ url: u, reason: message }, 'an alert webhook did not take an event; retrying with backoff'),
      );
      this.webhooks.set(url, w);
    }
    return w;
  }

  /** Senders of URLs no rule names any more, once they have sent what they had: URLs come and go with rules. */
  private dropIdleWebhooks(): void {
    const named = new Set(this.engine.ruleList.flatMap((r) => r.webhooks));
    for (const [url, w] of this.webhooks)
      if (!named.has(url) && w.queued === 0) {
        w.stop();
        this.webhooks.delete(url);
      }
  }

  private scheduleWrite(): void {
    if (this.writeScheduled) return;
    this.writeScheduled = true;
    this.writing = this.writing.then(() => this.write());
  }

  /** Writes what is unwritten; a failed write keeps its events for the next try. */
  private async write(): Promise<void> {
    this.writeScheduled = false;
    const batch = this.unwritten;
    if (batch.length === 0) return;
    this.unwritten = [];
    try {
      await this.o.store.alerts({ kind: 'append', events: batch });
    } catch (err) {
      this.stats.writeFailures++;
      this.o.log.error(
        { err: (err as Error).message, events: batch.length },
        'could not store alert events; they are kept and tried again',
      );
      this.unwritten = [...batch, ...this.unwritten];
      const max = this.o.maxUnwritten ?? 10_000;
      if (this.unwritten.length > max) {
        this.stats.eventsUnstored += this.unwritten.length - max;
        this.unwritten = this.unwritten.slice(-max);
      }
      if (this.retryTimer === null && this.tick !== null)
        this.retryTimer = this.o.clock.setTimeout(() => {
          this.retryTimer = null;
          this.scheduleWrite();
        }, 1_000);
    }
  }

  /** Resolves once every event emitted so far was written (or its write failed). */
  async flush(): Promise<void> {
    this.scheduleWrite();
    await this.writing;
  }
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

function key(rule: string, sensor: string): string {
  return `${rule}\0${sensor}`;
}
