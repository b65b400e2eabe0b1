/**
 * HTTP for the user-API tests (PROTOCOL.md §2): raw requests that keep the status, headers and
 * body bytes (the CSV routes are byte-exact), uploads from a string, a buffer or a file, and
 * polling for HTTP state with a deadline. No keep-alive, so no pooled socket outlives a hub.
 */
import { createReadStream } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import { parse } from 'csv-parse/sync';

export interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: Buffer;
  text: string;
}

export interface RequestOptions {
  method?: string;
  headers?: Record<string, string | number>;
  /** a string or buffer, or a file path sent as a stream (chunked, no content-length) */
  body?: string | Buffer | { file: string };
  timeoutMs?: number;
  /** the local address to send from (127.0.0.2 and up are local on Linux: another client's address) */
  localAddress?: string;
  /** over HTTPS, trusting this CA (a hub started with --tls-cert) */
  ca?: Buffer;
}

export function request(port: number, path: string, options: RequestOptions = {}): Promise<RawResponse> {
  const { method = 'GET', headers = {}, body, timeoutMs = 60_000, localAddress, ca } = options;
  return new Promise((resolve, reject) => {
    const payload = typeof body === 'string' ? Buffer.from(body) : Buffer.isBuffer(body) ? body : undefined;
    const req = (ca ? https : http).request(
      {
        ...(ca ? { ca } : {}),
        host: '127.0.0.1',
        port,
        method,
        path,
        agent: false,
        ...(localAddress ? { localAddress } : {}),
        headers: { ...(payload ? { 'content-length': payload.length } : {}), ...headers },
        timeout: timeoutMs,
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const all = Buffer.concat(chunks);
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body: all, text: all.toString('utf8') });
        });
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error(`${method} ${path}: no answer within ${timeoutMs} ms`)));
    req.on('error', reject);
    if (body !== undefined && !payload) {
      const file = createReadStream((body as { file: string }).file);
      file.on('error', (err) => req.destroy(err));
      file.pipe(req);
    } else {
      req.end(payload);
    }
  });
}

/** The body as JSON; throws with the text if it is not JSON. */
export function json<T = Record<string, unknown>>(res: RawResponse): T {
  try {
    return JSON.parse(res.text) as T;
  } catch {
    throw new Error(`status ${res.status} with a body that is not JSON: ${res.text.slice(0, 300)}`);
  }
}

/** A query string from the given parameters (values as they are, commas unescaped for readability). */
export function queryString(params: Record<string, string | number | undefined>): string {
  const parts = Object.entries(params)
    .filter((e): e is [string, string | number] => e[1] !== undefined)
    .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(String(v)).replaceAll('%2C', ',')}`);
  return parts.length ? '?' + parts.join('&') : '';
}

/** `GET /api/v1/history.csv` with the parameters, as it came. */
export function historyRequest(port: number, params: Record<string, string | number | undefined> = {}): Promise<RawResponse> {
  return request(port, `/api/v1/history.csv${queryString(params)}`);
}

/** `GET /api/v1/history.csv`; fails unless the answer is 200. Returns the CSV text. */
export async function history(port: number, params: Record<string, string | number | undefined> = {}): Promise<string> {
  const res = await historyRequest(port, params);
  if (res.status !== 200) throw new Error(`GET /api/v1/history.csv${queryString(params)}: ${res.status} ${res.text.slice(0, 300)}`);
  return res.text;
}

/** CSV text as rows of strings (the header is the first row). */
export function csvRows(text: string): string[][] {
  return parse(text, { relax_column_count: false });
}

/** The data rows of an export as objects keyed by the header's column names. */
export function csvRecords(text: string): Record<string, string>[] {
  return parse<Record<string, string>>(text, { columns: true });
}

/** `POST /api/v1/readings` with a CSV body (`Content-Type: text/csv`). */
export function upload(port: number, csv: string | Buffer | { file: string }, headers: Record<string, string> = {}): Promise<RawResponse> {
  return request(port, '/api/v1/readings', {
    method: 'POST',
    headers: { 'content-type': 'text/csv', ...headers },
    body: csv,
    timeoutMs: 120_000,
  });
}

/** Uploads and expects 200; returns the answer `{accepted, duplicates}`. */
export async function uploadOk(port: number, csv: string | Buffer | { file: string }): Promise<{ accepted: number; duplicates: number }> {
  const res = await upload(port, csv);
  if (res.status !== 200) throw new Error(`POST /api/v1/readings: ${res.status} ${res.text.slice(0, 500)}`);
  return json<{ accepted: number; duplicates: number }>(res);
}

/** `POST` with a JSON body (or none). */
export function postJson(port: number, path: string, body?: unknown, timeoutMs = 60_000): Promise<RawResponse> {
  return request(port, path, {
    method: 'POST',
    ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
    timeoutMs,
  });
}

/** The error body of the contract, checked: `{"error":{"code":"<short_name>","message":"<text>"}}`. */
export function errorBody(res: RawResponse): { code: string; message: string; [k: string]: unknown } {
  const body = json<{ error?: { code?: unknown; message?: unknown } }>(res);
  const e = body.error;
  if (typeof e !== 'object' || e === null || typeof e.code !== 'string' || typeof e.message !== 'string' || e.code === '') {
    throw new Error(`not the contract's error body: ${res.text.slice(0, 300)}`);
  }
  return e as { code: string; message: string };
}

/**
 * Polls `probe` every `intervalMs` until it returns something other than undefined or false,
 * and returns that; throws after `timeoutMs` with `what` and the last value seen.
 */
export async function waitFor<T>(
  what: string,
  probe: () => Promise<T | undefined | false> | T | undefined | false,
  timeoutMs = 20_000,
  intervalMs = 50,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v !== undefined && v !== false) return v;
      last = v;
    } catch (err) {
      last = err instanceof Error ? err.message : err;
    }
    if (Date.now() > deadline) throw new Error(`${what}: not so within ${timeoutMs} ms (last: ${String(last).slice(0, 300)})`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

/** ISO 8601 UTC with milliseconds, as the export writes it. */
export function iso(ms: number): string {
  return new Date(ms).toISOString();
}
