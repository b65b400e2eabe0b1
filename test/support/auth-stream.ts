/**
 * The live stream (`GET /api/v1/stream`) with credentials: a WebSocket client whose upgrade
 * request carries `Authorization: Bearer <token>`, and the answer to an upgrade the hub refuses
 * (docs/ADMIN.md "What a refused request gets": 401/403 before the WebSocket opens).
 */
import type http from 'node:http';
import WebSocket from 'ws';
import type { RawResponse } from './api-client.ts';
import type { StreamMessage, StreamMatch, StreamReading } from './stream-client.ts';
import { perTest, type Teardown } from './teardown.ts';

const WAIT_MS = 10_000;

function matches(m: StreamMessage, match: StreamMatch | undefined): boolean {
  if (match === undefined) return true;
  if (typeof match === 'function') return match(m);
  return Object.entries(match).every(([k, v]) => m[k] === v);
}

function summary(received: readonly StreamMessage[]): string {
  if (received.length === 0) return 'nothing';
  return `${received.length} message(s), the last ones:\n    ${received
    .slice(-20)
    .map((m) => JSON.stringify(m))
    .join('\n    ')}`;
}

/**
 * Tries the upgrade with these headers. Resolves with status 101 (and closes the socket at
 * once) if the hub accepted it, else with the hub's HTTP answer as it came.
 */
export function tryUpgrade(httpPort: number, headers: Record<string, string> = {}, timeoutMs = WAIT_MS): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${httpPort}/api/v1/stream`, { headers });
    const timer = setTimeout(() => {
      ws.terminate();
      reject(new Error(`the stream upgrade got no answer within ${timeoutMs} ms`));
    }, timeoutMs);
    ws.on('unexpected-response', (_req: http.ClientRequest, res: http.IncomingMessage) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        clearTimeout(timer);
        const body = Buffer.concat(chunks);
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body, text: body.toString('utf8') });
        ws.terminate();
      });
      res.on('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
    });
    ws.on('open', () => {
      clearTimeout(timer);
      resolve({ status: 101, headers: {}, body: Buffer.alloc(0), text: '' });
      ws.terminate();
    });
    ws.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
  });
}

export interface AuthedStream {
  readonly received: readonly StreamMessage[];
  readonly closeCode: number | null;
  send(message: object): void;
  next(match?: StreamMatch, timeoutMs?: number): Promise<StreamMessage>;
  readings(n: number, timeoutMs?: number): Promise<StreamReading[]>;
  /** Sends subscribe; resolves with `subscribed` or the error the hub sent instead. */
  subscribeReply(fields?: Record<string, unknown>, timeoutMs?: number): Promise<StreamMessage>;
  /** Sends subscribe and waits for `subscribed`; throws on an error. */
  subscribe(fields?: Record<string, unknown>, timeoutMs?: number): Promise<{ replayed: number }>;
  closed(timeoutMs?: number): Promise<number>;
}

/** Opens the stream with `Authorization: Bearer <token>` (no header without a token); rejects if the upgrade is refused. */
export function openStreamAs(httpPort: number, token?: string, scope: Teardown = perTest): Promise<AuthedStream> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(
      `ws://127.0.0.1:${httpPort}/api/v1/stream`,
      token === undefined ? {} : { headers: { authorization: `Bearer ${token}` } },
    );
    const received: StreamMessage[] = [];
    const queue: StreamMessage[] = [];
    const waiters: { match: StreamMatch | undefined; resolve: (m: StreamMessage) => void; reject: (e: Error) => void }[] = [];
    const closeWaiters: ((code: number) => void)[] = [];
    let closeCode: number | null = null;
    scope.add(`authed websocket to port ${httpPort}`, () => {
      if (closeCode === null) ws.terminate();
    });
    ws.on('unexpected-response', (_req: http.ClientRequest, res: http.IncomingMessage) => {
      reject(new Error(`the stream upgrade was refused with ${res.statusCode}`));
      ws.terminate();
    });
    ws.on('error', () => {
      // a close follows
    });
    ws.on('message', (data) => {
      let m: StreamMessage;
      try {
        m = JSON.parse(String(data)) as StreamMessage;
      } catch {
        m = { type: '<not JSON>', text: String(data).slice(0, 200) };
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

    const client: AuthedStream = {
      received,
      get closeCode() {
        return closeCode;
      },
      send(message) {
        ws.send(JSON.stringify(message));
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
        while (out.length < n)
          out.push((await client.next({ type: 'reading' }, Math.max(1, deadline - Date.now()))) as unknown as StreamReading);
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
            rej(new Error(`the stream was still open after ${timeoutMs} ms; it had sent ${summary(received)}`));
          }, timeoutMs);
          closeWaiters.push(onClose);
        });
      },
    };
    ws.once('open', () => resolve(client));
    ws.once('close', (code) => reject(new Error(`could not open the stream on port ${httpPort} (close ${code})`)));
  });
}
