/**
 * One WebSocket of `GET /api/v1/activity/stream` (docs/API.md "Activity, live"): an admin's
 * page following the activity log without polling. With `after`, the stored events after that
 * id come first (at most MAX_ACTIVITY_BACKFILL), then each batch the log numbers, oldest first,
 * each event once: batches heard while the backfill was read are held, then sent without the
 * ids the backfill already carried.
 *
 * Bounded like the reading stream: a page that reads too slowly (more than maxBufferedBytes
 * waiting in its socket, or more than maxHeldEvents while its backfill is read) is closed 1013
 * and may reconnect with `after` = the last id it got; a ping every heartbeatMs finds a page
 * gone without a word. Rights are checked again whenever the user's change, and at the
 * login's expiry: a login that ended, or a user no longer admin, closes the stream (1008).
 */
import type { WebSocket } from 'ws';
import type { AccessControl, PrincipalChange } from '../access/access-control.ts';
import type { ActivityRow } from '../access/access-records.ts';
import type { ActivityLog } from '../access/activity-log.ts';
import { mayActAs, type Principal } from '../access/principal.ts';
import type { ApiErrorCode } from '../../protocol/api-errors.ts';
import { MAX_ACTIVITY_BACKFILL } from '../../protocol/schemas/activity.ts';
import { keepAlive, sendError } from './stream-seats.ts';

export interface ActivityFollowerLimits {
  /** bytes waiting in the socket beyond which the page is too slow (1013) */
  maxBufferedBytes: number;
  /** events held while the backfill is read; beyond, 1013 */
  maxHeldEvents: number;
  heartbeatMs: number;
}

export interface ActivityFollowerDeps {
  activity: Pick<ActivityLog, 'follow' | 'query'>;
  access: Pick<AccessControl, 'recheck'>;
  limits: ActivityFollowerLimits;
  /** the hub clock: when a login expires */
  now(): number;
}

export interface ActivityFilters {
  after: number | null;
  actions: string[] | null;
  actors: string[] | null;
}

/** 1008: the client may no longer have this; 1013: try again later (too slow, store busy). */
const POLICY = 1008;
const TRY_LATER = 1013;
/** setTimeout's longest delay */
const MAX_TIMER_MS = 2 ** 31 - 1;

export class ActivityFollower {
  private ended = false;
  /** the backfill is sent: live batches go out as they come */
  private caughtUp = false;
  /** live batches heard while the backfill was read */
  private held: ActivityRow[] = [];
  /** the id of the last event sent (or `after`): nothing at or below it is sent */
  private lastId: number;
  private readonly unfollow: () => void;
  private readonly stopHeartbeat: () => void;
  private expiryTimer: NodeJS.Timeout | null = null;
  private readonly actions: ReadonlySet<string> | null;
  private readonly actors: ReadonlySet<string> | null;

  constructor(
    readonly ws: WebSocket,
    private principal: Principal,
    filters: ActivityFilters,
    private readonly d: ActivityFollowerDeps,
    private readonly onEnd: (f: ActivityFollower) => void,
  ) {
    this.actions = filters.actions && new Set(filters.actions);
    this.actors = filters.actors && new Set(filters.actors);
    this.lastId = filters.after ?? 0;
    // The page has nothing to say: a message only tells the heartbeat that it is there.
    ws.on('close', () => this.end());
    ws.on('error', () => ws.terminate());
    this.stopHeartbeat = keepAlive(ws, d.limits.heartbeatMs);
    this.unfollow = d.activity.follow((rows) => this.heard(rows));
    this.armExpiry();
    if (filters.after === null) this.caughtUp = true;
    else void this.backfill(filters.after);
  }

  /** the user this stream serves; null on an open hub */
  get user(): string | null {
    return this.principal.kind === 'user' ? this.principal.name : null;
  }

  /** The user's rights changed (AccessControl.onPrincipalChanged), or the login's expiry is due. */
  recheck(kind: PrincipalChange, sessionSha256?: string): void {
    if (this.ended) return;
    if (kind === 'logout' && this.principal.kind === 'user' && sessionSha256 !== this.principal.sessionSha256) return;
    const fresh = this.d.access.recheck(this.principal);
    if ('status' in fresh) return this.refuse(fresh.code, fresh.message);
    if (!mayActAs(fresh, 'admin')) return this.refuse('forbidden', 'only admins may follow the activity log; you are no longer one');
    this.principal = fresh;
    this.armExpiry();
  }

  close(code: number, reason: string): void {
    this.end();
    if (this.ws.readyState === this.ws.OPEN) this.ws.close(code, reason.slice(0, 120));
  }

  private async backfill(after: number): Promise<void> {
    let rows: ActivityRow[];
    try {
      rows = await this.d.activity.query({
        after,
        limit: MAX_ACTIVITY_BACKFILL + 1,
        actions: this.actions && [...this.actions],
        actors: this.actors && [...this.actors],
      });
    } catch (err) {
      this.fail('store_unavailable', `${(err as Error).message}`);
      return this.close(TRY_LATER, 'store unavailable');
    }
    if (this.ended) return;
    if (rows.length > MAX_ACTIVITY_BACKFILL) {
      this.fail(
        'bad_parameter',
        `more than ${MAX_ACTIVITY_BACKFILL} events after ${after}: read them with GET /api/v1/activity?after=${after}, then follow from its last_id`,
      );
      return this.close(POLICY, 'after is too far back');
    }
    this.send(rows);
    const held = this.held;
    this.held = [];
    this.caughtUp = true;
    this.send(held);
  }

  private heard(rows: readonly ActivityRow[]): void {
    if (this.ended) return;
    const mine = rows.filter((r) => (!this.actions || this.actions.has(r.action)) && (!this.actors || this.actors.has(r.actor)));
    if (mine.length === 0) return;
    if (this.caughtUp) return this.send(mine);
    for (const r of mine) this.held.push(r);
    if (this.held.length > this.d.limits.maxHeldEvents) this.tooSlow();
  }

  /** Sends the events newer than the last sent, in one message. */
  private send(rows: readonly ActivityRow[]): void {
    const fresh = rows.filter((r) => r.id > this.lastId);
    if (fresh.length === 0 || this.ended) return;
    if (this.ws.bufferedAmount > this.d.limits.maxBufferedBytes) return this.tooSlow();
    this.ws.send(JSON.stringify({ type: 'activity', events: fresh }));
    this.lastId = fresh[fresh.length - 1]!.id;
  }

  private tooSlow(): void {
    // Whatever is still queued goes out before the close frame: the page learns the last id it got.
    this.close(TRY_LATER, `too slow: reconnect with after=${this.lastId}`);
  }

  /** At the login's expiry the stream is checked again (and closed, the login being over). */
  private armExpiry(): void {
    if (this.expiryTimer) clearTimeout(this.expiryTimer);
    this.expiryTimer = null;
    if (this.principal.kind !== 'user') return;
    const left = Math.max(this.principal.expiresAt - this.d.now(), 0);
    this.expiryTimer = setTimeout(() => this.recheck('access'), Math.min(left, MAX_TIMER_MS));
    this.expiryTimer.unref();
  }

  private refuse(code: ApiErrorCode, message: string): void {
    this.fail(code, message);
    this.close(POLICY, code);
  }

  private fail(code: ApiErrorCode, message: string): void {
    sendError(this.ws, code, message);
  }

  private end(): void {
    if (this.ended) return;
    this.ended = true;
    this.held = [];
    this.unfollow();
    this.stopHeartbeat();
    if (this.expiryTimer) clearTimeout(this.expiryTimer);
    this.expiryTimer = null;
    this.onEnd(this);
  }
}
