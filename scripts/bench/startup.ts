/**
 * Start to healthy: the hub compiled (`node .build/server/hub.js`, what `npm start`, the bins,
 * the systemd unit and the Dockerfile run) against the same hub through tsx (`node --import tsx
 * hub/main.ts`, what the tests run), on an empty data folder: process spawn to the first 200
 * from /api/v1/health. Rounds alternate the two so a noisy machine weighs on both alike; the
 * medians and their ratio are reported.
 *
 *   npm run bench -- --only startup [--startup-rounds 7]
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { ensureServerBuild, SERVER_BUILD_DIR } from '../build-server.ts';
import { ensureWebBuild } from '../build-web.ts';
import { hubProcessArgs } from '../../test/support/hub-command.ts';

const root = join(import.meta.dirname, '..', '..');

export interface StartupResult {
  rounds: number;
  compiledMs: number;
  tsxMs: number;
}

/** One start: spawn to health 200, then a clean stop (not timed). */
async function startToHealthy(compiled: boolean): Promise<number> {
  const dataDir = mkdtempSync(join(tmpdir(), 'roomwatch-bench-startup-'));
  const args = hubProcessArgs(dataDir, ['--log-file', 'none']);
  // hubProcessArgs is ['--import', 'tsx', 'hub/main.ts', ...flags]
  const argv = compiled ? [join(SERVER_BUILD_DIR, 'hub.js'), ...args.slice(3)] : args;
  const started = performance.now();
  const child = spawn(process.execPath, argv, { cwd: root, stdio: ['ignore', 'pipe', 'inherit'] });
  const exited = new Promise<void>((resolve) => child.on('exit', () => resolve()));
  try {
    const port = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('hub did not start within 60 s')), 60_000);
      createInterface({ input: child.stdout }).on('line', (line) => {
        const m = /"httpPort":(\d+).*"msg":"hub listening"/.exec(line);
        if (m) {
          clearTimeout(timer);
          resolve(Number(m[1]));
        }
      });
      child.on('exit', () => reject(new Error('hub exited before listening')));
    });
    for (;;) {
      const res = await fetch(`http://127.0.0.1:${port}/api/v1/health`).catch(() => null);
      if (res?.status === 200) break;
      await new Promise((r) => setTimeout(r, 5));
    }
    return performance.now() - started;
  } finally {
    child.kill('SIGTERM');
    await exited;
    rmSync(dataDir, { recursive: true, force: true });
  }
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
};

export async function runStartupBench(rounds: number, progress: (s: string) => void): Promise<StartupResult> {
  // Both builds made first, so no start below pays for one.
  await ensureServerBuild();
  await ensureWebBuild();
  const compiled: number[] = [];
  const tsx: number[] = [];
  for (let i = 0; i < rounds; i++) {
    progress(`startup: round ${i + 1} of ${rounds}`);
    // alternate which goes first, so neither always follows the other's page-cache warm-up
    const order = i % 2 === 0 ? [true, false] : [false, true];
    for (const c of order) (c ? compiled : tsx).push(await startToHealthy(c));
  }
  return { rounds, compiledMs: median(compiled), tsxMs: median(tsx) };
}
