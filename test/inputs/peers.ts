/**
 * Real peers of the inputs' tests (/work/shared/PEERS.md): the `influx` CLI of Debian's
 * influxdb-client, and a Prometheus agent scraping prometheus-node-exporter, each in its own
 * process group on free loopback ports in a temp folder, stopped by that group's id. Skips (a
 * `[skip] ` line with the install command) when a binary is missing.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from '../../scripts/bench/free-port.ts';
import { tempDataDir, withTimeout } from '../support/hub-process.ts';
import { perTest, type Teardown } from '../support/teardown.ts';

export const INFLUX_CLI = '/usr/bin/influx';
export const INFLUX_INSTALL = 'apt-get update && apt-get install -y --no-install-recommends influxdb-client';
export const PROMETHEUS = '/usr/bin/prometheus';
export const NODE_EXPORTER = '/usr/bin/prometheus-node-exporter';
export const PROMETHEUS_INSTALL = 'apt-get update && apt-get install -y --no-install-recommends prometheus prometheus-node-exporter';

/** Whether every file is here; prints the `[skip] ` line for `what` when not. */
export function installed(what: string, files: string[], install: string): boolean {
  const missing = files.filter((f) => !existsSync(f));
  if (missing.length === 0) return true;
  process.stdout.write(`[skip] ${what}: ${missing.join(', ')} missing; install with: ${install}\n`);
  return false;
}

/** Runs a program to its end; resolves with its exit code and output. */
export function run(bin: string, args: string[], timeoutMs = 60_000): Promise<{ code: number | null; out: string }> {
  const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const done = new Promise<{ code: number | null; out: string }>((resolve) => child.once('exit', (code) => resolve({ code, out })));
  return withTimeout(done, timeoutMs, `${bin} ${args.join(' ')}`).catch((err: Error) => {
    child.kill('SIGKILL');
    throw err;
  });
}

/** A long-running peer in its own process group, stopped (SIGTERM to the group) by the test's teardown. */
function startDaemon(bin: string, args: string[], scope: Teardown): { child: ChildProcess; log: () => string } {
  const child = spawn(bin, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let log = '';
  child.stdout.on('data', (d: Buffer) => (log += d.toString()));
  child.stderr.on('data', (d: Buffer) => (log += d.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  scope.add(`${bin} ${child.pid}`, async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    process.kill(-child.pid!, 'SIGTERM');
    await withTimeout(exited, 10_000, `${bin} stopping`).catch(() => process.kill(-child.pid!, 'SIGKILL'));
  });
  return { child, log: () => log };
}

export interface PrometheusAgent {
  nodeExporterPort: number;
  log(): string;
}

/**
 * prometheus-node-exporter, and Prometheus in agent mode scraping it every second and writing
 * to `writeUrl` (remote write 1.0); `extraLabels` are added to the scraped series.
 */
export async function startPrometheusAgent(
  writeUrl: string,
  extraLabels: Record<string, string>,
  scope: Teardown = perTest,
): Promise<PrometheusAgent> {
  const dir = (await tempDataDir(scope)).path;
  const [nodePort, promPort] = [await freePort(), await freePort()];
  // Only a few collectors: enough series to see, few enough to keep the test light.
  const exporter = startDaemon(
    NODE_EXPORTER,
    [
      `--web.listen-address=127.0.0.1:${nodePort}`,
      '--collector.disable-defaults',
      '--collector.loadavg',
      '--collector.meminfo',
      '--collector.cpu',
    ],
    scope,
  );
  const labels = Object.entries(extraLabels)
    .map(([k, v]) => `${k}: "${v}"`)
    .join(', ');
  const config = join(dir, 'prometheus.yml');
  writeFileSync(
    config,
    [
      'global:',
      '  scrape_interval: 1s',
      'scrape_configs:',
      '  - job_name: node',
      '    static_configs:',
      `      - targets: ["127.0.0.1:${nodePort}"]`,
      `        labels: { ${labels} }`,
      'remote_write:',
      `  - url: "${writeUrl}"`,
      '    queue_config: { batch_send_deadline: 1s, min_backoff: 100ms, max_backoff: 1s }',
      '',
    ].join('\n'),
  );
  const prometheus = startDaemon(
    PROMETHEUS,
    [
      '--enable-feature=agent',
      `--config.file=${config}`,
      `--storage.agent.path=${join(dir, 'agent')}`,
      `--web.listen-address=127.0.0.1:${promPort}`,
    ],
    scope,
  );
  return { nodeExporterPort: nodePort, log: () => `node exporter:\n${exporter.log()}\nprometheus:\n${prometheus.log()}` };
}
