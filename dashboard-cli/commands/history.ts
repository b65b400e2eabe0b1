/**
 * `history`: the stored readings from `GET /api/v1/history.csv` (PROTOCOL.md §2 "History
 * export"), to a file (`--out`) or to stdout: the hub's CSV bytes unchanged when piped or to a
 * file, a table on a terminal, JSON lines with `--json` (history-view.ts). Everything is streamed
 * with backpressure, so an export of any size runs in constant memory. A file is written under a
 * temporary name beside the target and renamed when complete: a failed or interrupted download
 * never leaves a half file under the name asked for.
 */
import { randomUUID } from 'node:crypto';
import { open, rename, stat, unlink } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { Transform } from 'node:stream';
import type { Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { CommandContext, CommandSpec } from '../command.ts';
import { describeFsError } from '../describe-error.ts';
import { ExitCode, HubBadAnswer, LocalFileError, UsageError } from '../errors.ts';
import type { Query } from '../hub-client.ts';
import { ProgressLine, formatBytes, formatCount, formatRate, formatSeconds } from '../progress.ts';
import { parseDuration, parseTimeOption } from '../time-options.ts';
import { BUCKET_COLUMNS, RAW_COLUMNS } from '../../protocol/columns.ts';
import { filterQuery } from './filter-query.ts';
import { explainViewError, historyViewStages } from './history-view.ts';
import type { HistoryView } from './history-view.ts';

export const HISTORY_PATH = '/api/v1/history.csv';

const TIME_FORMATS = ['iso', 'ms'] as const;
const NEWLINE = 0x0a;

/** What the command line asks of the hub, checked: the query of §2 with every time in ms. */
export function historyQuery(ctx: Pick<CommandContext, 'filters' | 'options' | 'now'>): Query {
  const text = (name: string): string | undefined => {
    const value = ctx.options[name];
    return typeof value === 'string' ? value : undefined;
  };
  const nowMs = ctx.now();
  const fromText = text('from');
  const toText = text('to');
  const every = text('every');
  const time = text('time');
  const fromMs = fromText === undefined ? undefined : parseTimeOption('--from', fromText, nowMs);
  const toMs = toText === undefined ? undefined : parseTimeOption('--to', toText, nowMs);
  if (fromMs !== undefined && toMs !== undefined && fromMs >= toMs) {
    throw new UsageError(`--from (${new Date(fromMs).toISOString()}) must be before --to (${new Date(toMs).toISOString()})`);
  }
  if (every !== undefined) parseDuration('--every', every);
  if (time !== undefined && !(TIME_FORMATS as readonly string[]).includes(time)) {
    throw new UsageError(`--time must be iso or ms, not "${time}"`);
  }
  return {
    ...filterQuery(ctx.filters),
    from: fromMs === undefined ? undefined : String(fromMs),
    to: toMs === undefined ? undefined : String(toMs),
    every,
    time,
  };
}

/** Counts bytes and CSV lines as they pass, unchanged. Rows are lines after the header. */
class TransferCounter extends Transform {
  bytes = 0;
  private lines = 0;
  private endsWithNewline = true;

  constructor(private readonly onProgress: (counter: TransferCounter) => void) {
    super();
  }

  /**
   * Data rows so far. A line count, not a CSV parse (csv-parse would cost more time than the
   * download): exact for every column the hub writes, unless a quoted unit holds a line break.
   */
  get rows(): number {
    const lines = this.lines + (this.endsWithNewline ? 0 : 1);
    return Math.max(0, lines - 1);
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: (error?: Error | null, data?: Buffer) => void): void {
    this.bytes += chunk.length;
    for (let at = chunk.indexOf(NEWLINE); at !== -1; at = chunk.indexOf(NEWLINE, at + 1)) this.lines++;
    if (chunk.length > 0) this.endsWithNewline = chunk[chunk.length - 1] === NEWLINE;
    this.onProgress(this);
    done(null, chunk);
  }
}

function plural(n: number, one: string, many: string): string {
  return `${formatCount(n)} ${n === 1 ? one : many}`;
}

/** Where the CSV goes: a temporary file renamed into place at the end, or stdout. */
export interface Destination {
  stream: Writable;
  toStdout: boolean;
  /** For messages: the file name, or "stdout". */
  name: string;
  /** The error the destination itself raised, if any (a full disk, a closed pipe). */
  failure(): NodeJS.ErrnoException | undefined;
  /** Puts the finished file in place. */
  commit(): Promise<void>;
  /** Removes what a failed download left. */
  discard(): Promise<void>;
}

export async function fileDestination(out: string): Promise<Destination> {
  const target = await stat(out).catch(() => undefined);
  if (target?.isDirectory()) throw new LocalFileError(`cannot write "${out}": it is a directory`);
  const temp = join(dirname(out), `.${basename(out)}.${randomUUID().slice(0, 8)}.part`);
  let handle: FileHandle;
  try {
    handle = await open(temp, 'wx');
  } catch (error) {
    throw new LocalFileError(`cannot write "${out}": ${describeFsError(error)}`);
  }
  const stream = handle.createWriteStream();
  let failure: NodeJS.ErrnoException | undefined;
  stream.once('error', (error) => (failure ??= error));
  const closed = (): Promise<void> => (stream.closed ? Promise.resolve() : new Promise((resolve) => stream.once('close', () => resolve())));
  return {
    stream,
    toStdout: false,
    name: out,
    failure: () => failure,
    async commit() {
      await closed();
      try {
        await rename(temp, out);
      } catch (error) {
        throw new LocalFileError(`cannot write "${out}": ${describeFsError(error)}`);
      }
    },
    async discard() {
      stream.destroy();
      await closed();
      await unlink(temp).catch(() => undefined);
    },
  };
}

function stdoutDestination(stdout: Writable): Destination {
  let failure: NodeJS.ErrnoException | undefined;
  const onError = (error: NodeJS.ErrnoException): void => void (failure ??= error);
  stdout.on('error', onError);
  return {
    stream: stdout,
    toStdout: true,
    name: 'stdout',
    failure: () => failure,
    async commit() {
      stdout.off('error', onError);
    },
    async discard() {
      stdout.off('error', onError);
    },
  };
}

export const historyCommand: CommandSpec = {
  name: 'history',
  summary: 'stored readings: CSV to a file or a pipe, a table on a terminal, JSON lines with --json',
  details: [
    `Columns: ${RAW_COLUMNS.join(',')}; with --every: ${BUCKET_COLUMNS.join(',')}.`,
    "Piped or with --out: the hub's CSV, byte for byte. On a terminal: a table (values to 12 significant",
    'digits). --json: one JSON object per row, numbers as numbers (to stdout, or to --out).',
    'A time is ISO 8601 with a zone (2025-11-21T08:00:00Z, 2025-11-21T09:00+01:00), integer ms,',
    '"now", or relative to now (-1h, -30m, -2d, -1w); the CLI sends it as ms. A time without a zone',
    'is refused. With --out the file appears only once complete; on a terminal, stderr shows progress.',
  ],
  options: {
    from: { type: 'string', valueName: 'TIME', help: 'readings at or after TIME' },
    to: { type: 'string', valueName: 'TIME', help: 'readings before TIME' },
    every: { type: 'string', valueName: 'BUCKET', help: 'one row per bucket (10s, 5m, 1h, 1d, 1w) with count, min, max, mean' },
    time: { type: 'string', valueName: 'iso|ms', help: 'write ts as ISO 8601 UTC (default) or as ms' },
    out: { type: 'string', valueName: 'FILE', help: 'write to FILE (else stdout); it is replaced only when complete' },
  },
  async run(ctx) {
    const query = historyQuery(ctx);
    const out = typeof ctx.options.out === 'string' && ctx.options.out !== '-' ? ctx.options.out : undefined;
    if (out === '') throw new UsageError('--out needs a file name');
    // The file first: a destination that cannot be written should fail before the hub is asked.
    const destination = out === undefined ? stdoutDestination(ctx.streams.stdout) : await fileDestination(out);
    // CSV is for files and programs; a person at a terminal reads a table.
    const view: HistoryView | null = ctx.json ? 'json' : out === undefined && ctx.stdout.isTTY ? 'table' : null;
    // Progress only where a person watches stderr, and never over CSV going to the same terminal.
    const showProgress = ctx.stderr.isTTY && (out !== undefined || !ctx.stdout.isTTY);
    const progress = new ProgressLine({ write: (text) => ctx.stderr.write(text), isTTY: showProgress });
    let done = false;
    try {
      const started = performance.now();
      const counted = await download(ctx, query, destination, progress, started, view);
      await destination.commit();
      done = true;
      if (counted) {
        const { rows, bytes } = counted;
        const took = formatSeconds(performance.now() - started);
        progress.finish(`wrote ${plural(rows, 'row', 'rows')} (${formatBytes(bytes)}) to ${destination.name} in ${took}`);
      }
    } finally {
      if (!done) {
        progress.finish();
        await destination.discard();
      }
    }
    return ExitCode.Done;
  },
};

/** Streams the export into the destination; the counts at the end, or null when stdout's reader left early. */
async function download(
  ctx: CommandContext,
  query: Query,
  destination: Destination,
  progress: ProgressLine,
  started: number,
  view: HistoryView | null,
): Promise<{ rows: number; bytes: number } | null> {
  const answer = await ctx.hub.stream({ method: 'GET', path: HISTORY_PATH, query, headers: { accept: 'text/csv' } });
  const type = answer.headers['content-type'] ?? '';
  if (!/^text\/csv\b/i.test(type)) {
    answer.discard();
    throw new HubBadAnswer(ctx.hub.displayUrl, `the hub's answer to GET ${HISTORY_PATH} is not CSV (Content-Type: ${type || 'none'})`);
  }
  const counter = new TransferCounter((c) =>
    progress.update(
      () => `history: ${plural(c.rows, 'row', 'rows')}, ${formatBytes(c.bytes)}, ${formatRate(c.bytes, performance.now() - started)}`,
    ),
  );
  const stages = view === null ? [] : historyViewStages(view, ctx.color);
  try {
    await pipeline([answer.body, counter, ...stages, destination.stream], { end: !destination.toStdout });
  } catch (error) {
    const failure = destination.failure();
    if (failure) {
      // A reader that went away (`| head`) has all it wanted.
      if (destination.toStdout && failure.code === 'EPIPE') return null;
      throw new LocalFileError(`cannot write ${destination.toStdout ? 'to stdout' : `"${destination.name}"`}: ${describeFsError(failure)}`);
    }
    throw answer.explain(explainViewError(error, ctx.hub.displayUrl));
  }
  return { rows: counter.rows, bytes: counter.bytes };
}
