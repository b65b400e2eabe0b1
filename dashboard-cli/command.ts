/**
 * What a CLI command is. Commands live in a table (command-table.ts); the entry parses the
 * command line against it, so a new command is one module with one of these plus a line in
 * the table.
 */
import type { Readable, Writable } from 'node:stream';
import type { Filters } from './args.ts';
import type { ExitCode } from './errors.ts';
import type { HubClient } from './hub-client.ts';
import type { Session } from './session.ts';
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

/** One verb of a command that has several (`users add`, `tokens revoke`): the first argument after the command. */
export interface SubcommandSpec {
  name: string;
  /** One line for help. */
  summary: string;
  args?: readonly ArgSpec[];
  /** Shown in help after the arguments: `--role ROLE --room ROOM[,ROOM...]`. */
  synopsis?: string;
  /** Which of the command's own options and filter flags this subcommand takes; any other is a usage error. */
  options?: readonly string[];
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
  /** For a command with subcommands: the one given (checked against the command's list). */
  subcommand?: string;
  /** The arguments after the command name (after the subcommand, for a command that has them), as declared. */
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
  /** The token sent to this hub, where it came from, and the store of logins (login, logout). */
  session: Session;
}

export interface CommandSpec {
  name: string;
  /** One line for the command list in help. */
  summary: string;
  /** Further lines for `help <command>`. */
  details?: readonly string[];
  args?: readonly ArgSpec[];
  /** Verbs (`users list`, `users add NAME`): the first argument names one; `args` is then unused. */
  subcommands?: readonly SubcommandSpec[];
  /** The subcommand taken when none is given (`alerts` is `alerts list`); absent: one is required. */
  defaultSubcommand?: string;
  /**
   * Options this command takes; they may stand anywhere on the line, like global ones. Two
   * commands may share a name (`--password-stdin`) when it is the same kind of option.
   */
  options?: Readonly<Record<string, OptionSpec>>;
  /**
   * What the global `--sensor`, `--room` and `--metric` mean here. Absent: the contract's reading
   * filters, checked against §1's name rules. `false`: none applies (a usage error). An object:
   * the flags it names are this command's own lists, split on commas like filters but checked by
   * the command (`users add --room a,b`, `tokens create --sensor 'rack*' --room '*'`), described
   * in help by these specs; the flags it does not name do not apply.
   */
  filterFlags?: false | Readonly<Partial<Record<keyof Filters, OptionSpec>>>;
  /** Checks its own options first (UsageError), then talks to the hub. */
  run(ctx: CommandContext): Promise<ExitCode>;
}
