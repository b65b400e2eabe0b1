/**
 * Starting hubs for tests: in this process through `buildHub` (fast, options such as a small
 * `maxLineBytes` or an injected clock), or as a real process through `hub/main.ts` (for
 * signals and kill -9). Both listen on port 0 and register their teardown, as does every
 * temporary data directory.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildHub } from '../../hub/hub.ts';
import { clusterTargetFor } from './cluster-mode.ts';
import { hubProcessArgs } from './hub-command.ts';
import { perTest, type Teardown } from './teardown.ts';

export const REPO_ROOT = join(import.meta.dirname, '..', '..');
const START_TIMEOUT_MS = 30_000;
const STOP_TIMEOUT_MS = 15_000;

export interface TempDir {
  path: string;
  /** Removes the directory and everything in it; safe to call twice. */
  cleanup(): Promise<void>;
}

/** A fresh directory under the OS temp dir, removed by `cleanup()` or by the test's teardown. */
export async function tempDataDir(scope: Teardown = perTest): Promise<TempDir> {
  const path = await mkdtemp(join(tmpdir(), 'roomwatch-test-'));
  const cleanup = (): Promise<void> => rm(path, { recursive: true, force: true });
  scope.add(`temp dir ${path}`, cleanup);
  return { path, cleanup };
}

export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} did not finish within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

// ---------------------------------------------------------------- in process

export type HubOptions = Parameters<typeof buildHub>[0];
export type Hub = ReturnType<typeof buildHub>;

export interface InProcessHub {
  hub: Hub;
  tcpPort: number;
  httpPort: number;
  dataDir: string;
  /** Stops the hub (once; later calls wait for the same stop). A closure, so `const { stop } = ...` is safe. */
  readonly stop: () => Promise<void>;
}

/**
 * Builds and starts a hub on 127.0.0.1, ports 0, logging nothing, on a fresh temp data dir
 * unless `overrides.dataDir` names one. Teardown stops it (and removes the dir it made).
 */
export async function startHub(overrides: Partial<HubOptions> = {}, scope: Teardown = perTest): Promise<InProcessHub> {
  const dataDir = overrides.dataDir ?? (await tempDataDir(scope)).path;
  const cluster = overrides.cluster === undefined ? await clusterTargetFor(dataDir, scope) : null;
  const hub = buildHub({ host: '127.0.0.1', tcpPort: 0, httpPort: 0, logLevel: 'silent', ...cluster, ...overrides, dataDir });
  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> => (stopping ??= withTimeout(Promise.resolve(hub.stop()), STOP_TIMEOUT_MS, 'hub.stop()'));
  scope.add('in-process hub', stop);
  const { tcpPort, httpPort } = await withTimeout(Promise.resolve(hub.start()), START_TIMEOUT_MS, 'hub.start()');
  return { hub, tcpPort, httpPort, dataDir, stop };
}

// ---------------------------------------------------------------- as a process

export interface HubProcess {
  tcpPort: number;
  httpPort: number;
  dataDir: string;
  pid: number;
  kill(signal: NodeJS.Signals): boolean;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Everything the process wrote to stdout and stderr so far. */
  output(): string;
}

/**
 * Runs `node --import tsx hub/main.ts --host 127.0.0.1 --tcp-port 0 --http-port 0 --data DIR`
 * from the repository root and waits for its "hub listening" log line (at most 30 s, or
 * `startTimeoutMs`: a cluster hub connects to its peers first).
 * Teardown kills it with SIGKILL if it is still running.
 */
export async function startHubProcess(
  options: { dataDir: string; args?: string[]; env?: NodeJS.ProcessEnv; startTimeoutMs?: number },
  scope: Teardown = perTest,
): Promise<HubProcess> {
  const cluster = options.args?.includes('--cluster') ? null : await clusterTargetFor(options.dataDir, scope);
  const args = [...(options.args ?? []), ...(cluster ? ['--cluster', cluster.cluster, '--history', cluster.history] : [])];
  const child = spawn(process.execPath, hubProcessArgs(options.dataDir, args), {
    cwd: REPO_ROOT,
    env: { ...process.env, ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  let exitInfo: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.on('exit', (code, signal) => {
      exitInfo = { code, signal };
      resolve(exitInfo);
    });
  });
  scope.add(`hub process ${child.pid}`, async () => {
    if (exitInfo) return;
    child.kill('SIGKILL');
    await exited;
  });
  child.stderr.on('data', (d: Buffer) => (output += d.toString()));

  const listening = new Promise<{ tcpPort: number; httpPort: number }>((resolve, reject) => {
    let pending = '';
    child.stdout.on('data', (d: Buffer) => {
      const text = d.toString();
      output += text;
      pending += text;
      const lines = pending.split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) {
        let entry: { msg?: unknown; tcpPort?: unknown; httpPort?: unknown };
        try {
          entry = JSON.parse(line) as typeof entry;
        } catch {
          continue;
        }
        if (entry.msg === 'hub listening' && typeof entry.tcpPort === 'number' && typeof entry.httpPort === 'number') {
          resolve({ tcpPort: entry.tcpPort, httpPort: entry.httpPort });
        }
      }
    });
    void exited.then(({ code, signal }) =>
      reject(new Error(`the hub process exited (code ${code}, signal ${signal}) before "hub listening"; output:\n${output}`)),
    );
  });

  const ports = await withTimeout(listening, options.startTimeoutMs ?? START_TIMEOUT_MS, 'waiting for "hub listening"').catch(
    (err: Error) => {
      throw new Error(`${err.message}\noutput so far:\n${output}`);
    },
  );
  return {
    ...ports,
    dataDir: options.dataDir,
    pid: child.pid ?? -1,
    kill: (signal) => child.kill(signal),
    exited,
    output: () => output,
  };
}
