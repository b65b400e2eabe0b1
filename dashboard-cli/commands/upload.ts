/**
 * `upload FILE`: stores the rows of a CSV file through `POST /api/v1/readings` (PROTOCOL.md §2
 * "Bulk upload"). The file's bytes are streamed as they are, with backpressure; the hub parses
 * and checks them (all or nothing). `-` reads the CSV from stdin. What `history` exports (raw)
 * uploads again unchanged.
 */
import { open } from 'node:fs/promises';
import { Readable } from 'node:stream';
import { checkUploadBody } from '../api-types.ts';
import type { UploadBody } from '../api-types.ts';
import { hasFilters } from '../args.ts';
import type { CommandContext, CommandSpec } from '../command.ts';
import { describeFsError } from '../describe-error.ts';
import { ExitCode, HubBadAnswer, LocalFileError, UsageError } from '../errors.ts';
import { readText } from '../hub-stream.ts';
import { oneLine } from '../json-output.ts';
import { ProgressLine, formatBytes, formatSeconds } from '../progress.ts';
import { UPLOAD_COLUMNS_TEXT } from '../../protocol/columns.ts';

export const READINGS_PATH = '/api/v1/readings';

/** `{"accepted":N,"duplicates":D}` is tiny; anything this large is not that answer. */
const MAX_ANSWER_BYTES = 1 << 20;

interface Source {
  /** For messages: the file name, or "stdin". */
  name: string;
  stream: Readable;
  /** Known for a regular file: sent as Content-Length, and the 100% of the progress line. */
  size: number | undefined;
}

/** Opens FILE (or stdin for `-`) before anything is sent, so a missing file is a usage error (exit 2). */
async function openSource(ctx: CommandContext, file: string): Promise<Source> {
  if (file === '-') {
    if (ctx.streams.stdinIsTTY) {
      throw new UsageError('upload - reads the CSV from stdin, which is a terminal; pipe or redirect a file into it');
    }
    return { name: 'stdin', stream: ctx.streams.stdin(), size: undefined };
  }
  const cannot = (error: unknown): LocalFileError => new LocalFileError(`cannot read "${file}": ${describeFsError(error)}`);
  const handle = await open(file, 'r').catch((error: unknown) => Promise.reject(cannot(error)));
  try {
    const info = await handle.stat();
    if (info.isDirectory()) throw cannot(Object.assign(new Error('is a directory'), { code: 'EISDIR' }));
    if (!info.isFile()) return { name: file, stream: handle.createReadStream(), size: undefined };
    // Exactly the bytes stat counted, so the Content-Length holds even if the file grows meanwhile.
    const stream = info.size > 0 ? handle.createReadStream({ start: 0, end: info.size - 1 }) : Readable.from([]);
    if (info.size === 0) await handle.close();
    return { name: file, stream, size: info.size };
  } catch (error) {
    await handle.close().catch(() => undefined);
    throw error instanceof LocalFileError ? error : cannot(error);
  }
}

export const uploadCommand: CommandSpec = {
  name: 'upload',
  summary: 'store the readings of a CSV file (as history exports them)',
  args: [{ name: 'FILE', required: true }],
  details: [
    `FILE is CSV with a header row, columns in any order ${UPLOAD_COLUMNS_TEXT}.`,
    'It is sent as it is ("-" reads stdin); the hub stores all rows or, if any is invalid, none, and',
    'then every bad line is listed. Rows already stored count as duplicates, so uploading again is safe.',
    "On a terminal, stderr shows the bytes sent. --json prints the hub's answer.",
  ],
  async run(ctx) {
    if (hasFilters(ctx.filters)) throw new UsageError('upload sends the whole file; --sensor, --room and --metric do not apply to it');
    const file = ctx.args[0];
    if (file === undefined || file === '') throw new UsageError('upload needs FILE (or - for stdin)');
    const source = await openSource(ctx, file);
    const progress = new ProgressLine(ctx.stderr);
    const started = performance.now();
    let sent = 0;
    const sending = (): string =>
      `uploading ${source.name}: ${formatBytes(sent)}` +
      (source.size ? ` of ${formatBytes(source.size)} (${Math.floor((sent * 100) / source.size)}%)` : '');

    // A generator between file and socket: it counts what is sent, and marks a read failure as the
    // file's (exit 2), not the connection's. Readable.from pulls only as fast as the socket drains.
    async function* chunks(): AsyncGenerator<Buffer> {
      try {
        for await (const chunk of source.stream as AsyncIterable<Buffer>) {
          sent += chunk.length;
          progress.update(sending);
          yield chunk;
        }
      } catch (error) {
        throw new LocalFileError(`cannot read ${source.name === 'stdin' ? 'stdin' : `"${source.name}"`}: ${describeFsError(error)}`);
      }
      progress.update(() => `sent ${formatBytes(sent)} of ${source.name}; waiting for the hub to check and store it`, true);
    }

    try {
      const answer = await ctx.hub.stream({
        method: 'POST',
        path: READINGS_PATH,
        headers: { 'content-type': 'text/csv', accept: 'application/json' },
        body: Readable.from(chunks()),
        ...(source.size !== undefined ? { contentLength: source.size } : {}),
      });
      const text = await readText(answer.body, MAX_ANSWER_BYTES).catch((error: unknown) => {
        throw answer.explain(error);
      });
      const value = parseAnswer(ctx.hub.displayUrl, text);
      progress.finish(`uploaded ${source.name} (${formatBytes(sent)}) in ${formatSeconds(performance.now() - started)}`);
      ctx.stdout.write(ctx.json ? oneLine({ value, text }) + '\n' : `accepted ${value.accepted}, duplicates ${value.duplicates}\n`);
      return ExitCode.Done;
    } finally {
      progress.finish();
      source.stream.destroy();
    }
  },
};

function parseAnswer(hubUrl: string, text: string): UploadBody {
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new HubBadAnswer(hubUrl, `the hub's answer to POST ${READINGS_PATH} is not JSON`);
  }
  const checked = checkUploadBody(body);
  if (!checked.ok)
    throw new HubBadAnswer(hubUrl, `the hub's answer to POST ${READINGS_PATH} is not as the contract says: ${checked.problem}`);
  return checked.value;
}
