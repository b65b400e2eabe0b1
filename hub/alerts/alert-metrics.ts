/** The alert families of `/metrics` (docs/ALERTS.md "Metrics"), read from the service at scrape time. */
import { Counter, Gauge, type Registry } from 'prom-client';
import type { AlertService } from './alert-service.ts';

export function addAlertFamilies(registry: Registry, alerts: AlertService): void {
  new Gauge({
    name: 'roomwatch_alerts_firing',
    help: 'Alerts firing now (one per sensor), by rule; 0 for a rule with none.',
    labelNames: ['rule'],
    registers: [registry],
    collect() {
      this.reset();
      for (const r of alerts.rules) this.set({ rule: r.name }, alerts.firingCount(r.name));
    },
  });
  const counter = (name: string, help: string, read: () => number) =>
    new Counter({
      name,
      help,
      registers: [registry],
      collect() {
        this.reset();
        this.inc(read());
      },
    });
  counter('roomwatch_alert_events_total', 'Alert events (firing and cleared) since start.', () => alerts.stats.events);
  counter(
    'roomwatch_alert_events_unstored_total',
    'Alert events dropped before they could be stored (the store failed for long).',
    () => alerts.stats.eventsUnstored,
  );
  const hooks = (name: string, help: string, read: (w: ReturnType<AlertService['webhookStats']>[number]) => number) =>
    new Counter({
      name,
      help,
      labelNames: ['url'],
      registers: [registry],
      collect() {
        this.reset();
        for (const w of alerts.webhookStats()) this.inc({ url: w.url }, read(w));
      },
    });
  hooks('roomwatch_alert_webhook_delivered_total', 'Alert events a webhook took (a 2xx answer).', (w) => w.delivered);
  hooks('roomwatch_alert_webhook_failures_total', 'Alert webhook attempts that failed and will be retried.', (w) => w.failedAttempts);
  hooks('roomwatch_alert_webhook_dropped_total', 'Alert events dropped for a webhook whose queue was full.', (w) => w.dropped);
  new Gauge({
    name: 'roomwatch_alert_webhook_queued',
    help: 'Alert events waiting for a webhook.',
    labelNames: ['url'],
    registers: [registry],
    collect() {
      this.reset();
      for (const w of alerts.webhookStats()) this.set({ url: w.url }, w.queued);
    },
  });
}
