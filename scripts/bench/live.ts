/**
 * Latency benchmarks on a running hub: `latest` over HTTP, and report-now round trips with a
 * fleet of simulated sensors (a separate process) connected.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { cpuSeconds } from './hub-process.ts';
import type { LatestClientResult } from './latest-client.ts';

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
  for (const variant of ['plain', 'gzip', 'etag'] as const) {
    const client = spawn(process.execPath, ['--import', 'tsx', 'scripts/bench/latest-client.ts', String(httpPort), String(n), variant], {
      cwd: root,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    client.stdout.on('data', (c: Buffer) => (out += c.toString()));
    const cpu0 = cpuSeconds(hubPid);
    const [code] = (await once(client, 'exit')) as [number | null];
    const hubCpuMsPerRequest = ((cpuSeconds(hubPid) - cpu0) * 1000) / (n + 51);
    if (code !== 0) throw new Error(`the latest client (${variant}) exited with ${code}`);
    runs.push({ ...(JSON.parse(out) as LatestClientResult), hubCpuMsPerRequest });
  }
  return { readings: body.readings.length, runs };
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
