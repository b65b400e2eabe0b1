/**
 * The socket under one sensor session: idle detection, bounded writes (a peer that stops reading
 * is dropped rather than buffered for), and closing with a last line. What the lines mean is
 * the session's business (sensor-session.ts).
 *
 * A hub holds one link per connected sensor, 10,000 or more, most of them quiet: a link keeps
 * no timer and no closure of its own. Its socket's listeners are shared functions that find the
 * link on the socket, and idleness is a counter the server's sweep moves (tcp-server.ts).
 */
import type { Socket } from 'node:net';

export interface LinkLimits {
  idleTimeoutMs: number;
  /** a peer that lets this much of our output pile up unread is frozen: drop it */
  maxWriteBufferBytes: number;
  /** a peer whose socket does not drain within this is frozen: drop it */
  drainTimeoutMs: number;
}

/** A peer that does not close after our last line is cut after this. */
const CLOSE_GRACE_MS = 2_000;

/** Who reads a link's bytes and hears of its close (the session). */
export interface LinkOwner {
  onData(chunk: Buffer): void;
  onClosed(): void;
}

const LINK = Symbol('sensor link');
type LinkedSocket = Socket & { [LINK]: SensorLink };

// Shared by every socket: `this` is the socket, and the link hangs on it.
function onSocketData(this: LinkedSocket, chunk: Buffer): void {
  const link = this[LINK];
  link.quietSweeps = 0;
  link.owner.onData(chunk);
}
function onSocketError(this: LinkedSocket): void {
  this.destroy();
}
function onSocketClose(this: LinkedSocket): void {
  this[LINK].onClose();
}

export class SensorLink {
  /** the peer's address without its port: connection caps count by it */
  readonly remoteHost: string;
  private drainTimer: NodeJS.Timeout | null = null;
  private closed = false;
  /** sweeps of the server since bytes last arrived (tcp-server.ts): idle past the limit */
  quietSweeps = 0;

  constructor(
    private readonly socket: Socket,
    private readonly limits: LinkLimits,
    readonly owner: LinkOwner,
  ) {
    // Asked once here, so the socket keeps its peer's address and port after it closes.
    this.remoteHost = socket.remoteAddress ?? '?';
    socket.setNoDelay(true);
    (socket as LinkedSocket)[LINK] = this;
    socket.on('error', onSocketError);
    socket.on('close', onSocketClose);
    socket.on('data', onSocketData);
  }

  /** `host:port` of the peer, made when asked (logs, refusals, the registry): not kept per link. */
  get address(): string {
    return `${this.remoteHost}:${this.socket.remotePort ?? 0}`;
  }

  /** The server's sweep: true once no bytes have arrived for idleTimeoutMs (then the link is cut). */
  sweep(sweepMs: number): boolean {
    // After k sweeps without data, at least (k - 1) sweep periods passed since the last bytes.
    if ((++this.quietSweeps - 1) * sweepMs < this.limits.idleTimeoutMs) return false;
    this.destroy();
    return true;
  }

  /** The socket closed (either side). */
  onClose(): void {
    this.closed = true;
    if (this.drainTimer) clearTimeout(this.drainTimer);
    this.owner.onClosed();
  }

  pause(): void {
    this.socket.pause();
  }

  resume(): void {
    if (!this.closed) this.socket.resume();
  }

  /**
   * Every write to the sensor goes through here. A peer that lets maxWriteBufferBytes pile up
   * unread, or does not drain within drainTimeoutMs, is frozen: it is dropped, so it never
   * holds memory or a fan-out hostage.
   */
  sendLine(line: string | Buffer): boolean {
    if (this.closed || this.socket.destroyed || this.socket.writableEnded) return false;
    if (this.socket.writableLength > this.limits.maxWriteBufferBytes) {
      this.destroy();
      return false;
    }
    if (!this.socket.write(line) && !this.drainTimer) {
      this.drainTimer = setTimeout(() => this.destroy(), this.limits.drainTimeoutMs);
      this.drainTimer.unref();
      this.socket.once('drain', () => {
        if (this.drainTimer) clearTimeout(this.drainTimer);
        this.drainTimer = null;
      });
    }
    return true;
  }

  /** Ends our side after what was written; the peer closes its own. */
  end(): void {
    this.socket.end();
  }

  /** Ends our side, and makes sure the socket closes even if the peer never reads or answers. */
  endAndCut(): void {
    this.socket.end();
    // Keep reading (and discarding) so the peer's close reaches us even while ingest is paused.
    this.socket.resume();
    const t = setTimeout(() => this.destroy(), CLOSE_GRACE_MS);
    t.unref();
  }

  destroy(): void {
    this.socket.destroy();
  }
}
