/**
 * The open WebSockets of one streaming route (the readings' stream, the activity stream): how
 * many each opener holds and how many in all, bounded before the upgrade (429
 * `too_many_streams`), and which user each serves, so that a change of a user's rights
 * reaches that user's streams (and, when a hub gets its first user, the anonymous ones).
 * Also what every such socket gets: the heartbeat, and errors in one shape.
 */
import type { FastifyRequest } from 'fastify';
import type { WebSocket } from 'ws';
import type { AccessControl, PrincipalChange } from '../access/access-control.ts';
import type { ApiErrorCode } from '../../protocol/api-errors.ts';
import { HubError } from '../hub-error.ts';

/** A stream that follows its user's rights. */
export interface SeatedStream {
  /** null: anonymous, on an open hub */
  readonly user: string | null;
  recheck(kind: PrincipalChange, sessionSha256?: string): void;
}

export interface SeatLimits {
  /** per user once logged in, per address on an open hub */
  perUser: number;
  total: number;
  /** what the streams are called in a refusal: "streams", "activity streams" */
  what: string;
  /** said after "close one" to a user at their limit */
  hint?: string;
}

/** what a refused stream is told to wait: streams end when their clients close them */
const RETRY_AFTER_S = 10;

export class StreamSeats<C extends SeatedStream> {
  /** by user name (null: anonymous, on an open hub): the open streams */
  private readonly byUser = new Map<string | null, Set<C>>();
  /** by who opened them (`user NAME`, or `address IP` on an open hub): streams open now */
  private readonly openBy = new Map<string, number>();
  private open = 0;

  constructor(
    access: Pick<AccessControl, 'onPrincipalChanged'>,
    private readonly limits: SeatLimits,
  ) {
    access.onPrincipalChanged((user, kind, sessionSha256) => {
      for (const c of [...(this.byUser.get(user) ?? [])]) c.recheck(kind, sessionSha256);
      // The first user of a hub turns its login on: anonymous streams end then.
      for (const c of [...(this.byUser.get(null) ?? [])]) c.recheck(kind);
    });
  }

  /** Refuses (429) a stream its opener, or the hub, has no seat for. Call before the upgrade. */
  check(request: FastifyRequest): void {
    const { perUser, total, what, hint } = this.limits;
    const mine = this.openBy.get(opener(request)) ?? 0;
    const problem =
      mine >= perUser
        ? `you have ${mine} ${what} open, the most one user may; close one${hint ? ` (${hint})` : ''}`
        : this.open >= total
          ? `the hub has ${this.open} ${what} open, the most it keeps; try again later`
          : null;
    if (problem) throw new HubError('too_many_streams', problem, { retryAfterS: RETRY_AFTER_S });
  }

  /** Seats the stream `make` opens; `make` gets what the stream calls when it ends. */
  seat(request: FastifyRequest, make: (release: (c: C) => void) => C): C {
    const key = opener(request);
    this.openBy.set(key, (this.openBy.get(key) ?? 0) + 1);
    this.open++;
    const stream = make((c) => {
      const set = this.byUser.get(c.user);
      set?.delete(c);
      if (set?.size === 0) this.byUser.delete(c.user);
      const left = (this.openBy.get(key) ?? 1) - 1;
      if (left > 0) this.openBy.set(key, left);
      else this.openBy.delete(key);
      this.open--;
    });
    let set = this.byUser.get(stream.user);
    if (!set) this.byUser.set(stream.user, (set = new Set()));
    set.add(stream);
    return stream;
  }
}

function opener(request: FastifyRequest): string {
  return request.principal.kind === 'user' ? `user ${request.principal.name}` : `address ${request.ip}`;
}

/**
 * Pings the socket every `intervalMs`; one that answered nothing since the last ping (a peer
 * gone without closing: a sleeping laptop) is cut. Returns the way to stop.
 */
export function keepAlive(ws: WebSocket, intervalMs: number): () => void {
  let alive = true;
  const heard = () => (alive = true);
  ws.on('pong', heard);
  ws.on('message', heard);
  const timer = setInterval(() => {
    if (!alive) return ws.terminate();
    alive = false;
    if (ws.readyState === ws.OPEN) ws.ping();
  }, intervalMs);
  return () => clearInterval(timer);
}

/** `{"type":"error","code","message"}` on an open socket (a closing one is past telling). */
export function sendError(ws: WebSocket, code: ApiErrorCode, message: string): void {
  if (ws.readyState === ws.OPEN) ws.send(JSON.stringify({ type: 'error', code, message }));
}
