/**
 * A stand-in for the hub's user API in tests: a real HTTP server on 127.0.0.1, port 0, that
 * answers as PROTOCOL.md §2 says and records every request, body included. It serves `latest`
 * and `sensors` (filters applied), streams `history.csv` in chunks, takes uploads and
 * report-now, and speaks the WebSocket stream (with `ws`, on the same server) from a script:
 * a replay, live readings, a dropped notice, a close. It can also refuse, or never answer.
 * The access-control routes (login, users, tokens, activity, ...) are in fake-access.ts; with
 * `access.requireLogin` every route, the stream included, asks for a bearer token.
 */
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { WebSocketServer } from 'ws';
import type { WebSocket } from 'ws';
import type { LatestBody, Reading, SensorsBody } from '../api-types.ts';
import { wsText } from '../../test/support/ws-text.ts';
import { FakeAccess } from './fake-access.ts';
import type { FakeAccessOptions, FakeReply } from './fake-access.ts';

/** One step of the live part of a stream, after the replay. */
export type StreamStep = { reading: Reading } | { dropped: number } | { close: number; reason?: string } | { send: unknown };

export interface FakeHubOptions {
  latest?: LatestBody;
  sensors?: SensorsBody;
  /** Answer every API request (WebSocket upgrades included) with this status and body instead. */
  refuse?: { status: number; body: string; contentType?: string; headers?: Record<string, string> };
  /** Accept requests and never answer them, to test timeouts. */
  hang?: boolean;
  /** `GET /api/v1/history.csv`: the CSV in these chunks, each written on its own; `breakAfter` cuts the connection after that many. */
  history?: { chunks: readonly (string | Buffer)[]; breakAfter?: number };
  /**
   * `POST /api/v1/readings`: the answer, after the whole body is read (default 200 with no rows
   * accepted). `early` answers as soon as the request arrives, while the body is still coming,
   * as a hub does with a 413 for a declared size over its limit.
   */
  upload?: { status: number; body: unknown; early?: boolean };
  /** `POST /api/v1/report-now`: the answer. */
  reportNow?: { status?: number; body: unknown };
  /** `GET /api/v1/stream`: stored readings (oldest first; the newest `replay` are replayed), then the live steps. */
  stream?: { stored?: readonly Reading[]; live?: readonly StreamStep[] };
  /** Logins, users, sensor tokens, the activity log, and whether a token is required. */
  access?: FakeAccessOptions;
}

export interface RecordedRequest {
  method: string;
  /** Path and query as sent. */
  url: string;
  headers: Record<string, string | string[] | undefined>;
  /** The Authorization header as received, for asserting which token was sent. */
  authorization: string | undefined;
  /** The request body so far; complete once the hub has answered (except for an early answer). */
  body: Buffer;
}

export interface StreamClose {
  code: number;
  reason: string;
}

export interface FakeHub {
  /** Base URL, e.g. `http://127.0.0.1:41234`. */
  readonly url: string;
  readonly port: number;
  readonly requests: RecordedRequest[];
  /** Sessions, users, tokens and activity, as the requests left them; `access.addActivity` logs more. */
  readonly access: FakeAccess;
  /** Every message received on a stream WebSocket, parsed. */
  readonly streamMessages: unknown[];
  /** How stream WebSockets were closed, as seen by the hub. */
  readonly streamCloses: StreamClose[];
  /** The next (or an already recorded, not yet taken) stream close; rejects after `timeoutMs`. */
  nextStreamClose(timeoutMs?: number): Promise<StreamClose>;
  close(): Promise<void>;
}

function filterList(params: URLSearchParams, name: string): string[] {
  const value = params.get(name);
  return value === null || value === '' ? [] : value.split(',');
}

export async function startFakeHub(options: FakeHubOptions = {}): Promise<FakeHub> {
  const requests: RecordedRequest[] = [];
  const streamMessages: unknown[] = [];
  const streamCloses: StreamClose[] = [];
  let closesTaken = 0;
  const closeWaiters: (() => void)[] = [];
  const access = new FakeAccess(options.access);

  function record(req: IncomingMessage): RecordedRequest {
    const recorded: RecordedRequest = {
      method: req.method ?? '',
      url: req.url ?? '',
      headers: req.headers,
      authorization: req.headers.authorization,
      body: Buffer.alloc(0),
    };
    requests.push(recorded);
    return recorded;
  }

  const server = createServer((req, res) => {
    const recorded = record(req);
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => {
      chunks.push(chunk);
      recorded.body = Buffer.concat(chunks);
    });
    if (options.hang) return;
    const url = new URL(req.url ?? '/', 'http://fake');
    if (options.upload?.early && req.method === 'POST' && url.pathname === '/api/v1/readings' && !options.refuse) {
      // Answer at once; the rest of the body is still read (and dropped), as Node's server does.
      return sendJson(res, options.upload.status, options.upload.body);
    }
    req.once('end', () => void answer(req, res, url, recorded.body));
  });

  async function answer(req: IncomingMessage, res: ServerResponse, url: URL, body: Buffer): Promise<void> {
    const route = `${req.method} ${url.pathname}`;
    if (options.refuse) return send(res, options.refuse.status, options.refuse.body, options.refuse.contentType, options.refuse.headers);
    const denied = access.refusal(url.pathname, req.headers.authorization);
    if (denied) return reply(res, denied);
    let parsed: unknown;
    try {
      parsed = body.length > 0 && /json/.test(req.headers['content-type'] ?? '') ? JSON.parse(body.toString('utf8')) : undefined;
    } catch {
      return sendJson(res, 400, { error: { code: 'bad_request', message: 'the body is not JSON' } });
    }
    const routed = access.route(req.method ?? '', url, req.headers.authorization, parsed);
    if (routed) return reply(res, routed);
    if (route === 'GET /api/v1/latest') {
      const sensor = filterList(url.searchParams, 'sensor');
      const room = filterList(url.searchParams, 'room');
      const metric = filterList(url.searchParams, 'metric');
      const readings = (options.latest?.readings ?? []).filter(
        (r) =>
          (sensor.length === 0 || sensor.includes(r.sensor)) &&
          (room.length === 0 || room.includes(r.room)) &&
          (metric.length === 0 || metric.includes(r.metric)),
      );
      return sendJson(res, 200, { readings });
    }
    if (route === 'GET /api/v1/sensors') return sendJson(res, 200, options.sensors ?? { sensors: [] });
    if (route === 'GET /api/v1/history.csv' && options.history) return streamHistory(res, options.history);
    if (route === 'POST /api/v1/readings') {
      const upload = options.upload ?? { status: 200, body: { accepted: 0, duplicates: 0 } };
      return sendJson(res, upload.status, upload.body);
    }
    if (route === 'POST /api/v1/report-now' && options.reportNow)
      return sendJson(res, options.reportNow.status ?? 200, options.reportNow.body);
    sendJson(res, 404, { error: { code: 'not_found', message: `no route ${route}` } });
  }

  const wss = new WebSocketServer({ noServer: true });
  /** Upgraded sockets are no longer the HTTP server's: closeAllConnections() does not see them. */
  const upgraded = new Set<Socket>();
  server.on('upgrade', (req: IncomingMessage, socket: Socket, head: Buffer) => {
    record(req);
    upgraded.add(socket);
    socket.once('close', () => upgraded.delete(socket));
    socket.on('error', () => undefined);
    const url = new URL(req.url ?? '/', 'http://fake');
    if (options.hang) return;
    if (options.refuse) return refuseUpgrade(socket, options.refuse.status, options.refuse.body);
    const denied = access.refusal(url.pathname, req.headers.authorization);
    if (denied) return refuseUpgrade(socket, denied.status, JSON.stringify(denied.body));
    if (url.pathname !== '/api/v1/stream' || !options.stream) {
      return refuseUpgrade(socket, 404, JSON.stringify({ error: { code: 'not_found', message: `no stream at ${url.pathname}` } }));
    }
    const script = options.stream;
    wss.handleUpgrade(req, socket, head, (ws) => serveStream(ws, script));
  });

  function serveStream(ws: WebSocket, script: NonNullable<FakeHubOptions['stream']>): void {
    ws.on('error', () => undefined);
    ws.on('close', (code, reason) => {
      streamCloses.push({ code, reason: reason.toString('utf8') });
      for (const wake of closeWaiters.splice(0)) wake();
    });
    ws.on('message', (data) => {
      const message = JSON.parse(wsText(data)) as { type?: unknown; replay?: unknown };
      streamMessages.push(message);
      if (message.type !== 'subscribe') return;
      const stored = script.stored ?? [];
      const wanted = typeof message.replay === 'number' ? Math.min(message.replay, 1000) : 10;
      const replayed = wanted === 0 ? [] : stored.slice(-wanted);
      ws.send(JSON.stringify({ type: 'subscribed', replayed: replayed.length }));
      for (const reading of replayed) ws.send(JSON.stringify({ type: 'reading', ...reading }));
      for (const step of script.live ?? []) {
        if ('reading' in step) ws.send(JSON.stringify({ type: 'reading', ...step.reading }));
        else if ('dropped' in step) ws.send(JSON.stringify({ type: 'dropped', count: step.dropped }));
        else if ('send' in step) ws.send(JSON.stringify(step.send));
        else ws.close(step.close, step.reason);
      }
    });
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    access,
    streamMessages,
    streamCloses,
    async nextStreamClose(timeoutMs = 30_000) {
      const deadline = setTimeout(() => {
        for (const wake of closeWaiters.splice(0)) wake();
      }, timeoutMs);
      try {
        while (streamCloses.length <= closesTaken) {
          if (!(await new Promise<boolean>((wake) => closeWaiters.push(() => wake(streamCloses.length > closesTaken))))) {
            throw new Error(`no stream close within ${timeoutMs} ms`);
          }
        }
      } finally {
        clearTimeout(deadline);
      }
      return streamCloses[closesTaken++] as StreamClose;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const client of wss.clients) client.terminate();
        wss.close();
        for (const socket of upgraded) socket.destroy();
        // Hanging requests and idle keep-alive sockets would hold close() open forever.
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

function send(
  res: ServerResponse,
  status: number,
  body: string,
  contentType = 'application/json; charset=utf-8',
  headers: Record<string, string> = {},
): void {
  res.writeHead(status, { ...headers, 'content-type': contentType, 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

function reply(res: ServerResponse, answer: FakeReply): void {
  send(res, answer.status, JSON.stringify(answer.body), undefined, answer.headers);
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  send(res, status, JSON.stringify(body));
}

/** The CSV chunk by chunk, each its own write, yielding to the event loop between them. */
async function streamHistory(res: ServerResponse, history: NonNullable<FakeHubOptions['history']>): Promise<void> {
  res.writeHead(200, { 'content-type': 'text/csv; charset=utf-8', 'content-disposition': 'attachment; filename="history.csv"' });
  let written = 0;
  for (const chunk of history.chunks) {
    if (history.breakAfter !== undefined && written >= history.breakAfter) {
      res.socket?.destroy();
      return;
    }
    if (!res.write(chunk)) await once(res, 'drain');
    written++;
    await new Promise((resolve) => setImmediate(resolve));
  }
  res.end();
}

function refuseUpgrade(socket: Socket, status: number, body: string): void {
  socket.end(
    `HTTP/1.1 ${status} Refused\r\ncontent-type: application/json; charset=utf-8\r\n` +
      `content-length: ${Buffer.byteLength(body)}\r\nconnection: close\r\n\r\n${body}`,
  );
}

/** A port nothing listens on: one the OS just handed out and that was closed again. */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
