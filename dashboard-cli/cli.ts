/**
 * The CLI as a function: arguments and environment in, an exit code out (PROTOCOL.md §3).
 * It never touches `process`, so tests can run it in-process; main.ts binds it to the process.
 */
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parseCommandLine } from './args.ts';
import type { Env } from './args.ts';
import type { ByteStreams, CommandSpec } from './command.ts';
import { commandTable } from './command-table.ts';
import { describeError, describeFsError } from './describe-error.ts';
import { ExitCode, LocalFileError, UsageError, exitCodeFor } from './errors.ts';
import { commandHelp, generalHelp } from './help.ts';
import { createHubClient } from './hub-client.ts';
import { colorEnabled } from './terminal.ts';
import type { Output } from './terminal.ts';

export interface CliIo {
  argv: readonly string[];
  env: Env;
  stdout: Output;
  stderr: Output;
  /** The same stdout, and stdin, as byte streams. */
  streams: ByteStreams;
  now: () => number;
  /** Aborted on Ctrl-C. */
  signal: AbortSignal;
}

/** The conventional exit code after SIGINT, when Ctrl-C cut a request short. */
export const INTERRUPTED_EXIT_CODE = 130;

export async function runCli(io: CliIo, commands: readonly CommandSpec[] = commandTable): Promise<number> {
  try {
    const line = parseCommandLine(io.argv, io.env, commands);
    const topic = line.command === 'help' ? line.args[0] : line.command;
    if (line.help || line.command === 'help') {
      const command = commands.find((c) => c.name === topic);
      if (topic !== undefined && topic !== 'help' && !command) throw new UsageError(`unknown command "${topic}"`);
      io.stdout.write(command ? commandHelp(command) : generalHelp(commands));
      return ExitCode.Done;
    }
    const command = commands.find((c) => c.name === line.command);
    if (!command) {
      const names = [...commands.map((c) => c.name), 'help'].join(', ');
      io.stderr.write(`${describeError(new UsageError(`no command given; the commands are ${names}`), colorEnabled(io.env, io.stderr.isTTY))}\n`);
      return ExitCode.Usage;
    }
    const hub = createHubClient({
      baseUrl: line.hubUrl,
      timeoutMs: line.timeoutMs,
      signal: io.signal,
      ...(line.token !== undefined ? { token: line.token } : {}),
      ...(line.caFile !== undefined ? { ca: readCaFile(line.caFile) } : {}),
    });
    return await command.run({
      hub,
      filters: line.filters,
      json: line.json,
      options: line.commandOptions,
      args: line.args,
      stdout: io.stdout,
      stderr: io.stderr,
      streams: io.streams,
      color: colorEnabled(io.env, io.stdout.isTTY),
      now: io.now,
      signal: io.signal,
    });
  } catch (error) {
    if (io.signal.aborted) return INTERRUPTED_EXIT_CODE;
    io.stderr.write(describeError(error, colorEnabled(io.env, io.stderr.isTTY)) + '\n');
    return exitCodeFor(error);
  }
}

/** The PEM file of --ca, read once for every request of the command; a bad one exits 2. */
function readCaFile(file: string): Buffer {
  let pem: Buffer;
  try {
    pem = readFileSync(file);
  } catch (error) {
    throw new LocalFileError(`cannot read the CA file ${file}: ${describeFsError(error)}`);
  }
  try {
    new X509Certificate(pem);
  } catch {
    throw new LocalFileError(`the CA file ${file} holds no PEM certificate (it should begin with -----BEGIN CERTIFICATE-----)`);
  }
  return pem;
}
