/**
 * The socket under one sensor session: idle timeout, bounded writes (a peer that stops reading
 * is dropped rather than buffered for), and closing with a last line. What the lines mean is
 * the session's business (sensor-session.ts).
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

export class SensorLink {
  readonly address: string;
  /** the peer's address without its port: connection caps count by it */
  readonly remoteHost: string;
  private drainTimer: NodeJS.Timeout | null = null;
  private closed = false;

  constructor(
    private readonly socket: Socket,
    private readonly limits: LinkLimits,
    onData: (chunk: Buffer) => void,
    onClosed: () => void,
  ) {
    this.remoteHost = socket.remoteAddress ?? '?';
    this.address = `${this.remoteHost}:${socket.remotePort ?? 0}`;
    socket.setNoDelay(true);
    socket.setTimeout(limits.idleTimeoutMs);
    socket.on('timeout', () => this.destroy());
    socket.on('error', () => this.destroy());
    socket.on('close', () => {
      this.closed = true;
      if (this.drainTimer) clearTimeout(this.drainTimer);
      onClosed();
    });
    socket.on('data', onData);
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
