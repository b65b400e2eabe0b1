/**
 * A stand-in for the hub's user API in tests: a real HTTP server on 127.0.0.1, port 0, that
 * answers `latest` and `sensors` with the JSON shapes of PROTOCOL.md §2 (filters applied as
 * the contract says) and records every request. It can also refuse, or never answer.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { LatestBody, SensorsBody } from '../api-types.ts';

export interface FakeHubOptions {
  latest?: LatestBody;
  sensors?: SensorsBody;
  /** Answer every API request with this status and body instead. */
  refuse?: { status: number; body: string; contentType?: string };
  /** Accept requests and never answer them, to test timeouts. */
  hang?: boolean;
}

export interface RecordedRequest {
  method: string;
  /** Path and query as sent. */
  url: string;
  headers: Record<string, string | string[] | undefined>;
}

export interface FakeHub {
  /** Base URL, e.g. `http://127.0.0.1:41234`. */
  readonly url: string;
  readonly port: number;
  readonly requests: RecordedRequest[];
  close(): Promise<void>;
}

function filterList(params: URLSearchParams, name: string): string[] {
  const value = params.get(name);
  return value === null || value === '' ? [] : value.split(',');
}

export async function startFakeHub(options: FakeHubOptions = {}): Promise<FakeHub> {
  const requests: RecordedRequest[] = [];
  const server = createServer((req, res) => {
    requests.push({ method: req.method ?? '', url: req.url ?? '', headers: req.headers });
    if (options.hang) return;
    const send = (status: number, body: string, contentType = 'application/json; charset=utf-8'): void => {
      res.writeHead(status, { 'content-type': contentType, 'content-length': Buffer.byteLength(body) });
      res.end(body);
    };
    if (options.refuse) return send(options.refuse.status, options.refuse.body, options.refuse.contentType);
    const url = new URL(req.url ?? '/', 'http://fake');
    if (req.method === 'GET' && url.pathname === '/api/v1/latest') {
      const sensor = filterList(url.searchParams, 'sensor');
      const room = filterList(url.searchParams, 'room');
      const metric = filterList(url.searchParams, 'metric');
      const readings = (options.latest?.readings ?? []).filter(
        (r) =>
          (sensor.length === 0 || sensor.includes(r.sensor)) &&
          (room.length === 0 || room.includes(r.room)) &&
          (metric.length === 0 || metric.includes(r.metric)),
      );
      return send(200, JSON.stringify({ readings }));
    }
    if (req.method === 'GET' && url.pathname === '/api/v1/sensors') {
      return send(200, JSON.stringify(options.sensors ?? { sensors: [] }));
    }
    send(404, JSON.stringify({ error: { code: 'not_found', message: `no route ${req.method} ${url.pathname}` } }));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        // Hanging requests and idle keep-alive sockets would hold close() open forever.
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A port nothing listens on: one the OS just handed out and that was closed again. */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
