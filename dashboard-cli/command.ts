/**
 * What a CLI command is. Commands live in a table (command-table.ts); the entry parses the
 * command line against it, so a new command is one module with one of these plus a line in
 * the table.
 */
import type { Readable, Writable } from 'node:stream';
import type { Filters } from './args.ts';
import type { ExitCode } from './errors.ts';
import type { HubClient } from './hub-client.ts';
import type { Output } from './terminal.ts';

export interface OptionSpec {
  type: 'string' | 'boolean';
  short?: string;
  /** Shown for the value in help: `--refresh MS`. */
  valueName?: string;
  help: string;
}

export interface ArgSpec {
  /** Shown in help: `upload FILE`. */
  name: string;
  required: boolean;
}

/** The process's byte streams, for commands that move data with backpressure (history, `upload -`). */
export interface ByteStreams {
  /** Opened only when asked for: a process that never reads stdin should not touch it. */
  stdin(): Readable;
  readonly stdinIsTTY: boolean;
  /** Where `stdout` (the Output) writes, as a stream; the command must not end it. */
  readonly stdout: Writable;
}

export interface CommandContext {
  hub: HubClient;
  filters: Filters;
  json: boolean;
  /** This command's own options as given: a string, or true for a flag. */
  options: Readonly<Record<string, string | boolean>>;
  /** The arguments after the command name, as declared in `args`. */
  args: readonly string[];
  stdout: Output;
  stderr: Output;
  streams: ByteStreams;
  /** Colour allowed on stdout. */
  color: boolean;
  /** The local clock, injected so ages can be tested. */
  now: () => number;
  /** Aborted on Ctrl-C: a command that loops ends cleanly. */
  signal: AbortSignal;
}

export interface CommandSpec {
  name: string;
  /** One line for the command list in help. */
  summary: string;
  /** Further lines for `help <command>`. */
  details?: readonly string[];
  args?: readonly ArgSpec[];
  /** Options only this command takes; they may stand anywhere on the line, like global ones. */
  options?: Readonly<Record<string, OptionSpec>>;
  /** Checks its own options first (UsageError), then talks to the hub. */
  run(ctx: CommandContext): Promise<ExitCode>;
}
