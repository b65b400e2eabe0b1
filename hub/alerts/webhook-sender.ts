/**
 * Sends alert events to one webhook URL as JSON POSTs, one at a time and in order, so a
 * receiver sees firing before clearing. A failure (no answer within the timeout, a refused
 * connection, a status other than 2xx) is retried with doubling backoff, for as long as it
 * takes: a receiver that is down for an hour gets the hour's events when it is back. The
 * queue is bounded: past `maxQueued` the oldest event is dropped and counted, so a receiver
 * gone for good cannot make the hub hold events without end. Ingest never waits for any of it:
 * `send` only queues.
 *
 * Each event carries its `id`: a delivery that timed out at our end may still have reached the
 * receiver, and is sent again with the same id (docs/ALERTS.md "Webhooks").
 */
import type { AlertEvent } from '../../protocol/schemas/alerts.ts';
import type { TimerClock } from '../../sensors/tick-scheduler.ts';

export interface WebhookOptions {
  timeoutMs: number;
  minBackoffMs: number;
  maxBackoffMs: number;
  maxQueued: number;
}

export const WEBHOOK_DEFAULTS = {
  timeoutMs: 10_000, // a receiver slower than this is retried: it must not hold later events for ever
  minBackoffMs: 1_000,
  maxBackoffMs: 60_000,
  maxQueued: 10_000,
} satisfies WebhookOptions;

export interface WebhookStats {
  delivered: number;
  failedAttempts: number;
  dropped: number;
}

export class WebhookSender {
  private readonly queue: AlertEvent[] = [];
  private sending = false;
  private backoffMs = 0;
  private timer: unknown = null;
  private stopped = false;
  private inFlight: AbortController | null = null;
  readonly stats: WebhookStats = { delivered: 0, failedAttempts: 0, dropped: 0 };
  lastError: string | null = null;

  constructor(
    readonly url: string,
    private readonly clock: TimerClock,
    private readonly options: WebhookOptions = WEBHOOK_DEFAULTS,
    private readonly onError: (url: string, message: string) => void = () => {},
  ) {}

  get queued(): number {
    return this.queue.length;
  }

  send(event: AlertEvent): void {
    if (this.stopped) return;
    if (this.queue.length >= this.options.maxQueued) {
      this.queue.shift();
      this.stats.dropped++;
    }
    this.queue.push(event);
    if (!this.sending && this.timer === null) void this.pump();
  }

  stop(): void {
    this.stopped = true;
    if (this.timer !== null) this.clock.clearTimeout(this.timer);
    this.timer = null;
    this.inFlight?.abort();
  }

  private async pump(): Promise<void> {
    this.sending = true;
    while (!this.stopped && this.queue.length > 0) {
      const event = this.queue[0]!;
      const error = await this.post(event);
      if (this.stopped) break;
      if (error === null) {
        // The head may have been dropped meanwhile (queue full): only take it off if it is still there.
        if (this.queue[0] === event) this.queue.shift();
        this.stats.delivered++;
        this.backoffMs = 0;
        continue;
      }
      this.stats.failedAttempts++;
      this.lastError = error;
      this.onError(this.url, error);
      this.backoffMs = Math.min(this.options.maxBackoffMs, this.backoffMs === 0 ? this.options.minBackoffMs : this.backoffMs * 2);
      this.timer = this.clock.setTimeout(() => {
        this.timer = null;
        void this.pump();
      }, this.backoffMs);
      break;
    }
    this.sending = false;
  }

  /** null when delivered, else why not. */
  private async post(event: AlertEvent): Promise<string | null> {
    const abort = new AbortController();
    this.inFlight = abort;
    const timer = setTimeout(() => abort.abort(), this.options.timeoutMs);
    try {
      const res = await fetch(this.url, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'idempotency-key': String(event.id) },
        body: JSON.stringify(event),
        signal: abort.signal,
        redirect: 'error',
      });
      await res.body?.cancel().catch(() => {});
      return res.ok ? null : `answered ${res.status}`;
    } catch (err) {
      if (abort.signal.aborted) return `no answer within ${this.options.timeoutMs} ms`;
      const cause = (err as { cause?: { code?: string; message?: string } }).cause;
      return cause?.code ?? cause?.message ?? (err as Error).message;
    } finally {
      clearTimeout(timer);
      this.inFlight = null;
    }
  }
}
