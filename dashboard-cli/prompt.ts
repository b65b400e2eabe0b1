/**
 * Asking the user for a name or a password (`login`, `users add`): on a terminal, a password is
 * typed without echo; without one, `--password-stdin` gives it as the first line of stdin, so a
 * password never has to stand on the command line (where `ps` and the shell history see it).
 *
 * On a terminal, node:readline edits the line (backspace, Ctrl-U) in raw mode and echoes what is
 * typed through its output stream; that stream is muted while a password is typed. Questions go
 * to stderr, so stdout stays what the command prints (`login --json | jq`).
 */
import { createInterface } from 'node:readline';
import type { Interface } from 'node:readline';
import { StringDecoder } from 'node:string_decoder';
import { Writable } from 'node:stream';
import type { Readable } from 'node:stream';
import type { CommandContext } from './command.ts';
import { UsageError } from './errors.ts';
import type { Output } from './terminal.ts';

/** Ctrl-C or end of input at a question: the command stops, as after Ctrl-C anywhere (exit 130). */
export class PromptCancelled extends Error {
  override readonly name = 'PromptCancelled';
}

/** A password on stdin is one line; a longer "line" is a wrong file, not a password. */
const MAX_STDIN_LINE_CHARS = 64 * 1024;

/** Questions on a terminal, answered one line each; lines typed ahead are kept for the next question. */
export class TerminalPrompter {
  /**
   * Echo is on only while a visible question waits: what is typed ahead of a question (maybe a
   * password, typed before its prompt appeared) is not shown.
   */
  private muted = true;
  private readonly typedAhead: string[] = [];
  private waiter: { resolve: (line: string) => void; reject: (error: Error) => void } | undefined;
  private ended: Error | undefined;
  private readonly rl: Interface;
  private readonly onAbort: () => void;

  constructor(
    input: Readable,
    private readonly out: Output,
    private readonly signal: AbortSignal,
  ) {
    const echo = new Writable({
      write: (chunk: Buffer | string, _encoding, done) => {
        if (!this.muted) out.write(String(chunk));
        done();
      },
    });
    // historySize 0: a password must not be one arrow key away.
    this.rl = createInterface({ input, output: echo, terminal: true, historySize: 0 });
    this.rl.on('line', (line: string) => {
      // Synchronously, before readline handles the next key of the same chunk.
      this.muted = true;
      const waiter = this.waiter;
      this.waiter = undefined;
      if (waiter) waiter.resolve(line);
      else this.typedAhead.push(line);
    });
    // In raw mode Ctrl-C is a key, not SIGINT: readline reports it here.
    this.rl.on('SIGINT', () => this.fail(new PromptCancelled('cancelled')));
    this.rl.on('close', () => this.fail(new PromptCancelled('the input ended before an answer')));
    // abort() without a reason of its own gives an AbortError; any other reason is a cancel too.
    this.onAbort = () => this.fail(signal.reason instanceof Error ? signal.reason : new PromptCancelled('cancelled'));
    signal.addEventListener('abort', this.onAbort, { once: true });
  }

  private fail(error: Error): void {
    this.ended ??= error;
    const waiter = this.waiter;
    this.waiter = undefined;
    waiter?.reject(this.ended);
  }

  async ask(question: string, options: { hidden: boolean }): Promise<string> {
    const ahead = this.typedAhead.shift();
    if (options.hidden) {
      // Written here, not as readline's prompt, whose redraws (after a backspace) are muted too.
      this.rl.setPrompt('');
      this.out.write(question);
    } else {
      this.rl.setPrompt(question);
      this.muted = ahead !== undefined;
      this.rl.prompt();
      if (ahead !== undefined) this.out.write(question + ahead + '\n');
    }
    try {
      if (ahead !== undefined) return ahead;
      if (this.ended !== undefined) throw this.ended;
      return await new Promise<string>((resolve, reject) => (this.waiter = { resolve, reject }));
    } finally {
      this.muted = true;
      // The Enter that ended a password was not echoed either.
      if (options.hidden) this.out.write('\n');
    }
  }

  /** Gives the terminal back (raw mode off) and stops reading it. */
  close(): void {
    this.signal.removeEventListener('abort', this.onAbort);
    this.ended ??= new PromptCancelled('closed');
    this.rl.close();
  }
}

/** The first line of `stream` without its line end (`\n` or `\r\n`); the rest is not read. */
export async function readFirstLine(stream: Readable): Promise<string> {
  const decoder = new StringDecoder('utf8');
  let text = '';
  let complete = false;
  for await (const chunk of stream as AsyncIterable<Buffer | string>) {
    text += typeof chunk === 'string' ? chunk : decoder.write(chunk);
    const end = text.indexOf('\n');
    if (end >= 0) {
      text = text.slice(0, end);
      complete = true;
      break;
    }
    if (text.length > MAX_STDIN_LINE_CHARS) throw new UsageError('the first line of stdin is over 64 KiB long: that is no password');
  }
  if (!complete) text += decoder.end();
  return text.replace(/\r$/, '');
}

export interface PasswordOptions {
  /** `--password-stdin` was given. */
  fromStdin: boolean;
  /** On a terminal: ask a second time, and the two must match (a new password). */
  confirm: boolean;
  /** Refused before anything is sent (docs/ADMIN.md: at least 8 characters). */
  minChars?: number;
}

/** What a command asks the user, from the terminal or stdin; `close()` when done. */
export class UserInput {
  private prompter: TerminalPrompter | undefined;

  constructor(private readonly ctx: Pick<CommandContext, 'streams' | 'stderr' | 'signal'>) {}

  get onTerminal(): boolean {
    return this.ctx.streams.stdinIsTTY;
  }

  private terminal(): TerminalPrompter {
    this.prompter ??= new TerminalPrompter(this.ctx.streams.stdin(), this.ctx.stderr, this.ctx.signal);
    return this.prompter;
  }

  /** A line typed with echo (a user name); only on a terminal. */
  async line(question: string): Promise<string> {
    return (await this.terminal().ask(question, { hidden: false })).trim();
  }

  /**
   * A password: with `--password-stdin`, the first line of stdin; on a terminal it is asked
   * without echo instead (with or without the flag), since what is typed there would show.
   */
  async password(question: string, options: PasswordOptions): Promise<string> {
    const check = (password: string, where: string): string => {
      if (password === '') throw new UsageError(`no password given${where}`);
      const chars = [...password].length;
      if (options.minChars !== undefined && chars < options.minChars) {
        throw new UsageError(`a password needs at least ${options.minChars} characters, not ${chars}${where}`);
      }
      return password;
    };
    if (!this.onTerminal) {
      if (!options.fromStdin)
        throw new UsageError('there is no terminal to ask for the password on: give it on stdin with --password-stdin');
      return check(await readFirstLine(this.ctx.streams.stdin()), ' (the first line of stdin)');
    }
    const password = check(await this.terminal().ask(question, { hidden: true }), '');
    if (options.confirm && (await this.terminal().ask('the same password again: ', { hidden: true })) !== password) {
      throw new UsageError('the two passwords differ; nothing was sent');
    }
    return password;
  }

  close(): void {
    this.prompter?.close();
  }
}
