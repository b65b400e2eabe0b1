/** Starts and watches a hub process for benchmarks: its ports, CPU time and peak RSS from /proc. */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { join } from 'node:path';
import { hubProcessArgs } from '../../test/support/hub-command.ts';

const root = join(import.meta.dirname, '..', '..');

export interface RunningHub {
  child: ChildProcess;
  tcpPort: number;
  httpPort: number;
  startedAt: number;
  stop(): Promise<number | null>;
}

/** `nodeArgs` go to node before the hub's (after ROOMWATCH_BENCH_NODE_ARGS): `--inspect=...` for a memory probe. */
export async function startHub(dataDir: string, extraArgs: string[] = [], nodeArgs: string[] = []): Promise<RunningHub> {
  const startedAt = performance.now();
  const child = spawn(
    process.execPath,
    [
      ...(process.env.ROOMWATCH_BENCH_NODE_ARGS?.split(' ').filter(Boolean) ?? []),
      ...nodeArgs,
      ...hubProcessArgs(dataDir, [
        // The benchmarks measure the hub's work, from one address: the request limit and the
        // per-address cap (docs/ADMIN.md "Limits") would measure those limits instead.
        '--rate-limit',
        '0',
        '--max-connections-per-address',
        '100000',
        ...extraArgs,
      ]),
    ],
    { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] },
  );
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  // A benchmark that dies must not leave a hub behind.
  const reap = () => child.kill('SIGKILL');
  process.once('exit', reap);
  child.once('exit', () => process.off('exit', reap));
  const lines = createInterface({ input: child.stdout });
  const ports = await new Promise<{ tcpPort: number; httpPort: number }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('hub did not start within 60 s')), 60_000);
    lines.on('line', (line) => {
      if (process.env.ROOMWATCH_BENCH_ECHO) process.stderr.write(line + '\n');
      try {
        const m = JSON.parse(line) as { msg?: string; tcpPort?: number; httpPort?: number };
        if (m.msg === 'hub listening') {
          clearTimeout(timer);
          resolve({ tcpPort: m.tcpPort!, httpPort: m.httpPort! });
        }
      } catch {
        /* not a log line */
      }
    });
    child.on('exit', () => reject(new Error('hub exited before listening')));
  });
  return {
    child,
    ...ports,
    startedAt,
    async stop() {
      child.kill('SIGTERM');
      return exited;
    },
  };
}

/** user+system CPU seconds of a process so far. */
export function cpuSeconds(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** Peak resident set size of a process so far, in bytes. */
export function peakRssBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const m = /VmHWM:\s+(\d+) kB/.exec(status);
  return m ? Number(m[1]) * 1024 : 0;
}

export function rssBytes(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const m = /VmRSS:\s+(\d+) kB/.exec(status);
  return m ? Number(m[1]) * 1024 : 0;
}
