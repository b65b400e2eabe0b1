/**
 * Running the project's entry files (sensors, CLI) as child processes with `node --import tsx`,
 * from the repository root, with sure teardown: a process still running at the end of the test
 * is killed with SIGKILL.
 */
import { spawn } from 'node:child_process';
import { REPO_ROOT, withTimeout } from './hub-process.ts';
import { perTest, type Teardown } from './teardown.ts';

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface NodeProcess {
  pid: number;
  exited: Promise<ExitInfo>;
  kill(signal: NodeJS.Signals): boolean;
  stdout(): string;
  stderr(): string;
}

export function spawnNode(args: string[], options: { env?: NodeJS.ProcessEnv } = {}, scope: Teardown = perTest): NodeProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', ...args], {
    cwd: REPO_ROOT,
    env: { ...process.env, NO_COLOR: '1', ...options.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  let exitInfo: ExitInfo | undefined;
  // 'close', not 'exit': by then stdout and stderr have been read to the end.
  const exited = new Promise<ExitInfo>((resolve) => {
    child.on('close', (code, signal) => {
      exitInfo = { code, signal };
      resolve(exitInfo);
    });
  });
  scope.add(`process ${args.join(' ')}`, async () => {
    if (exitInfo) return;
    child.kill('SIGKILL');
    await exited;
  });
  return { pid: child.pid ?? -1, exited, kill: (s) => child.kill(s), stdout: () => out, stderr: () => err };
}

/** Runs to the end (at most `timeoutMs`) and returns its exit code and output. */
export async function runNode(
  args: string[],
  timeoutMs = 60_000,
  options: { env?: NodeJS.ProcessEnv } = {},
): Promise<ExitInfo & { stdout: string; stderr: string }> {
  const p = spawnNode(args, options);
  const info = await withTimeout(p.exited, timeoutMs, `node ${args.join(' ')}`).catch((e: Error) => {
    throw new Error(`${e.message}\nstdout: ${p.stdout().slice(-2000)}\nstderr: ${p.stderr().slice(-2000)}`);
  });
  return { ...info, stdout: p.stdout(), stderr: p.stderr() };
}
