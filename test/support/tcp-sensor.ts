/**
 * A raw TCP sensor for black-box tests of the sensor protocol (PROTOCOL.md §1). It sends
 * exactly what a test asks for, byte for byte, and queues every line the hub sends back, so a
 * test can wait for "the next ack" or "an error 422" without fixed sleeps.
 *
 *   const s = await connect(tcpPort);
 *   await s.hello('rack1-temp', 'server-room');
 *   s.send({ type: 'reading', metric: 'temperature', value: 21.5, seq: 1 });
 *   await s.next({ type: 'ack', seq: 1 });
 */
import net from 'node:net';
import tls from 'node:tls';
import { LineSplitter } from '../../protocol/line-splitter.ts';
import { perTest, type Teardown } from './teardown.ts';

/** A message from the hub, as parsed; fields are only what the hub sent. */
export interface HubReply {
  type: string;
  code?: number;
  message?: string;
  seq?: number;
  index?: number;
  id?: string | number;
  sensor?: string;
  time?: number;
  v?: number;
  command?: string;
  [field: string]: unknown;
}

/** Either a predicate or the fields a message must have (compared with ===). */
export type Match = ((m: HubReply) => boolean) | Partial<HubReply>;

export const DEFAULT_WAIT_MS = 5_000;

export interface TcpSensor {
  readonly socket: net.Socket;
  /** Every message from the hub so far, in arrival order, including those `next` took. */
  readonly received: readonly HubReply[];
  /** True once the socket has closed (either side). */
  readonly isClosed: boolean;
  /** Sends one message as JSON and `\n`. Resolves when the bytes are handed to the kernel. */
  send(message: object): Promise<void>;
  /** Sends bytes as they are: no framing added. */
  sendRaw(data: string | Buffer): Promise<void>;
  /** Sends a string one byte per write, waiting for each write, so the hub sees many chunks. */
  sendByteByByte(data: string): Promise<void>;
  /**
   * The first queued or future hub message that matches; it is taken off the queue. Messages
   * that do not match stay queued for later calls. Rejects on timeout, or when the socket
   * closes first, with a list of what did arrive.
   */
  next(match?: Match, timeoutMs?: number): Promise<HubReply>;
  /** Waits for an ack that covers `seq` (an ack with seq >= it). */
  ackCovering(seq: number, timeoutMs?: number): Promise<HubReply>;
  /** Resolves when the socket has closed; rejects if it is still open after the timeout. */
  closed(timeoutMs?: number): Promise<void>;
  /** Sends `hello` (v 1) and waits for `welcome`; throws on an error reply. */
  hello(sensor: string, room?: string, extra?: Record<string, unknown>): Promise<HubReply>;
  /**
   * A round trip: sends a ping with a fresh id and waits for its pong. The hub handles lines in
   * order, so after this every earlier line has been read and answered or queued for storage.
   */
  sync(timeoutMs?: number): Promise<HubReply>;
  /** Ends the connection from our side and waits for the close (destroying it if slow). */
  close(): Promise<void>;
}

let pingCounter = 0;

export function describeMatch(match: Match | undefined): string {
  if (match === undefined) return 'any message';
  if (typeof match === 'function') return match.name ? `a message passing ${match.name}` : 'a message passing the predicate';
  return JSON.stringify(match);
}

function matches(m: HubReply, match: Match | undefined): boolean {
  if (match === undefined) return true;
  if (typeof match === 'function') return match(m);
  return Object.entries(match).every(([k, v]) => m[k] === v);
}

function summary(received: readonly HubReply[]): string {
  const text = received.map((m) => JSON.stringify(m)).join('\n    ');
  const clipped = text.length > 3_000 ? text.slice(0, 1_500) + '\n    ...\n    ' + text.slice(-1_400) : text;
  return received.length === 0 ? 'nothing' : `${received.length} message(s):\n    ${clipped}`;
}

/**
 * Opens a TCP connection to the hub, or a TLS one with `options.tls` (resolving once the hub's
 * certificate is verified). Registered with `scope` so the test's teardown destroys it.
 */
export function connect(
  port: number,
  host = '127.0.0.1',
  scope: Teardown = perTest,
  options: { tls?: tls.ConnectionOptions } = {},
): Promise<TcpSensor> {
  return new Promise((resolve, reject) => {
    const socket: net.Socket = options.tls ? tls.connect({ port, host, ...options.tls }) : net.connect({ port, host });
    socket.setNoDelay(true);
    const received: HubReply[] = [];
    const queue: HubReply[] = [];
    const waiters: { match: Match | undefined; resolve: (m: HubReply) => void; reject: (e: Error) => void }[] = [];
    const closeWaiters: (() => void)[] = [];
    const junk: string[] = [];
    let isClosed = false;
    let lastError: Error | undefined;
    // Hub messages are small; a long line from the hub is itself a finding.
    const splitter = new LineSplitter(1 << 20);

    scope.add(`socket to port ${port}`, () => {
      if (!isClosed) socket.destroy();
    });

    socket.on('error', (err) => {
      // ECONNRESET or EPIPE when the hub closes first are expected in several tests.
      lastError = err;
    });
    socket.on('data', (chunk: Buffer) => {
      const result = splitter.push(chunk, (line) => {
        let parsed: unknown;
        try {
          parsed = JSON.parse(line);
        } catch {
          junk.push(line);
          return;
        }
        if (typeof parsed !== 'object' || parsed === null || typeof (parsed as HubReply).type !== 'string') {
          junk.push(line);
          return;
        }
        deliver(parsed as HubReply);
      });
      if (result === 'too-long') junk.push('<a line over 1 MiB>');
    });
    socket.on('close', () => {
      isClosed = true;
      for (const w of waiters.splice(0))
        w.reject(new Error(`the hub closed the connection; it had sent ${summary(received)}${junkNote()}`));
      for (const w of closeWaiters.splice(0)) w();
    });

    function junkNote(): string {
      return junk.length ? `\n  and ${junk.length} line(s) that are not hub messages: ${junk.slice(0, 3).join(' | ')}` : '';
    }

    function deliver(m: HubReply): void {
      received.push(m);
      const i = waiters.findIndex((w) => matches(m, w.match));
      if (i >= 0) {
        const [w] = waiters.splice(i, 1);
        w?.resolve(m);
      } else {
        queue.push(m);
      }
    }

    function write(data: string | Buffer): Promise<void> {
      return new Promise((done) => {
        if (isClosed || socket.destroyed) return done();
        // Never rejects: writing to a connection the hub just closed is part of several tests.
        socket.write(data, () => done());
      });
    }

    const sensor: TcpSensor = {
      socket,
      received,
      get isClosed() {
        return isClosed;
      },
      send(message) {
        return write(JSON.stringify(message) + '\n');
      },
      sendRaw(data) {
        return write(data);
      },
      async sendByteByByte(data) {
        for (const byte of Buffer.from(data)) await write(Buffer.from([byte]));
      },
      next(match, timeoutMs = DEFAULT_WAIT_MS) {
        const i = queue.findIndex((m) => matches(m, match));
        if (i >= 0) return Promise.resolve(queue.splice(i, 1)[0] as HubReply);
        if (isClosed) {
          return Promise.reject(
            new Error(
              `waiting for ${describeMatch(match)}, but the connection is closed; the hub had sent ${summary(received)}${junkNote()}`,
            ),
          );
        }
        return new Promise((res, rej) => {
          const waiter = {
            match,
            resolve: (m: HubReply) => {
              clearTimeout(timer);
              res(m);
            },
            reject: (e: Error) => {
              clearTimeout(timer);
              rej(new Error(`waiting for ${describeMatch(match)}: ${e.message}`));
            },
          };
          const timer = setTimeout(() => {
            const k = waiters.indexOf(waiter);
            if (k >= 0) waiters.splice(k, 1);
            rej(new Error(`no ${describeMatch(match)} within ${timeoutMs} ms; the hub had sent ${summary(received)}${junkNote()}`));
          }, timeoutMs);
          waiters.push(waiter);
        });
      },
      ackCovering(seq, timeoutMs = DEFAULT_WAIT_MS) {
        const covers = (m: HubReply): boolean => m.type === 'ack' && typeof m.seq === 'number' && m.seq >= seq;
        Object.defineProperty(covers, 'name', { value: `ack seq >= ${seq}` });
        return sensor.next(covers, timeoutMs);
      },
      closed(timeoutMs = DEFAULT_WAIT_MS) {
        if (isClosed) return Promise.resolve();
        return new Promise((res, rej) => {
          const onClose = (): void => {
            clearTimeout(timer);
            res();
          };
          const timer = setTimeout(() => {
            const k = closeWaiters.indexOf(onClose);
            if (k >= 0) closeWaiters.splice(k, 1);
            rej(new Error(`the connection was still open after ${timeoutMs} ms; the hub had sent ${summary(received)}${junkNote()}`));
          }, timeoutMs);
          closeWaiters.push(onClose);
        });
      },
      async hello(id, room, extra = {}) {
        await sensor.send({ type: 'hello', v: 1, sensor: id, ...(room !== undefined ? { room } : {}), ...extra });
        const reply = await sensor.next((m) => m.type === 'welcome' || m.type === 'error');
        if (reply.type !== 'welcome') throw new Error(`hello as "${id}" was refused: ${JSON.stringify(reply)}`);
        return reply;
      },
      async sync(timeoutMs = DEFAULT_WAIT_MS) {
        const id = `sync-${++pingCounter}`;
        await sensor.send({ type: 'ping', id });
        return sensor.next({ type: 'pong', id }, timeoutMs);
      },
      async close() {
        if (isClosed) return;
        socket.end();
        try {
          await sensor.closed(2_000);
        } catch {
          socket.destroy();
        }
      },
    };

    socket.once(options.tls ? 'secureConnect' : 'connect', () => resolve(sensor));
    socket.once('close', () => reject(lastError ?? new Error(`could not connect to ${host}:${port}`)));
  });
}
