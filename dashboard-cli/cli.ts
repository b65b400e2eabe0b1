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
import { ExitCode, HubRefused, LocalFileError, UsageError, exitCodeFor } from './errors.ts';
import { commandHelp, generalHelp } from './help.ts';
import { createHubClient } from './hub-client.ts';
import { PromptCancelled } from './prompt.ts';
import { refusalAdvice } from './refusal-advice.ts';
import { openSession } from './session.ts';
import type { Session } from './session.ts';
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
  let session: Session | undefined;
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
      io.stderr.write(
        `${describeError(new UsageError(`no command given; the commands are ${names}`), colorEnabled(io.env, io.stderr.isTTY))}\n`,
      );
      return ExitCode.Usage;
    }
    session = openSession({ hubUrl: line.hubUrl, hubSource: line.hubSource, envToken: line.token, env: io.env, nowMs: io.now() });
    const hub = createHubClient({
      baseUrl: line.hubUrl,
      timeoutMs: line.timeoutMs,
      signal: io.signal,
      ...(session.token !== undefined ? { token: session.token } : {}),
      ...(line.caFile !== undefined ? { ca: readCaFile(line.caFile) } : {}),
    });
    return await command.run({
      hub,
      filters: line.filters,
      json: line.json,
      options: line.commandOptions,
      ...(line.subcommand !== undefined ? { subcommand: line.subcommand } : {}),
      args: line.args,
      stdout: io.stdout,
      stderr: io.stderr,
      streams: io.streams,
      color: colorEnabled(io.env, io.stdout.isTTY),
      now: io.now,
      signal: io.signal,
      session,
    });
  } catch (error) {
    if (io.signal.aborted) return INTERRUPTED_EXIT_CODE;
    // Ctrl-C at a password prompt is a key press (the terminal is in raw mode), not a signal.
    if (error instanceof PromptCancelled) {
      io.stderr.write('\n');
      return INTERRUPTED_EXIT_CODE;
    }
    const advice = session && error instanceof HubRefused ? refusalAdvice(error, session) : undefined;
    io.stderr.write(describeError(error, colorEnabled(io.env, io.stderr.isTTY)) + '\n' + (advice ? advice + '\n' : ''));
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
