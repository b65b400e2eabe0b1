/**
 * Three real nats-servers with JetStream for the cluster tests, the demo and the bench: one
 * cluster on free loopback ports, each server in its own process group with its own config and
 * store in one temp folder (the recipe of /work/shared/PEERS.md). A server can be killed
 * (SIGKILL by default) and started again on the same store; the leader of a stream is read from
 * the monitoring port (`/jsz`). Skips (a `[skip] ` line with the install command) when
 * nats-server is missing.
 *
 *   if (!natsInstalled('cluster ingest')) return;
 *   const nats = await startNatsCluster();
 *   const leader = await nats.streamLeader('ROOMWATCH_READINGS');
 *   await nats.kill(leader);   // kill -9
 *   await nats.restart(leader);
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';
import { freePort } from '../../scripts/bench/free-port.ts';
import { waitFor } from './api-client.ts';
import { tempDataDir, withTimeout } from './hub-process.ts';
import { reapWhenOrphaned, recordPids } from './orphan-reaper.ts';
import { perTest, type Teardown } from './teardown.ts';

export const NATS_SERVER_INSTALL = 'apt-get update && apt-get install -y --no-install-recommends nats-server';
const CANDIDATES = ['/usr/sbin/nats-server', '/usr/bin/nats-server', '/usr/local/bin/nats-server'];

/** Where nats-server is, or undefined. */
export function natsServerPath(): string | undefined {
  return CANDIDATES.find((p) => existsSync(p));
}

/** Whether nats-server is here; prints the `[skip] ` line for `what` when not. */
export function natsInstalled(what: string): boolean {
  if (natsServerPath() !== undefined) return true;
  process.stdout.write(`[skip] ${what}: nats-server is missing; install it with: ${NATS_SERVER_INSTALL}\n`);
  return false;
}

export interface NatsNode {
  /** server_name: n1, n2, n3 */
  readonly name: string;
  readonly port: number;
  readonly monitorPort: number;
  readonly clusterPort: number;
  /** nats://127.0.0.1:port */
  readonly url: string;
  running(): boolean;
  /** Its process id while running. */
  pid(): number | undefined;
  /** The tail of what it logged (all its runs). */
  log(): string;
}

export interface NatsCluster {
  dir: string;
  nodes: NatsNode[];
  /** Every server's client URL, for `--cluster` (joined by commas). */
  urls: string[];
  /** Kills server `i` (SIGKILL unless told) and waits until it exited. */
  kill(i: number, signal?: NodeJS.Signals): Promise<void>;
  /** Starts server `i` again on its store and waits until it is ready and JetStream current. */
  restart(i: number): Promise<void>;
  /**
   * The index of the running server that leads `stream`, as the running servers' monitoring
   * ports report it; waits (at most `timeoutMs`) while the stream has no leader or its
   * leader is a server that is down.
   */
  streamLeader(stream: string, timeoutMs?: number): Promise<number>;
  /** GET on server `i`'s monitoring port (e.g. `/jsz?accounts=true&streams=true`), as JSON. */
  monitor(i: number, path: string): Promise<unknown>;
  /** Stops every server (SIGTERM, then SIGKILL after 10 s); the temp folder goes with the scope. */
  stop(): Promise<void>;
}

const READY_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 10_000;
const LOG_KEEP = 64 * 1024;

interface Slot extends NatsNode {
  conf: string;
  child?: ChildProcess;
  exited?: Promise<void>;
  logText: string;
}

export async function startNatsCluster(options: { size?: number; scope?: Teardown } = {}): Promise<NatsCluster> {
  const bin = natsServerPath();
  if (bin === undefined) throw new Error(`nats-server is missing; install it with: ${NATS_SERVER_INSTALL}`);
  const size = options.size ?? 3;
  const scope = options.scope ?? perTest;
  const dir = (await tempDataDir(scope)).path;
  reapWhenOrphaned(dir);
  const ports = [];
  for (let i = 0; i < size * 3; i++) ports.push(await freePort());
  const slots: Slot[] = [];
  for (let i = 0; i < size; i++) {
    const [port, monitorPort, clusterPort] = [ports[i * 3]!, ports[i * 3 + 1]!, ports[i * 3 + 2]!];
    const name = `n${i + 1}`;
    const slot: Slot = {
      name,
      port,
      monitorPort,
      clusterPort,
      url: `nats://127.0.0.1:${port}`,
      conf: join(dir, `${name}.conf`),
      logText: '',
      running: () => slot.child !== undefined,
      pid: () => slot.child?.pid,
      log: () => slot.logText,
    };
    slots.push(slot);
  }
  const routes = slots.map((s) => `nats-route://127.0.0.1:${s.clusterPort}`).join(', ');
  for (const s of slots) {
    mkdirSync(join(dir, s.name));
    writeFileSync(s.conf, natsConfig(s, join(dir, s.name), size > 1 ? routes : undefined));
  }

  const cluster: NatsCluster = {
    dir,
    nodes: slots,
    urls: slots.map((s) => s.url),
    kill: async (i, signal = 'SIGKILL') => {
      const s = slot(i);
      if (!s.child) return;
      process.kill(-s.child.pid!, signal);
      await withTimeout(s.exited!, STOP_TIMEOUT_MS, `nats-server ${s.name} exiting on ${signal}`);
    },
    restart: async (i) => {
      const s = slot(i);
      if (s.child) throw new Error(`nats-server ${s.name} is still running: kill it first`);
      await launch(bin, s, pidsChanged);
      await waitCurrent(s, slots.length > 1);
    },
    streamLeader: (stream, timeoutMs = READY_TIMEOUT_MS) =>
      waitFor(
        `a running leader of stream ${stream}`,
        async () => {
          for (const s of slots.filter((x) => x.running())) {
            const leader = streamLeaderName(await getJson(s.monitorPort, '/jsz?accounts=true&streams=true'), stream);
            const at = slots.findIndex((x) => x.name === leader);
            if (at >= 0 && slots[at]!.running()) return at;
          }
          return undefined;
        },
        timeoutMs,
        100,
      ),
    monitor: (i, path) => getJson(slot(i).monitorPort, path),
    stop: async () => {
      await Promise.all(slots.map((s) => stopSlot(s)));
    },
  };
  scope.add(`nats-servers in ${dir}`, () => cluster.stop());

  /** what the orphan watchdog kills: the servers running now */
  function pidsChanged(): void {
    try {
      recordPids(
        dir,
        slots.flatMap((x) => (x.child?.pid === undefined ? [] : [x.child.pid])),
      );
    } catch {
      // the folder is gone: the cluster was stopped and removed
    }
  }

  function slot(i: number): Slot {
    const s = slots[i];
    if (!s) throw new RangeError(`no nats-server ${i}: the cluster has ${slots.length} (0..${slots.length - 1})`);
    return s;
  }

  await Promise.all(slots.map((s) => launch(bin, s, pidsChanged)));
  await Promise.all(slots.map((s) => waitCurrent(s, size > 1)));
  return cluster;
}

function natsConfig(s: Slot, storeDir: string, routes: string | undefined): string {
  const lines = [
    `server_name: ${s.name}`,
    `listen: 127.0.0.1:${s.port}`,
    `http: 127.0.0.1:${s.monitorPort}`,
    `jetstream { store_dir: "${storeDir}", max_mem: 64MB, max_file: 4GB }`,
  ];
  if (routes !== undefined) {
    lines.push('cluster {', '  name: roomwatch', `  listen: 127.0.0.1:${s.clusterPort}`, `  routes: [ ${routes} ]`, '}');
  }
  return lines.join('\n') + '\n';
}

/** Starts the server of `s` in its own process group and waits for "Server is ready". */
async function launch(bin: string, s: Slot, onChange: () => void): Promise<void> {
  const child = spawn(bin, ['-c', s.conf], { stdio: ['ignore', 'ignore', 'pipe'], detached: true });
  s.child = child;
  onChange();
  s.exited = new Promise<void>((resolve) =>
    child.once('exit', () => {
      if (s.child === child) s.child = undefined;
      onChange();
      resolve();
    }),
  );
  let runLog = '';
  const ready = new Promise<void>((resolve, reject) => {
    child.stderr.on('data', (d: Buffer) => {
      const text = d.toString();
      s.logText = (s.logText + text).slice(-LOG_KEEP);
      if (runLog.length < LOG_KEEP) runLog += text;
      if (runLog.includes('Server is ready')) resolve();
    });
    child.once('exit', (code, signal) =>
      reject(new Error(`nats-server ${s.name} exited (${code ?? signal}) before it was ready:\n${runLog}`)),
    );
  });
  await withTimeout(ready, READY_TIMEOUT_MS, `nats-server ${s.name} starting`);
}

/**
 * Waits until `s` answers /healthz?js-enabled=true with ok and knows a JetStream meta leader:
 * on 2.9 that is when it has caught up with the cluster's assets (streams, consumers).
 */
async function waitCurrent(s: Slot, clustered: boolean): Promise<void> {
  await waitFor(
    `nats-server ${s.name}: JetStream healthy with a meta leader`,
    async () => {
      const health = (await getJson(s.monitorPort, '/healthz?js-enabled=true')) as { status?: string };
      if (health.status !== 'ok') return undefined;
      // A server on its own has no meta group: healthy is ready.
      if (!clustered) return true;
      const jsz = (await getJson(s.monitorPort, '/jsz')) as { meta_cluster?: { leader?: string } };
      return jsz.meta_cluster?.leader ? true : undefined;
    },
    READY_TIMEOUT_MS,
    100,
  );
}

async function stopSlot(s: Slot): Promise<void> {
  const child = s.child;
  if (!child) return;
  try {
    process.kill(-child.pid!, 'SIGTERM');
    await withTimeout(s.exited!, STOP_TIMEOUT_MS, `nats-server ${s.name} stopping`);
  } catch {
    if (s.child === child) process.kill(-child.pid!, 'SIGKILL');
    await s.exited;
  }
}

/** The leader's server_name of `stream` in a `/jsz?accounts=true&streams=true` answer. */
export function streamLeaderName(jsz: unknown, stream: string): string | undefined {
  type Jsz = { account_details?: { stream_detail?: { name?: string; cluster?: { leader?: string } }[] }[] };
  for (const account of (jsz as Jsz).account_details ?? []) {
    for (const detail of account.stream_detail ?? []) {
      if (detail.name === stream && detail.cluster?.leader) return detail.cluster.leader;
    }
  }
  return undefined;
}

/** GET as JSON over a connection of its own (no pooled socket outlives the servers). */
function getJson(port: number, path: string): Promise<unknown> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path, agent: false, timeout: 5_000 }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (c: string) => (text += c));
      res.on('end', () => {
        try {
          resolve(JSON.parse(text) as unknown);
        } catch {
          reject(new Error(`nats monitoring ${path} answered ${res.statusCode} with non-JSON: ${text.slice(0, 200)}`));
        }
      });
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error(`nats monitoring ${path}: no answer within 5 s`)));
    req.on('error', reject);
  });
}
