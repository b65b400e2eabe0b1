/**
 * Runs the CLI as users do, as its own process (`node --import tsx dashboard-cli/main.ts`),
 * and waits for it to exit. No sleeps: the result is the process's exit, or a kill after a
 * generous budget, so a slow machine only makes tests slower, never flaky.
 */
import { spawn } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const PROJECT_ROOT = join(import.meta.dirname, '..', '..');

/** The config folder of a CLI run by a test that names none: nothing there, and nothing should be written there. */
export const NO_CONFIG_DIR = join(tmpdir(), `roomwatch-cli-test-no-config-${process.pid}`);

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export function runCliProcess(
  args: readonly string[],
  options: {
    env?: Record<string, string | undefined>;
    budgetMs?: number;
    /** Called with all stdout so far on each chunk: lets a test act on output, e.g. send SIGINT. */
    onStdout?: (stdoutSoFar: string, child: ChildProcess) => void;
    /** Called once the process is started: lets a test signal it when the hub sees its request. */
    onStart?: (child: ChildProcess) => void;
    /** Written to the CLI's stdin, which is then closed; without it stdin is /dev/null. */
    stdin?: string | Buffer;
  } = {},
): Promise<CliResult> {
  const env: Record<string, string | undefined> = { ...process.env, NO_COLOR: '1' };
  // The developer's own settings must not leak into what a test proves.
  delete env.ROOMWATCH_HUB;
  delete env.ROOMWATCH_TOKEN;
  delete env.ROOMWATCH_CA;
  // Nor may their logins: a folder that does not exist unless a test gives one of its own.
  env.ROOMWATCH_CONFIG_DIR = NO_CONFIG_DIR;
  Object.assign(env, options.env);
  const budgetMs = options.budgetMs ?? 60_000;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'dashboard-cli/main.ts', ...args], {
      cwd: PROJECT_ROOT,
      env,
      stdio: [options.stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    options.onStart?.(child);
    if (options.stdin !== undefined && child.stdin) {
      // A CLI that exits before reading all of it (a usage error) must not fail the test with EPIPE.
      child.stdin.on('error', () => undefined);
      child.stdin.end(options.stdin);
    }
    let stdout = '';
    let stderr = '';
    child.stdout?.setEncoding('utf8').on('data', (d: string) => {
      stdout += d;
      options.onStdout?.(stdout, child);
    });
    child.stderr?.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`CLI ${args.join(' ')} did not exit within ${budgetMs} ms\nstdout: ${stdout}\nstderr: ${stderr}`));
    }, budgetMs);
    child.once('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
    child.once('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}
