/**
 * One WebSocket of `GET /api/v1/stream` (PROTOCOL.md §2 "Live stream"): the client's subscribe
 * messages, checked and bounded, and its current subscription.
 *
 * What one connection can make the hub do is bounded: at most maxMessages messages per
 * windowMs (beyond: an error, then close 1008), one replay at a time (a subscribe while one is
 * read gets the error `replay_in_progress` and changes nothing), and the replays of all
 * connections share the ReplayGate. A ping every heartbeatMs finds peers that went away without
 * closing (a sleeping laptop): unanswered until the next, the socket is cut. Rights are checked
 * on every subscribe, and again whenever the user's rights change (stream-route.ts): a login
 * that ended closes the stream (1008), a change of rooms re-scopes it.
 */
import type { RawData, WebSocket } from 'ws';
import type { AccessControl, AuthFailure, PrincipalChange } from '../access/access-control.ts';
import type { Principal } from '../access/principal.ts';
import { Subscriber, type LiveStream } from '../stream/live-stream.ts';
import type { ReplayGate, ReplayTurn } from '../stream/replay-gate.ts';
import type { HubStore } from '../store/hub-store.ts';
import type { ApiErrorCode } from '../../protocol/api-errors.ts';
import { HubError } from '../hub-error.ts';
import { statusOf } from './api-error.ts';
import { scopeFilters } from './auth.ts';
import { parseFilters, type Filters } from './filters.ts';
import { refusal } from './request-validation.ts';
import { keepAlive, sendError } from './stream-seats.ts';
import { SchemaCheck } from '../../protocol/schema-check.ts';
import { DEFAULT_REPLAY, MAX_REPLAY, SubscribeMessage } from '../../protocol/schemas/stream.ts';

export { DEFAULT_REPLAY, MAX_REPLAY };

const subscribeCheck = new SchemaCheck(SubscribeMessage);

export interface StreamConnectionLimits {
  /** messages a client may send per windowMs; a subscribe needs one, a well-behaved client a few */
  maxMessages: number;
  windowMs: number;
  /** a ping this often; a socket that answered none since the last one is cut (a peer gone without a word) */
  heartbeatMs: number;
}

export interface StreamConnectionDeps {
  stream: LiveStream;
  store: Pick<HubStore, 'recent'>;
  access: Pick<AccessControl, 'recheck'>;
  replays: ReplayGate;
  limits: StreamConnectionLimits;
  /** the hub clock: when a login expires */
  now(): number;
}

/** 1008 "policy violation": the client may not have (or no longer has) what it asked for. */
const POLICY = 1008;
/** setTimeout's longest delay */
const MAX_TIMER_MS = 2 ** 31 - 1;

const ENDED_BY: Record<PrincipalChange, string> = {
  logout: 'logged out',
  deleted: 'user deleted',
  password: 'password changed: log in again',
  access: 'login no longer valid', // not reached: a change of role or rooms keeps the session
};

export class StreamConnection {
  private sub: Subscriber | null = null;
  /** the filters as the client asked, before they were narrowed to its rooms */
  private requested: Filters | null = null;
  private replayTurn: ReplayTurn | null = null;
  /** performance.now() of the client's recent messages, oldest first */
  private readonly messageTimes: number[] = [];
  private expiryTimer: NodeJS.Timeout | null = null;
  private readonly stopHeartbeat: () => void;
  private ended = false;

  constructor(
    readonly ws: WebSocket,
    private principal: Principal,
    private readonly d: StreamConnectionDeps,
    private readonly onEnd: (c: StreamConnection) => void,
  ) {
    ws.on('message', (data) => this.onMessage(textOf(data)));
    ws.on('close', () => this.end());
    ws.on('error', () => ws.terminate());
    this.stopHeartbeat = keepAlive(ws, d.limits.heartbeatMs);
    this.armExpiry();
  }

  /** the user this stream serves; null on an open hub */
  get user(): string | null {
    return this.principal.kind === 'user' ? this.principal.name : null;
  }

  /**
   * The user's rights changed (AccessControl.onPrincipalChanged): a login that ended closes the
   * stream (1008); otherwise it follows the user's rooms as they are now, and a room it named
   * that is no longer the user's closes it (1008 `forbidden_room`).
   */
  recheck(kind: PrincipalChange, sessionSha256?: string): void {
    if (this.ended) return;
    if (kind === 'logout' && this.principal.kind === 'user' && sessionSha256 !== this.principal.sessionSha256) return;
    const fresh = this.d.access.recheck(this.principal);
    if ('status' in fresh) return this.refuse(fresh, this.principal.kind === 'anonymous' ? 'login required' : ENDED_BY[kind]);
    this.principal = fresh;
    this.armExpiry();
    if (!this.sub || !this.requested) return;
    try {
      this.sub.refilter(scopeFilters(fresh, this.requested));
    } catch (err) {
      this.fail(err instanceof HubError ? err.code : 'forbidden_room', (err as Error).message);
      this.close(POLICY, 'forbidden_room');
    }
  }

  close(code: number, reason: string): void {
    this.end();
    if (this.ws.readyState === this.ws.OPEN) this.ws.close(code, reason.slice(0, 120));
  }

  private onMessage(text: string): void {
    if (this.ended) return;
    if (!this.withinRate()) {
      const { maxMessages, windowMs } = this.d.limits;
      this.fail(
        'too_many_messages',
        `more than ${maxMessages} messages in ${windowMs / 1000} s: subscribe once, then read; reconnect later`,
      );
      return this.close(POLICY, 'too many messages');
    }
    let msg: unknown;
    try {
      msg = JSON.parse(text);
    } catch {
      return this.fail('bad_request', 'send JSON: {"type":"subscribe", "sensor"?, "room"?, "metric"?, "replay"?}');
    }
    if (typeof msg !== 'object' || msg === null || Array.isArray(msg) || (msg as { type?: unknown }).type !== 'subscribe')
      return this.fail('bad_request', 'the only message is {"type":"subscribe", ...}');
    // The login may have ended, or the rooms changed, since the socket opened.
    const fresh = this.d.access.recheck(this.principal);
    if ('status' in fresh) return this.refuse(fresh, fresh.code);
    this.principal = fresh;
    // A field it does not take (`"sensors"`, a typo) is refused: it would widen the subscription.
    const checked = subscribeCheck.check(msg);
    if (!checked.ok) {
      const refused = refusal(checked.problem, 'message');
      return this.fail(refused.code, refused.message);
    }
    const fields = checked.value;
    let requested: Filters;
    let filters: Filters;
    try {
      requested = parseFilters(fields);
      filters = scopeFilters(fresh, requested);
    } catch (err) {
      this.fail(err instanceof HubError ? err.code : 'bad_filter', (err as Error).message);
      // Asking for a room one may not see ends the stream.
      if (err instanceof HubError && statusOf(err) === 403) this.close(POLICY, 'forbidden_room');
      return;
    }
    // Absent or null: the default; more than MAX_REPLAY is taken as MAX_REPLAY, not refused.
    const replay = fields.replay ?? DEFAULT_REPLAY;
    if (this.replayTurn) {
      return this.fail(
        'replay_in_progress',
        'the replay of your previous subscribe is still being read: wait for its "subscribed", then subscribe again',
      );
    }
    this.subscribe(requested, filters, Math.min(replay, MAX_REPLAY), fields.batch === true);
  }

  private subscribe(requested: Filters, filters: Filters, replay: number, batch: boolean): void {
    if (this.sub) this.d.stream.remove(this.sub);
    const sub = new Subscriber(this.ws, filters, this.d.stream, batch);
    this.sub = sub;
    this.requested = requested;
    sub.beginReplay(); // live readings wait behind the replay
    this.d.stream.add(sub);
    const turn = replay > 0 ? this.d.replays.turn() : null;
    this.replayTurn = turn;
    const query = {
      sensors: filters.sensor ? [...filters.sensor] : null,
      rooms: filters.room ? [...filters.room] : null,
      metrics: filters.metric ? [...filters.metric] : null,
      limit: replay,
    };
    const current = () => this.sub === sub && !this.ended;
    void (turn ? turn.ready.then(() => (current() ? this.d.store.recent(query) : [])) : Promise.resolve([]))
      .then(
        (rows) => {
          if (!current()) return;
          this.ws.send(JSON.stringify({ type: 'subscribed', replayed: rows.length }));
          sub.finishReplay(rows);
        },
        (err: Error) => {
          if (!current()) return;
          // No half subscription: the client may subscribe again.
          this.d.stream.remove(sub);
          this.sub = null;
          this.fail('store_unavailable', `the replay could not be read (${err.message}); subscribe again later`);
        },
      )
      .finally(() => {
        turn?.release();
        if (this.replayTurn === turn) this.replayTurn = null;
      });
  }

  private withinRate(): boolean {
    const now = performance.now();
    const times = this.messageTimes;
    while (times.length > 0 && now - times[0]! >= this.d.limits.windowMs) times.shift();
    times.push(now);
    return times.length <= this.d.limits.maxMessages;
  }

  /** A login that ended or expires: the stream closes at its expiry too, not only at the next subscribe. */
  private armExpiry(): void {
    if (this.expiryTimer) clearTimeout(this.expiryTimer);
    this.expiryTimer = null;
    if (this.principal.kind !== 'user') return;
    const left = this.principal.expiresAt - this.d.now();
    this.expiryTimer = setTimeout(
      () => {
        if (this.principal.kind === 'user' && this.principal.expiresAt - this.d.now() > 0) return this.armExpiry();
        const fresh = this.d.access.recheck(this.principal);
        if ('status' in fresh) this.refuse(fresh, fresh.code);
        else {
          this.principal = fresh;
          this.armExpiry();
        }
      },
      Math.min(Math.max(left, 0), MAX_TIMER_MS),
    );
    this.expiryTimer.unref();
  }

  private refuse(failure: AuthFailure, reason: string): void {
    this.fail(failure.code, failure.message);
    this.close(POLICY, reason);
  }

  private fail(code: ApiErrorCode, message: string): void {
    sendError(this.ws, code, message);
  }

  private end(): void {
    if (this.ended) return;
    this.ended = true;
    this.stopHeartbeat();
    if (this.expiryTimer) clearTimeout(this.expiryTimer);
    this.expiryTimer = null;
    if (this.sub) this.d.stream.remove(this.sub);
    this.sub = null;
    // A replay waiting for its turn leaves the line; one being read gives its turn back when the store is done.
    this.replayTurn?.leave();
    this.onEnd(this);
  }
}

/** A message's text: ws gives a Buffer, or fragments as Buffer[], or an ArrayBuffer. */
function textOf(data: RawData): string {
  if (Buffer.isBuffer(data)) return data.toString('utf8');
  return (Array.isArray(data) ? Buffer.concat(data) : Buffer.from(data)).toString('utf8');
}
