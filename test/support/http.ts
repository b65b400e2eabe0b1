/**
 * Minimal HTTP client for the user API (PROTOCOL.md §2), used by the sensor-protocol tests to
 * look at what the hub stored. No keep-alive, so no pooled socket outlives a test's hub.
 */
import http from 'node:http';
import type { Reading } from '../../protocol/api.ts';

export interface JsonResponse<T = unknown> {
  status: number;
  body: T;
}

export function requestJson<T = unknown>(
  port: number,
  method: string,
  path: string,
  body?: unknown,
  timeoutMs = 10_000,
): Promise<JsonResponse<T>> {
  return new Promise((resolve, reject) => {
    const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        method,
        path,
        agent: false,
        headers: payload ? { 'content-type': 'application/json', 'content-length': payload.length } : {},
        timeout: timeoutMs,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          try {
            resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as T });
          } catch {
            reject(new Error(`${method} ${path}: ${res.statusCode} with a body that is not JSON: ${text.slice(0, 300)}`));
          }
        });
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`${method} ${path}: no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    req.end(payload);
  });
}

export function getJson<T = unknown>(port: number, path: string): Promise<JsonResponse<T>> {
  return requestJson<T>(port, 'GET', path);
}

/** A reading as `latest` answers it: the contract's shape, shared with hub and CLI. */
export type LatestReading = Reading;

/** `GET /api/v1/latest` with the given filters; fails unless the answer is 200. */
export async function latest(port: number, filters: { sensor?: string; room?: string; metric?: string } = {}): Promise<LatestReading[]> {
  const query = new URLSearchParams(Object.entries(filters).filter((e): e is [string, string] => e[1] !== undefined)).toString();
  const res = await getJson<{ readings: LatestReading[] }>(port, `/api/v1/latest${query ? '?' + query : ''}`);
  if (res.status !== 200) throw new Error(`GET /api/v1/latest?${query}: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.readings;
}

export interface SensorInfo {
  sensor: string;
  room: string;
  connected: boolean;
  last_seen: unknown;
  metrics: string[];
}

/** `GET /api/v1/sensors`; fails unless the answer is 200. */
export async function sensors(port: number): Promise<SensorInfo[]> {
  const res = await getJson<{ sensors: SensorInfo[] }>(port, '/api/v1/sensors');
  if (res.status !== 200) throw new Error(`GET /api/v1/sensors: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.sensors;
}
