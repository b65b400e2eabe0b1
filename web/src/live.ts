/**
 * The live stream (`GET /api/v1/stream`, a WebSocket on the page's own host, authenticated by
 * the session cookie): one socket for the page, whose subscription follows the view in sight.
 * Readings are never polled; they come in batches (`"batch": true`, docs/API.md). The hub's rules shape what is sent: a subscribe waits
 * for the previous one's `subscribed` (else `replay_in_progress`), and at most 20 messages go
 * out in any 10 s, so a person clicking through rooms never gets the socket closed.
 */
import { signal } from '@preact/signals';
import type { Reading } from '../../protocol/api.ts';

export type LiveStatus = 'connecting' | 'live' | 'reconnecting';
export const liveStatus = signal<LiveStatus>('connecting');

export interface Subscription {
  /** rooms to follow; absent: every room the user may see (the hub narrows it) */
  room?: readonly string[];
  /** stored readings to send first (the hub takes at most 1000) */
  replay: number;
  onReading: (r: Reading) => void;
  /** the socket was (re)opened after a gap: what the view holds may lack readings, so load it again */
  onGap?: () => void;
}

const MESSAGES_PER_WINDOW = 18; // the hub takes 20 in any 10 s; two spare for a retry
const WINDOW_MS = 10_000;
const MAX_BACKOFF_MS = 15_000;

class LiveSocket {
  private ws: WebSocket | null = null;
  private wanted: Subscription | null = null;
  /** a subscribe was sent and its `subscribed` has not come */
  private awaiting = false;
  /** the wanted subscription has not been sent on this socket */
  private dirty = false;
  private sentAt: number[] = [];
  private sendTimer: ReturnType<typeof setTimeout> | undefined;
  private backoffMs = 500;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private openedBefore = false;

  follow(sub: Subscription): () => void {
    this.wanted = sub;
    this.dirty = true;
    if (!this.ws) this.connect();
    else this.flush();
    return () => {
      if (this.wanted !== sub) return;
      this.wanted = null;
      clearTimeout(this.retryTimer);
    };
  }

  private connect(): void {
    clearTimeout(this.retryTimer);
    const scheme = window.location.protocol === 'https:' ? 'wss' : 'ws';
    const ws = new WebSocket(`${scheme}://${window.location.host}/api/v1/stream`);
    this.ws = ws;
    this.awaiting = false;
    this.dirty = true;
    liveStatus.value = this.openedBefore ? 'reconnecting' : 'connecting';
    ws.onopen = () => {
      this.backoffMs = 500;
      liveStatus.value = 'live';
      if (this.openedBefore) this.wanted?.onGap?.();
      this.openedBefore = true;
      this.flush();
    };
    ws.onmessage = (event) => this.receive(String(event.data));
    ws.onclose = () => {
      if (this.ws !== ws) return;
      this.ws = null;
      liveStatus.value = 'reconnecting';
      // Nobody follows (the login form is shown): connect again only when a view follows.
      if (!this.wanted) return;
      const wait = this.backoffMs;
      this.backoffMs = Math.min(MAX_BACKOFF_MS, this.backoffMs * 2);
      this.retryTimer = setTimeout(() => this.connect(), wait);
    };
  }

  private receive(text: string): void {
    let msg: { type?: string } & Partial<Reading> & { code?: string; readings?: Reading[] };
    try {
      msg = JSON.parse(text) as typeof msg;
    } catch {
      return;
    }
    if (msg.type === 'readings') {
      for (const r of msg.readings ?? []) this.reading(r);
    } else if (msg.type === 'reading') {
      this.reading(msg as Reading);
    } else if (msg.type === 'subscribed') {
      this.awaiting = false;
      this.flush();
    } else if (msg.type === 'dropped') {
      // the hub dropped readings this page was too slow to take: what is shown has a gap
      this.wanted?.onGap?.();
    } else if (msg.type === 'error') {
      this.awaiting = false;
      if (msg.code === 'replay_in_progress') this.dirty = true;
      this.flush();
    }
  }

  private reading(r: Reading): void {
    const sub = this.wanted;
    // Readings of the previous subscription may still be on their way: only the wanted rooms count.
    if (sub && (sub.room === undefined || sub.room.includes(r.room))) sub.onReading(r);
  }

  /** Sends the wanted subscription when the socket, the previous replay and the message budget allow. */
  private flush(): void {
    const ws = this.ws;
    if (!ws || ws.readyState !== WebSocket.OPEN || this.awaiting || !this.dirty || !this.wanted) return;
    const now = Date.now();
    this.sentAt = this.sentAt.filter((t) => now - t < WINDOW_MS);
    if (this.sentAt.length >= MESSAGES_PER_WINDOW) {
      clearTimeout(this.sendTimer);
      this.sendTimer = setTimeout(() => this.flush(), WINDOW_MS - (now - this.sentAt[0]!) + 10);
      return;
    }
    const { room, replay } = this.wanted;
    // batch: the readings ready at once come as one `readings` message. A browser spends far more
    // on each message it is handed (from the network process to this page, an event each) than
    // on its bytes: a busy room's thousand readings a second are a few messages, not a thousand.
    ws.send(JSON.stringify({ type: 'subscribe', ...(room ? { room: [...room] } : {}), replay, batch: true }));
    this.sentAt.push(now);
    this.awaiting = true;
    this.dirty = false;
  }
}

export const live = new LiveSocket();
