/**
 * The live stream (`GET /api/v1/stream`) with credentials: a WebSocket client whose upgrade
 * request carries `Authorization: Bearer <token>`, and the answer to an upgrade the hub refuses
 * (docs/ADMIN.md "What a refused request gets": 401/403 before the WebSocket opens).
 */
import type http from 'node:http';
import WebSocket from 'ws';
import type { RawResponse } from './api-client.ts';
import { openStream, type StreamClient } from './stream-client.ts';
import { perTest, type Teardown } from './teardown.ts';

const WAIT_MS = 10_000;

/**
 * Tries the upgrade with these headers. Resolves with status 101 (and closes the socket at
 * once) if the hub accepted it, else with the hub's HTTP answer as it came.
 */
export function tryUpgrade(
  httpPort: number,
  headers: Record<string, string> = {},
  timeoutMs = WAIT_MS,
  path = '/api/v1/stream',
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${httpPort}${path}`, { headers });
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

export type AuthedStream = StreamClient;

/** Opens the stream with `Authorization: Bearer <token>` (no header without a token); rejects if the upgrade is refused. */
export function openStreamAs(httpPort: number, token?: string, scope: Teardown = perTest): Promise<AuthedStream> {
  return openStream(httpPort, scope, token === undefined ? {} : { token });
}
