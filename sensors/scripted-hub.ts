/**
 * Test double: a TCP peer on 127.0.0.1 that plays the hub's side of the sensor protocol
 * line by line, as each test scripts it. Tests wait on what it receives (messages,
 * connections) instead of sleeping.
 */
import net from 'node:net';
import { LineSplitter } from '../protocol/line-splitter.ts';

export type WireObject = Record<string, unknown> & { type?: unknown };

const DEFAULT_WAIT_MS = 10_000;

/** A list that grows, and readers that wait for the next item matching a test. */
export class Feed<T> {
  readonly items: T[] = [];
  private cursor = 0;
  private waiters: (() => void)[] = [];

  add(item: T): void {
    this.items.push(item);
    for (const wake of this.waiters.splice(0)) wake();
  }

  /** The next item after the last one taken that matches; the items before it are passed over. */
  next(what: string, match: (item: T) => boolean = () => true, timeoutMs = DEFAULT_WAIT_MS): Promise<T> {
    return new Promise((resolve, reject) => {
      // Each waiter looks at each item once, so waiting through 100,000 messages stays linear.
      let scanned = this.cursor;
      const check = (): boolean => {
        for (let i = Math.max(scanned, this.cursor); i < this.items.length; i++) {
          const item = this.items[i]!;
          if (match(item)) {
            this.cursor = i + 1;
            clearTimeout(timer);
            resolve(item);
            return true;
          }
        }
        scanned = this.items.length;
        return false;
      };
      const wake = () => {
        if (!check()) this.waiters.push(wake);
      };
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== wake);
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}; seen: ${JSON.stringify(this.items.slice(-5))}`));
      }, timeoutMs);
      wake();
    });
  }
}

export class PeerConnection {
  readonly feed = new Feed<WireObject>();
  readonly closed: Promise<void>;
  /** Like a hub: on bye, ack the highest seq received and close. Tests of bye itself turn this off. */
  answerBye = true;
  /** Answers hello with welcome by itself. */
  autoWelcome = false;
  /** Acks every message with a seq as soon as it arrives. */
  autoAck = false;
  private readonly splitter = new LineSplitter(1 << 20);
  private highestSeq: number | null = null;

  constructor(readonly socket: net.Socket) {
    socket.on('error', () => {});
    socket.on('data', (chunk: Buffer) => {
      this.splitter.push(chunk, (line) => {
        const message = JSON.parse(line) as WireObject;
        if (typeof message.seq === 'number') this.highestSeq = Math.max(this.highestSeq ?? 0, message.seq);
        this.feed.add(message);
        if (message.type === 'hello' && this.autoWelcome) this.send({ type: 'welcome', v: 1, sensor: message.sensor, time: Date.now() });
        if (typeof message.seq === 'number' && this.autoAck) this.send({ type: 'ack', seq: message.seq });
        if (message.type === 'bye' && this.answerBye) {
          if (this.highestSeq !== null) this.send({ type: 'ack', seq: this.highestSeq });
          socket.end();
        }
      });
    });
    this.closed = new Promise((resolve) => socket.once('close', () => resolve()));
  }

  get messages(): WireObject[] {
    return this.feed.items;
  }

  /** The next message of this type (or any type) not yet taken. */
  next(type?: string, match: (m: WireObject) => boolean = () => true, timeoutMs?: number): Promise<WireObject> {
    return this.feed.next(type ?? 'any message', (m) => (type === undefined || m.type === type) && match(m), timeoutMs);
  }

  send(message: WireObject): void {
    this.socket.write(JSON.stringify(message) + '\n');
  }

  /** Waits for hello and answers welcome, as a hub does. */
  async welcome(): Promise<WireObject> {
    const hello = await this.next('hello');
    this.send({ type: 'welcome', v: 1, sensor: hello.sensor, time: Date.now() });
    return hello;
  }
}

export class ScriptedHub {
  readonly connections = new Feed<PeerConnection>();
  /** performance.now() of each accepted connection, for timing reconnects. */
  readonly acceptTimesMs: number[] = [];
  private readonly server: net.Server;

  private constructor(onConnection?: (peer: PeerConnection) => void) {
    this.server = net.createServer((socket) => {
      this.acceptTimesMs.push(performance.now());
      const peer = new PeerConnection(socket);
      this.connections.add(peer);
      onConnection?.(peer);
    });
  }

  /** Listens on 127.0.0.1 port 0. `onConnection` runs for every accepted connection before tests see it. */
  static async start(onConnection?: (peer: PeerConnection) => void): Promise<ScriptedHub> {
    const hub = new ScriptedHub(onConnection);
    await new Promise<void>((resolve, reject) => {
      hub.server.once('error', reject);
      hub.server.listen(0, '127.0.0.1', () => resolve());
    });
    return hub;
  }

  get port(): number {
    return (this.server.address() as net.AddressInfo).port;
  }

  nextConnection(timeoutMs?: number): Promise<PeerConnection> {
    return this.connections.next('a connection', undefined, timeoutMs);
  }

  async close(): Promise<void> {
    for (const peer of this.connections.items) peer.socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
