/**
 * Latency benchmarks on a running hub: `latest` over HTTP, and report-now round trips with a
 * fleet of simulated sensors (a separate process) connected.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';
import { cpuSeconds } from './hub-process.ts';
import type { LatestClientResult, LatestVariant } from './latest-client.ts';

const root = join(import.meta.dirname, '..', '..');

export function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/**
 * `n` sequential GET /api/v1/latest per variant (plain JSON, gzip, unchanged: 304), from a
 * client process of its own on one keep-alive connection; with the hub's CPU time per request.
 */
export async function latestLatencies(
  httpPort: number,
  hubPid: number,
  n: number,
): Promise<{ readings: number; runs: (LatestClientResult & { hubCpuMsPerRequest: number })[] }> {
  const body = (await (await fetch(`http://127.0.0.1:${httpPort}/api/v1/latest`)).json()) as { readings: unknown[] };
  const runs = [];
  for (const variant of LATEST_VARIANTS) {
    const cpu0 = cpuSeconds(hubPid);
    const result = await latestClient(httpPort, n, variant);
    const hubCpuMsPerRequest = ((cpuSeconds(hubPid) - cpu0) * 1000) / (n + 51);
    runs.push({ ...result, hubCpuMsPerRequest });
  }
  return { readings: body.readings.length, runs };
}

const LATEST_VARIANTS = ['plain', 'gzip', 'etag'] as const;

/** The same client, the same requests, against a bare Node server holding the hub's own bodies (peer-bare-latest.ts). */
export async function bareLatestLatencies(hubHttpPort: number, n: number, dir: string): Promise<LatestClientResult[]> {
  const url = `http://127.0.0.1:${hubHttpPort}/api/v1/latest`;
  const plain = await fetch(url, { headers: { 'accept-encoding': 'identity' } });
  const etag = plain.headers.get('etag') ?? '"bench"';
  writeFileSync(join(dir, 'latest.json'), Buffer.from(await plain.arrayBuffer()));
  // fetch() would undo the gzip: ask over node:http for the bytes as sent.
  const gzipped = await new Promise<Buffer>((resolve, reject) => {
    http
      .get(url, { headers: { 'accept-encoding': 'gzip' } }, (res) => {
        const parts: Buffer[] = [];
        res.on('data', (c: Buffer) => parts.push(c)).on('end', () => resolve(Buffer.concat(parts)));
      })
      .on('error', reject);
  });
  writeFileSync(join(dir, 'latest.json.gz'), gzipped);
  const server = spawn(
    process.execPath,
    ['--import', 'tsx', 'scripts/bench/peer-bare-latest.ts', join(dir, 'latest.json'), join(dir, 'latest.json.gz'), etag],
    { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  try {
    const [first] = (await once(server.stdout, 'data')) as [Buffer];
    const port = Number(first.toString().trim());
    const runs = [];
    for (const variant of LATEST_VARIANTS) runs.push(await latestClient(port, n, variant));
    return runs;
  } finally {
    server.kill();
  }
}

async function latestClient(port: number, n: number, variant: LatestVariant): Promise<LatestClientResult> {
  const client = spawn(process.execPath, ['--import', 'tsx', 'scripts/bench/latest-client.ts', String(port), String(n), variant], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  client.stdout.on('data', (c: Buffer) => (out += c.toString()));
  const [code] = (await once(client, 'exit')) as [number | null];
  if (code !== 0) throw new Error(`the latest client (${variant}) exited with ${code}`);
  return JSON.parse(out) as LatestClientResult;
}

async function connectedSensors(httpPort: number): Promise<number> {
  const h = (await (await fetch(`http://127.0.0.1:${httpPort}/api/v1/health`)).json()) as { sensors_connected: number };
  return h.sensors_connected;
}

/** Starts `count` simulated sensors (quiet: one reading per 10 min) and waits until all are connected. */
export async function withFleet<T>(tcpPort: number, httpPort: number, count: number, fn: () => Promise<T>): Promise<T> {
  const fleet = spawn(
    process.execPath,
    [
      ...(process.env.ROOMWATCH_BENCH_FLEET_NODE_ARGS?.split(' ').filter(Boolean) ?? []),
      '--import',
      'tsx',
      'sensors/main.ts',
      '--count',
      String(count),
      '--port',
      String(tcpPort),
      '--interval',
      '600000',
      '--prefix',
      `rn${count}`,
    ],
    { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] },
  );
  try {
    const deadline = Date.now() + 180_000;
    while ((await connectedSensors(httpPort)) < count) {
      if (Date.now() > deadline) throw new Error(`only ${await connectedSensors(httpPort)} of ${count} sensors connected within 3 min`);
      await new Promise((r) => setTimeout(r, 200));
    }
    return await fn();
  } finally {
    fleet.kill('SIGTERM');
    await once(fleet, 'exit');
  }
}

/** `rounds` report-now requests one after another; round-trip ms, sorted, and the last answer's counts. */
export async function reportNowLatencies(
  httpPort: number,
  rounds: number,
): Promise<{ sortedMs: number[]; requested: number; responded: number }> {
  const out: number[] = [];
  let last = { requested: 0, responded: 0 };
  for (let i = 0; i < rounds + 3; i++) {
    const t = performance.now();
    const res = await fetch(`http://127.0.0.1:${httpPort}/api/v1/report-now`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ timeout_ms: 5000 }),
    });
    last = (await res.json()) as { requested: number; responded: number };
    if (i >= 3) out.push(performance.now() - t); // the first rounds warm up both sides
  }
  return { sortedMs: out.sort((a, b) => a - b), ...last };
}
