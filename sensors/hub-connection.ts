/**
 * One connection of a simulated sensor to its hub, over TCP or TLS: the socket, its line
 * splitting, hello and welcome, acks, pings when idle, and the timers that give up on a hub
 * that does not answer. Made for one connection and discarded when it closes: it tells its
 * sensor of the close exactly once, and nothing of a closed connection reaches the next one.
 */
import net from 'node:net';
import tls from 'node:tls';
import { ErrorCode } from '../protocol/codes.ts';
import { decodeHubLine } from '../protocol/decode.ts';
import { LineSplitter } from '../protocol/line-splitter.ts';
import { encodeLine, type HubMessage, type SensorMessage } from '../protocol/messages.ts';
import { DEFAULT_MAX_LINE_BYTES } from '../protocol/names.ts';
import type { Outbox } from './outbox.ts';

export interface HubConnectionOptions {
  host: string;
  port: number;
  /** Connect with TLS, verifying the hub against `ca` (PEM) or, without it, Node's public CAs. */
  tls?: { ca?: Buffer };
  /** The first message, sent once the connection (and its TLS handshake) is up. */
  hello: SensorMessage;
  welcomeTimeoutMs: number;
  pingIdleMs: number;
  ackTimeoutMs: number;
  /** How long the hub may take to close after bye or 503 before we close ourselves. */
  stopTimeoutMs: number;
}

/** What the connection tells its sensor. None of these is called after `closed`. */
export interface ConnectionEvents {
  /** Something went wrong on this connection; the sensor keeps the latest as its lastError. */
  problem(message: string): void;
  tlsFailed(code: string | undefined, message: string): void;
  welcomed(hubTimeMs: number): void;
  /** report-now: the sensor adds a fresh reading to the outbox as the answer to `commandId`. */
  reportNow(commandId: string): void;
  hubError(code: number, message: string): void;
  /** The hub ended this sensor for good (401, 403, 409, 505): reconnecting would only hammer it. */
  refusedForGood(code: number): void;
  closed(hadError: boolean): void;
}

/** Hub errors after which reconnecting would only hammer the hub: bad token, forbidden, wrong version, replaced. */
const TERMINAL_CODES: ReadonlySet<number> = new Set([
  ErrorCode.Unauthorized,
  ErrorCode.Forbidden,
  ErrorCode.VersionNotSupported,
  ErrorCode.Replaced,
]);

const TIMERS = ['welcomeTimer', 'pingTimer', 'ackTimer', 'closeGuardTimer'] as const;

/** Errors of the TCP connect itself, before TLS had a say. */
function isConnectError(err: NodeJS.ErrnoException): boolean {
  return ['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EADDRNOTAVAIL'].includes(err.code ?? '');
}

/** connecting: hello sent or about to be; ready: welcomed; closing: bye sent or cut, the close is coming. */
type State = 'connecting' | 'ready' | 'closing' | 'closed';

export class HubConnection {
  private state: State = 'connecting';
  private readonly socket: net.Socket;
  private readonly splitter = new LineSplitter(DEFAULT_MAX_LINE_BYTES);
  /** Over TLS, false until the verified handshake is done. */
  private handshakeDone: boolean;
  /** The socket asked us to wait for 'drain'. */
  private blocked = false;
  private welcomeTimer: NodeJS.Timeout | null = null;
  private pingTimer: NodeJS.Timeout | null = null;
  private ackTimer: NodeJS.Timeout | null = null;
  private closeGuardTimer: NodeJS.Timeout | null = null;

  constructor(
    private readonly o: HubConnectionOptions,
    /** The sensor's, shared by its connections; this one carries what it has not carried yet. */
    private readonly outbox: Outbox,
    private readonly events: ConnectionEvents,
  ) {
    const { host, port } = o;
    const secure = o.tls;
    // rejectUnauthorized is tls's default and stays so: a sensor never sends to a hub it cannot verify.
    this.socket = secure
      ? tls.connect({ host, port, ...(net.isIP(host) === 0 && { servername: host }), ...(secure.ca !== undefined && { ca: secure.ca }) })
      : net.createConnection({ host, port });
    outbox.newConnection();
    this.handshakeDone = !secure;
    const socket = this.socket;
    socket.setNoDelay(true);
    this.welcomeTimer = setTimeout(() => {
      this.events.problem(
        this.handshakeDone
          ? `no welcome within ${o.welcomeTimeoutMs} ms`
          : `no TLS handshake within ${o.welcomeTimeoutMs} ms (does the hub serve TLS on port ${port}?)`,
      );
      socket.destroy();
    }, o.welcomeTimeoutMs);
    // Over TLS, 'connect' is only TCP: hello waits for the verified handshake.
    socket.on(secure ? 'secureConnect' : 'connect', () => {
      this.handshakeDone = true;
      this.write(o.hello);
    });
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('drain', () => {
      this.blocked = false;
      this.flush();
    });
    socket.on('error', (err: NodeJS.ErrnoException) => {
      if (!this.handshakeDone && !isConnectError(err)) {
        this.events.problem(`TLS handshake with ${host}:${port} failed: ${err.message}`);
        this.events.tlsFailed(err.code, err.message);
      } else {
        this.events.problem(err.message);
      }
    });
    socket.on('close', (hadError) => {
      this.state = 'closed';
      this.blocked = false;
      this.clearTimers();
      this.events.closed(hadError);
    });
  }

  /** Welcomed, and neither saying bye nor cut. */
  get isReady(): boolean {
    return this.state === 'ready';
  }

  get writeBlocked(): boolean {
    return this.blocked;
  }

  /** Writes the messages this connection has not carried yet, in seq order, until the socket pushes back. */
  flush(ignoreBackpressure = false): void {
    if (this.state !== 'ready' && !ignoreBackpressure) return;
    while (ignoreBackpressure || !this.blocked) {
      // The ack clock starts when something goes out with nothing else awaiting an ack.
      if (!this.outbox.inFlight) this.ackTimer?.refresh();
      const message = this.outbox.takeNext();
      if (message === undefined) return;
      this.write(message);
    }
  }

  /** Stopping: everything produced goes out before bye, so the final ack can cover it; the hub then closes, or we do after stopTimeoutMs. */
  sayBye(): void {
    this.flush(true);
    this.write({ type: 'bye' });
    this.state = 'closing';
    // A guard already running after a 503 starts over: bye gets its full stopTimeoutMs.
    this.clearTimer('closeGuardTimer');
    this.closeSoon();
  }

  /** Cuts the connection now; `closed` follows. */
  destroy(): void {
    if (this.state !== 'closed') this.state = 'closing';
    this.clearTimers();
    this.socket.destroy();
  }

  private onData(chunk: Buffer): void {
    const result = this.splitter.push(chunk, (line) => {
      this.onLine(line);
      return !this.socket.destroyed;
    });
    if (result === 'too-long') {
      this.events.problem(`a line from the hub exceeded ${DEFAULT_MAX_LINE_BYTES} bytes`);
      this.socket.destroy();
    }
  }

  private onLine(line: string): void {
    const decoded = decodeHubLine(line);
    if (!decoded.ok) {
      // A hub we do not understand is its bug, not a reason to drop the connection and our data.
      this.events.problem(`unreadable line from hub (${decoded.error.message})`);
      return;
    }
    const m: HubMessage = decoded.message;
    switch (m.type) {
      case 'welcome':
        return this.onWelcome(m.time);
      case 'ack':
        this.ackTimer?.refresh();
        return this.outbox.ack(m.seq);
      case 'command':
        return this.onCommand(m.id, m.command);
      case 'pong':
        return;
      case 'error':
        return this.onHubError(m.code, m.message, m.seq);
    }
  }

  private onWelcome(hubTimeMs: number): void {
    if (this.state !== 'connecting') return;
    this.state = 'ready';
    this.clearTimer('welcomeTimer');
    this.pingTimer = setTimeout(() => this.pingIfIdle(), this.o.pingIdleMs);
    this.ackTimer = setTimeout(() => this.checkAcks(), this.o.ackTimeoutMs);
    this.events.welcomed(hubTimeMs);
    this.flush();
  }

  private onCommand(id: string, command: string): void {
    if (this.state !== 'ready') return;
    if (command === 'report-now') {
      this.events.reportNow(id);
      this.flush();
      return;
    }
    this.write({ type: 'error', code: ErrorCode.NotImplemented, message: `unknown command "${command.slice(0, 80)}"`, id });
  }

  private onHubError(code: number, message: string, seq: number | undefined): void {
    this.events.hubError(code, message);
    if (seq !== undefined) {
      // An error naming a seq settles that message: a 500 is worth another try, anything
      // else would fail the same way again. (503 is about the connection, not the message.)
      if (code === ErrorCode.Internal) this.outbox.retryLater(seq);
      else if (code !== ErrorCode.ShuttingDown) this.outbox.reject(seq);
      this.flush();
    }
    // Once we said bye, the close is coming anyway.
    if (this.state === 'closing' || this.state === 'closed') return;
    if (TERMINAL_CODES.has(code)) return this.events.refusedForGood(code);
    // The hub closes after 503; if it does not, we do, and come back with backoff either way.
    if (code === ErrorCode.ShuttingDown) this.closeSoon();
  }

  private checkAcks(): void {
    if (this.state !== 'ready' || !this.outbox.inFlight) return;
    this.events.problem(`no ack within ${this.o.ackTimeoutMs} ms`);
    this.socket.destroy();
  }

  private pingIfIdle(): void {
    if (this.state !== 'ready') return;
    // A blocked socket is not idle; the hub is just slow. Try again a period later.
    if (this.blocked) this.pingTimer?.refresh();
    else this.write({ type: 'ping' });
  }

  /** Every write goes through here: it notes backpressure and resets the idle-ping clock. */
  private write(message: SensorMessage): void {
    if (this.socket.destroyed) return;
    if (!this.socket.write(encodeLine(message))) this.blocked = true;
    this.pingTimer?.refresh();
  }

  /** The hub is expected to close: if it has not within stopTimeoutMs, we do. */
  private closeSoon(): void {
    this.closeGuardTimer ??= setTimeout(() => this.socket.destroy(), this.o.stopTimeoutMs);
  }

  private clearTimers(): void {
    for (const name of TIMERS) this.clearTimer(name);
  }

  private clearTimer(name: (typeof TIMERS)[number]): void {
    const timer = this[name];
    if (timer !== null) clearTimeout(timer);
    this[name] = null;
  }
}
