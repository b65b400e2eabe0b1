/**
 * The sensor port: accepts connections, keeps one session per sensor id (a newer one takes
 * over), pauses every socket while the store is behind, and on stop hands each sensor its
 * last ack and a 503 before closing. With TLS credentials it serves TLS only: the session code
 * is the same, since a TLSSocket is a net.Socket.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer, type TLSSocket } from 'node:tls';
import type { Logger } from 'pino';
import { ErrorCode } from '../../protocol/codes.ts';
import { SensorSession, type SessionContext } from './sensor-session.ts';

export interface ConnectionCaps {
  total: number;
  perAddress: number;
  /** a connection refused for a cap */
  onRefused?(address: string, message: string): void;
}

/** Connections over a cap still get their 429 line; past this many more, the kernel refuses them. */
const REFUSAL_HEADROOM = 1_000;

/**
 * How often the sweep looks at every connection for its hello deadline and idle limit: a
 * quarter of the shorter one, at most a second (10,000 connections take well under a ms).
 */
export function sweepPeriodMs(limits: { helloTimeoutMs: number; idleTimeoutMs: number }): number {
  return Math.max(10, Math.min(1_000, Math.min(limits.helloTimeoutMs, limits.idleTimeoutMs) / 4));
}

export interface SensorTls {
  /** PEM */
  cert: Buffer;
  key: Buffer;
  /** a peer that has not finished its handshake by then is dropped, like an idle sensor */
  handshakeTimeoutMs: number;
}

export class SensorServer {
  private server: Server | null = null;
  /** every open connection, greeted or not */
  private readonly sessions = new Set<SensorSession>();
  /** by sensor id: the connection that speaks for it */
  readonly bySensor = new Map<string, SensorSession>();
  private paused = false;
  acceptedCount = 0;
  /** with TLS: every TCP connection under a TLS one, so stop() can cut those still in their handshake */
  private readonly rawSockets = new Set<Socket>();
  /** connections dropped before or during the TLS handshake (a plain client, an untrusting sensor) */
  tlsFailedCount = 0;

  /** by remote address (no port): open connections */
  private readonly perAddress = new Map<string, number>();
  refusedCount = 0;
  /** one timer for every connection's hello deadline and idle limit, instead of one or two each */
  private sweepTimer: NodeJS.Timeout | null = null;

  constructor(
    private readonly makeContext: (server: SensorServer) => SessionContext,
    private readonly log: Logger,
    private readonly caps: ConnectionCaps,
    private readonly tls: SensorTls | null = null,
  ) {}

  private context: SessionContext | null = null;

  async start(host: string, port: number): Promise<number> {
    this.context = this.makeContext(this);
    const sweepMs = sweepPeriodMs(this.context.limits);
    this.sweepTimer = setInterval(() => {
      for (const s of this.sessions) s.sweep(sweepMs);
    }, sweepMs);
    this.sweepTimer.unref();
    const server = this.tls ? this.createTlsServer(this.tls) : createServer({ noDelay: true }, (socket) => this.accept(socket));
    server.maxConnections = this.caps.total + REFUSAL_HEADROOM;
    server.on('error', (err) => this.log.error({ err }, 'sensor port error'));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve();
      });
    });
    const addr = server.address();
    return typeof addr === 'object' && addr ? addr.port : port;
  }

  private createTlsServer(tls: SensorTls): Server {
    const server = createTlsServer(
      { cert: tls.cert, key: tls.key, handshakeTimeout: tls.handshakeTimeoutMs, noDelay: true },
      (socket: TLSSocket) => this.accept(socket),
    );
    // A failed handshake (plain TCP, a client that does not trust us, a timeout) never reaches a
    // session; the socket is closed here, and the failure counted and logged, not thrown.
    server.on('tlsClientError', (err: NodeJS.ErrnoException, socket: TLSSocket) => {
      this.tlsFailedCount++;
      this.log.debug(
        { address: `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? 0}`, code: err.code, reason: err.message },
        'sensor TLS handshake failed',
      );
      socket.destroy();
    });
    server.on('connection', (raw: Socket) => {
      this.rawSockets.add(raw);
      raw.once('close', () => this.rawSockets.delete(raw));
    });
    return server;
  }

  get connectionCount(): number {
    return this.sessions.size;
  }

  /** Every connected session, for fan-out. */
  activeSessions(): Iterable<SensorSession> {
    return this.bySensor.values();
  }

  claim(session: SensorSession): void {
    const id = session.sensorId!;
    const older = this.bySensor.get(id);
    this.bySensor.set(id, session);
    if (older && older !== session) older.replaced();
  }

  release(session: SensorSession): void {
    if (!this.sessions.delete(session)) return;
    const host = session.remoteHost;
    const n = (this.perAddress.get(host) ?? 1) - 1;
    if (n > 0) this.perAddress.set(host, n);
    else this.perAddress.delete(host);
    if (session.sensorId && this.bySensor.get(session.sensorId) === session) this.bySensor.delete(session.sensorId);
  }

  pauseAll(): void {
    this.paused = true;
    for (const s of this.sessions) s.pause();
  }

  resumeAll(): void {
    this.paused = false;
    for (const s of this.sessions) s.resume();
  }

  /**
   * Stops accepting and reading. The caller then drains the commits and calls finish().
   * server.close() reports only once every connection has ended, which finish() brings about,
   * so it is not waited for here.
   */
  stopAccepting(): void {
    for (const s of this.sessions) s.pause();
    this.paused = true;
    this.server?.close();
  }

  /** Last ack and 503 to every sensor; resolves when every socket is closed (bounded). */
  async finish(timeoutMs = 3_000): Promise<void> {
    const open = [...this.sessions];
    for (const s of open) s.shutdown();
    const deadline = Date.now() + timeoutMs;
    while (this.sessions.size > 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
    }
    for (const s of this.sessions) s.destroy();
    // Handshakes still under way would hold the port open until their timeout.
    for (const raw of this.rawSockets) raw.destroy();
    if (this.sweepTimer) clearInterval(this.sweepTimer);
    this.sweepTimer = null;
  }

  /** Sessions that said hello (to check them again when the token rules change). */
  *greetedSessions(): Iterable<SensorSession> {
    for (const s of this.sessions) if (s.isActive) yield s;
  }

  private accept(socket: Socket): void {
    this.acceptedCount++;
    const session = new SensorSession(socket, this.context!);
    const host = session.remoteHost;
    const fromHost = this.perAddress.get(host) ?? 0;
    const refusal =
      this.sessions.size >= this.caps.total
        ? `the hub is at its cap of ${this.caps.total} sensor connections; try again later (an admin can raise --max-sensor-connections)`
        : fromHost >= this.caps.perAddress
          ? `too many connections from ${host}: the cap is ${this.caps.perAddress} per address (an admin can raise --max-connections-per-address)`
          : null;
    this.sessions.add(session);
    this.perAddress.set(host, fromHost + 1);
    if (refusal) {
      this.refusedCount++;
      this.caps.onRefused?.(session.address, refusal);
      session.refuse(ErrorCode.TooManyErrors, refusal);
      return;
    }
    if (this.paused) session.pause();
  }
}
