/**
 * Runs the CLI in this process (runCli), with stdout and stderr captured and each one a
 * terminal or not as the test says: what a child process on pipes cannot show, such as the
 * progress line that appears only on a terminal.
 */
import { Readable, Writable } from 'node:stream';
import { runCli } from '../cli.ts';
import { NO_CONFIG_DIR } from './run-cli-process.ts';

export interface InProcessResult {
  code: number;
  stdout: string;
  stderr: string;
}

export async function runCliInProcess(
  argv: readonly string[],
  options: {
    stdoutTTY?: boolean;
    stderrTTY?: boolean;
    /** stdin counts as a terminal: questions are asked on it (as typed: `stdin` is what the user types). */
    stdinTTY?: boolean;
    env?: Record<string, string | undefined>;
    stdin?: string;
    signal?: AbortSignal;
  } = {},
): Promise<InProcessResult> {
  // Bytes, decoded once at the end: a character split across two chunks must not be mangled here.
  const stdout: Buffer[] = [];
  let stderr = '';
  const stdoutStream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      stdout.push(chunk);
      done();
    },
  });
  const code = await runCli({
    argv,
    env: { NO_COLOR: '1', ROOMWATCH_CONFIG_DIR: NO_CONFIG_DIR, ...options.env },
    stdout: { write: (text) => void stdout.push(Buffer.from(text)), isTTY: options.stdoutTTY ?? false },
    stderr: { write: (text) => void (stderr += text), isTTY: options.stderrTTY ?? false },
    streams: { stdin: () => Readable.from([options.stdin ?? '']), stdinIsTTY: options.stdinTTY ?? false, stdout: stdoutStream },
    now: Date.now,
    signal: options.signal ?? new AbortController().signal,
  });
  return { code, stdout: Buffer.concat(stdout).toString('utf8'), stderr };
}
