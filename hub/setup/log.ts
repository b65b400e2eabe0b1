/**
 * The hub's logs (docs/ADMIN.md, "Logs"). One pino logger writes to two places through one
 * transport, whose worker thread does the formatting and the writing off the main thread:
 *
 * - stdout: JSON lines when piped (for machines and tests), pretty on a terminal;
 * - a file of JSON lines (default `<data>/logs/roomwatch.log`), rotated daily by pino-roll
 *   into `roomwatch.YYYY-MM-DD.N.log`, keeping the current file and the 14 before it.
 *
 * Secrets never reach either: known paths are redacted, and every line is scrubbed of
 * bearer tokens and token/password fields quoted inside text before it is written.
 */
import pino, { type Logger, type LoggerOptions } from 'pino';
import { dirname } from 'node:path';
import type { IncomingMessage } from 'node:http';
import { makePrivateFolder, PRIVATE_FILE_MODE } from './data-folder.ts';
import type { LogLevel } from './options.ts';

export interface HubLogOptions {
  level: LogLevel;
  /** JSON lines rotated daily; null: no file */
  file: string | null;
  /** pretty lines on stdout instead of JSON; default: whether stdout is a terminal */
  pretty?: boolean;
}

export interface HubLog {
  readonly log: Logger;
  /** Writes out what is buffered, ends the worker, and drops later log calls. */
  close(): Promise<void>;
}

/** Rotated files kept besides the current one: two weeks of daily files. */
export const LOG_FILES_KEPT = 14;
const CLOSE_TIMEOUT_MS = 5_000;
const CENSOR = '[redacted]';

/**
 * Every place an object logged by the hub, fastify or a future log call can carry a secret.
 * `*.token` covers `hello.token`, `msg.token` and the like; they are listed for the reader.
 */
export const REDACTED_PATHS = [
  'token',
  '*.token',
  'hello.token',
  'msg.token',
  'password',
  '*.password',
  'authorization',
  'headers.authorization',
  'req.headers.authorization',
  '*.headers.authorization',
  'headers.cookie',
  'req.headers.cookie',
  '*.headers.cookie',
];

// A secret inside text (an error message quoting a sensor line, a URL, a header dump) is out
// of reach of the paths above; these catch the shapes we know. Logging is rare, so a few
// regular expressions per written line cost nothing that matters.
const SECRET_KEYS = 'token|access_token|password|authorization|secret';
const secretInText: [RegExp, string][] = [
  // "Authorization: Bearer abc", "Basic abc"
  [/\b(Bearer|Basic)(\s+)[^\s"\\,;]+/gi, `$1$2${CENSOR}`],
  // {"token":"abc"} as JSON in the line, or as JSON quoted inside a string of it ({\"token\":\"abc\"})
  [new RegExp(`("(?:${SECRET_KEYS})"\\s*:\\s*")(?:[^"\\\\]|\\\\.)*"`, 'gi'), `$1${CENSOR}"`],
  [new RegExp(`(\\\\"(?:${SECRET_KEYS})\\\\"\\s*:\\s*\\\\")(?:[^"\\\\]|\\\\[^"])*\\\\"`, 'gi'), `$1${CENSOR}\\"`],
  // ?token=abc in a URL
  [new RegExp(`([?&](?:${SECRET_KEYS})=)[^&#\\s"\\\\]*`, 'gi'), `$1${CENSOR}`],
];

/** The last line of defence: a serialized log line with every secret in text censored. */
export function scrubSecrets(line: string): string {
  for (const [pattern, replacement] of secretInText) line = line.replace(pattern, replacement);
  return line;
}

const serializers = {
  // A malformed HTTP request's parser error carries the raw bytes of its head (rawPacket),
  // Authorization header included: never log them.
  err(err: Error): Record<string, unknown> {
    const out = pino.stdSerializers.err(err) as unknown as Record<string, unknown>;
    delete out.rawPacket;
    return out;
  },
  // Fastify's own request serializer, minus the query string's secrets; never the headers.
  req(req: IncomingMessage & { ip?: string; host?: string }): Record<string, unknown> {
    return {
      method: req.method,
      url: typeof req.url === 'string' ? scrubSecrets(req.url) : req.url,
      host: req.host,
      remoteAddress: req.ip ?? req.socket?.remoteAddress,
      remotePort: req.socket?.remotePort,
    };
  },
};

/** pino options shared by every hub logger: redaction, safe serializers, the scrub. */
export const safeLoggerOptions = {
  base: undefined,
  redact: { paths: REDACTED_PATHS, censor: CENSOR },
  serializers,
  hooks: { streamWrite: scrubSecrets },
} satisfies LoggerOptions;

const LEVEL_VALUES: Record<Exclude<LogLevel, 'silent'>, number> = { trace: 10, debug: 20, info: 30, warn: 40, error: 50, fatal: 60 };

export function openHubLog({ level, file, pretty = Boolean(process.stdout.isTTY) }: HubLogOptions): HubLog {
  // Silent (in-process tests): no worker, no file.
  if (level === 'silent') return { log: pino({ ...safeLoggerOptions, level }), close: async () => {} };

  // Fail at start, naming the folder and why, rather than in the worker once the hub runs.
  // Logs name users, addresses and sensors: for the hub's user only, like the database.
  if (file !== null) {
    const otherwise = 'or give the hub another folder with --data, or another log file with --log-file (none: no file)';
    makePrivateFolder(dirname(file), 'the folder of the log file', otherwise);
  }

  // stdout also takes the info lines of announcer() below when the level is warn or above.
  const stdoutLevel = LEVEL_VALUES[level] > LEVEL_VALUES.info ? 'info' : level;
  const targets: pino.TransportTargetOptions[] = [
    pretty
      ? {
          target: 'pino-pretty',
          level: stdoutLevel,
          options: { destination: 1, colorize: !process.env.NO_COLOR, translateTime: 'SYS:HH:MM:ss.l', ignore: 'pid,hostname' },
        }
      : { target: 'pino/file', level: stdoutLevel, options: { destination: 1 } },
  ];
  if (file !== null) {
    targets.push({
      target: 'pino-roll',
      level,
      options: {
        file,
        frequency: 'daily',
        dateFormat: 'yyyy-MM-dd',
        // also files of earlier runs, so restarts do not defeat the limit
        limit: { count: LOG_FILES_KEPT, removeOtherLogFiles: true },
        mkdir: true,
        mode: PRIVATE_FILE_MODE, // also when the hub runs in-process, without main.ts's umask
      },
    });
  }
  const transport = pino.transport({ targets });
  let closed = false;
  let workerGone = false;
  transport.once('close', () => (workerGone = true));
  // A broken destination must not take the hub down (an 'error' without a listener would).
  transport.on('error', (err: Error) => {
    if (!closed) process.stderr.write(`roomwatch hub: logging failed: ${err.message}\n`);
  });
  const log = pino({ ...safeLoggerOptions, level }, transport);

  let closing: Promise<void> | undefined;
  return {
    log,
    close: () =>
      (closing ??= new Promise<void>((resolve) => {
        log.level = 'silent'; // a late log call must not write to an ended stream
        closed = true;
        const timer = setTimeout(done, CLOSE_TIMEOUT_MS); // a stuck destination must not hold stop()
        function done(): void {
          clearTimeout(timer);
          resolve();
        }
        if (workerGone) return done();
        transport.once('close', done);
        transport.end();
      })),
  };
}

/**
 * The logger for the "hub listening" line, which tools and tests read their ports from: it is
 * written at info even when the level is warn or above (to stdout; the file keeps to the
 * level), and not at all when silent.
 */
export function announcer(log: Logger): Logger {
  return log.isLevelEnabled('info') || log.level === 'silent' ? log : log.child({}, { level: 'info' });
}
