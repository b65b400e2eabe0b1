/**
 * A WebSocket client of `GET /api/v1/stream` (PROTOCOL.md §2 "Live stream") for black-box
 * tests: it queues every message the hub sends, so a test waits for "the next reading" or
 * "subscribed" without fixed sleeps, and it can stall its own socket (pause) to play a slow
 * subscriber. Registered with the teardown, which terminates it.
 */
import type net from 'node:net';
import WebSocket from 'ws';
import { perTest, type Teardown } from './teardown.ts';
import { wsText } from './ws-text.ts';
import type { Reading } from '../../protocol/api.ts';

export interface StreamMessage {
  type: string;
  [field: string]: unknown;
}

export type StreamReading = { type: 'reading' } & Reading;

export type StreamMatch = ((m: StreamMessage) => boolean) | Partial<StreamMessage>;

export interface StreamClient {
  readonly ws: WebSocket;
  /** every message so far, in arrival order, including those `next` took */
  readonly received: readonly StreamMessage[];
  /** the close code once closed, else null */
  readonly closeCode: number | null;
  send(message: object | string): void;
  next(match?: StreamMatch, timeoutMs?: number): Promise<StreamMessage>;
  /** `n` reading messages from the queue or as they come, in order. */
  readings(n: number, timeoutMs?: number): Promise<StreamReading[]>;
  /** Sends subscribe; resolves with `subscribed` or the error the hub sent instead. */
  subscribeReply(fields?: Record<string, unknown>, timeoutMs?: number): Promise<StreamMessage>;
  /** Sends subscribe and waits for `subscribed`. */
  subscribe(fields?: Record<string, unknown>, timeoutMs?: number): Promise<{ replayed: number }>;
  /** Stops reading the underlying TCP socket (a slow client), and starts again. */
  pause(): void;
  resume(): void;
  /** Resolves with the close code once closed. */
  closed(timeoutMs?: number): Promise<number>;
  close(): Promise<void>;
}

const WAIT_MS = 10_000;

function matches(m: StreamMessage, match: StreamMatch | undefined): boolean {
  if (match === undefined) return true;
  if (typeof match === 'function') return match(m);
  return Object.entries(match).every(([k, v]) => m[k] === v);
}

function summary(received: readonly StreamMessage[]): string {
  if (received.length === 0) return 'nothing';
  const text = received
    .slice(-20)
    .map((m) => JSON.stringify(m))
    .join('\n    ');
  return `${received.length} message(s), the last ${Math.min(20, received.length)}:\n    ${text}`;
}

/**
 * Opens the stream on 127.0.0.1; with `options.ca`, as wss: to a hub that serves TLS, trusting
 * that CA; with `options.token`, the upgrade carries `Authorization: Bearer <token>`; with
 * `options.headers`, those too (a browser's Cookie and Origin); `options.path` opens another
 * WebSocket route of the API. Rejects if the upgrade is refused (tryUpgrade in auth-stream.ts
 * shows how).
 */
export function openStream(
  httpPort: number,
  scope: Teardown = perTest,
  options: { ca?: Buffer; token?: string; headers?: Record<string, string>; path?: string } = {},
): Promise<StreamClient> {
  return new Promise((resolve, reject) => {
    const headers = { ...(options.token === undefined ? {} : { authorization: `Bearer ${options.token}` }), ...options.headers };
    const path = options.path ?? '/api/v1/stream';
    const ws = options.ca
      ? new WebSocket(`wss://127.0.0.1:${httpPort}${path}`, { ca: options.ca, headers })
      : new WebSocket(`ws://127.0.0.1:${httpPort}${path}`, { headers });
    const received: StreamMessage[] = [];
    const queue: StreamMessage[] = [];
    const waiters: { match: StreamMatch | undefined; resolve: (m: StreamMessage) => void; reject: (e: Error) => void }[] = [];
    const closeWaiters: ((code: number) => void)[] = [];
    let closeCode: number | null = null;

    scope.add(`websocket to port ${httpPort}`, () => {
      if (closeCode === null) ws.terminate();
    });
    ws.on('error', () => {
      // a close follows; tests look at the close code
    });
    ws.on('message', (data) => {
      const text = wsText(data);
      let m: StreamMessage;
      try {
        m = JSON.parse(text) as StreamMessage;
      } catch {
        m = { type: '<not JSON>', text: text.slice(0, 200) };
      }
      received.push(m);
      const i = waiters.findIndex((w) => matches(m, w.match));
      if (i >= 0) waiters.splice(i, 1)[0]?.resolve(m);
      else queue.push(m);
    });
    ws.on('close', (code) => {
      closeCode = code;
      for (const w of waiters.splice(0)) w.reject(new Error(`the stream closed with code ${code}; it had sent ${summary(received)}`));
      for (const w of closeWaiters.splice(0)) w(code);
    });

    const client: StreamClient = {
      ws,
      received,
      get closeCode() {
        return closeCode;
      },
      send(message) {
        ws.send(typeof message === 'string' ? message : JSON.stringify(message));
      },
      next(match, timeoutMs = WAIT_MS) {
        const i = queue.findIndex((m) => matches(m, match));
        if (i >= 0) return Promise.resolve(queue.splice(i, 1)[0] as StreamMessage);
        if (closeCode !== null) return Promise.reject(new Error(`the stream is closed (${closeCode}); it had sent ${summary(received)}`));
        return new Promise((res, rej) => {
          const waiter = {
            match,
            resolve: (m: StreamMessage) => {
              clearTimeout(timer);
              res(m);
            },
            reject: (e: Error) => {
              clearTimeout(timer);
              rej(e);
            },
          };
          const timer = setTimeout(() => {
            const k = waiters.indexOf(waiter);
            if (k >= 0) waiters.splice(k, 1);
            rej(
              new Error(
                `no ${typeof match === 'object' ? JSON.stringify(match) : 'matching message'} within ${timeoutMs} ms; the stream had sent ${summary(received)}`,
              ),
            );
          }, timeoutMs);
          waiters.push(waiter);
        });
      },
      async readings(n, timeoutMs = WAIT_MS) {
        const out: StreamReading[] = [];
        const deadline = Date.now() + timeoutMs;
        while (out.length < n) {
          out.push((await client.next({ type: 'reading' }, Math.max(1, deadline - Date.now()))) as unknown as StreamReading);
        }
        return out;
      },
      subscribeReply(fields = {}, timeoutMs = WAIT_MS) {
        client.send({ type: 'subscribe', ...fields });
        return client.next((x) => x.type === 'subscribed' || x.type === 'error', timeoutMs);
      },
      async subscribe(fields = {}, timeoutMs = WAIT_MS) {
        const m = await client.subscribeReply(fields, timeoutMs);
        if (m.type !== 'subscribed') throw new Error(`subscribe ${JSON.stringify(fields)} was refused: ${JSON.stringify(m)}`);
        return { replayed: m.replayed as number };
      },
      pause() {
        (ws as unknown as { _socket: net.Socket })._socket.pause();
      },
      resume() {
        (ws as unknown as { _socket: net.Socket })._socket.resume();
      },
      closed(timeoutMs = WAIT_MS) {
        if (closeCode !== null) return Promise.resolve(closeCode);
        return new Promise((res, rej) => {
          const onClose = (code: number): void => {
            clearTimeout(timer);
            res(code);
          };
          const timer = setTimeout(() => {
            const k = closeWaiters.indexOf(onClose);
            if (k >= 0) closeWaiters.splice(k, 1);
            rej(new Error(`the stream was still open after ${timeoutMs} ms`));
          }, timeoutMs);
          closeWaiters.push(onClose);
        });
      },
      async close() {
        if (closeCode !== null) return;
        ws.close();
        try {
          await client.closed(2_000);
        } catch {
          ws.terminate();
        }
      },
    };

    ws.once('open', () => resolve(client));
    ws.once('close', (code) => reject(new Error(`could not open the stream on port ${httpPort} (close ${code})`)));
  });
}
