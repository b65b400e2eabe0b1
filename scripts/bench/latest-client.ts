/**
 * The `latest` client of the bench, in a process of its own (the bench's own process holds the
 * dataset's payloads, and its garbage collections would show up as the hub's latency): `n`
 * sequential GET /api/v1/latest on one keep-alive connection, after a warm-up, as one of
 *   plain    Accept-Encoding: identity (the whole JSON every time)
 *   gzip     Accept-Encoding: gzip (the body as sent, not unpacked)
 *   etag     If-None-Match with the answer's ETag (304, no body: an unchanged answer)
 * Time is from sending the request to the last byte of the answer. Prints one JSON line.
 *
 *   node --import tsx scripts/bench/latest-client.ts PORT N plain|gzip|etag
 */
import http from 'node:http';

export type LatestVariant = 'plain' | 'gzip' | 'etag';

export interface LatestClientResult {
  variant: LatestVariant;
  sortedMs: number[];
  /** bytes of the last answer's body, as sent */
  bytes: number;
  status: number;
}

function get(agent: http.Agent, port: number, headers: Record<string, string>): Promise<{ status: number; bytes: number; etag: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: '127.0.0.1', port, path: '/api/v1/latest', agent, headers }, (res) => {
      let bytes = 0;
      res.on('data', (c: Buffer) => (bytes += c.length));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, bytes, etag: String(res.headers.etag ?? '') }));
    });
    req.on('error', reject);
    req.end();
  });
}

async function run(port: number, n: number, variant: LatestVariant): Promise<LatestClientResult> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const first = await get(agent, port, {});
  const headers: Record<string, string> =
    variant === 'gzip'
      ? { 'accept-encoding': 'gzip' }
      : variant === 'etag'
        ? { 'if-none-match': first.etag }
        : { 'accept-encoding': 'identity' };
  let last = first;
  for (let i = 0; i < 50; i++) last = await get(agent, port, headers);
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    last = await get(agent, port, headers);
    out.push(performance.now() - t);
  }
  agent.destroy();
  return { variant, sortedMs: out.sort((a, b) => a - b), bytes: last.bytes, status: last.status };
}

if (process.argv[1]?.endsWith('latest-client.ts')) {
  const [port, n, variant] = process.argv.slice(2);
  process.stdout.write(`${JSON.stringify(await run(Number(port), Number(n), variant as LatestVariant))}\n`);
}
