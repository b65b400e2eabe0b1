/**
 * `watch`: live readings from the hub's WebSocket `GET /api/v1/stream` (PROTOCOL.md §2 "Live
 * stream"): first the newest stored ones (`--replay N`), then each new one as it is stored, one
 * line each, until Ctrl-C or `--count N`. `--json` prints every message exactly as received.
 *
 * Ending: Ctrl-C or --count close the socket cleanly (1000) and exit 0. The hub closing it is
 * an error: 1013 (this client read too slowly) and other deliberate closes exit 1, a hub or
 * connection that went away exits 3, as does no connection at all.
 */
import { WebSocket } from 'ws';
import type { RawData } from 'ws';
import { NOT_JSON, parseStreamMessage } from '../api-types.ts';
import type { Reading } from '../api-types.ts';
import { parseIntegerOption } from '../args.ts';
import type { CommandContext, CommandSpec } from '../command.ts';
import { isApiErrorCode, statusOfCode } from '../../protocol/api-errors.ts';
import { ExitCode, HubRefused, HubUnreachable, StreamClosed } from '../errors.ts';
import { formatLocalIso, formatValue, printable } from '../format.ts';
import { connectionFailure, refusal } from '../hub-failures.ts';
import { readText } from '../hub-stream.ts';
import { bold } from '../terminal.ts';
import { FILTER_NAMES } from '../../protocol/filters.ts';
import type { SubscribeMessage } from '../../protocol/api.ts';

export const STREAM_PATH = '/api/v1/stream';

export const watchDefaults = {
  replay: 10,
  /** §2: the hub takes more than 1000 as 1000, so the CLI refuses it rather than pretend. */
  maxReplay: 1000,
  /** A hub that stops answering pings is gone, even if no TCP reset ever arrives. */
  heartbeatMs: 30_000,
  /** After our close frame, how long the hub's answering one may take before the socket is cut. */
  closeWaitMs: 2000,
  /** Bad messages worth a warning each; after that they are skipped in silence. */
  maxWarnings: 10,
} as const;

/** by WebSocket close code */
const CLOSE_REASONS: ReadonlyMap<number, string> = new Map([
  [1000, 'normal closure'],
  [1001, 'the hub is going away'],
  [1005, 'no close code given; the hub may have stopped'],
  [1006, 'the connection was lost'],
  [1008, 'policy violation'],
  [1011, 'the hub failed internally'],
  [1012, 'the hub is restarting'],
  [1013, 'this client reads too slowly; try again later'],
]);

/** One reading as a line: local time with ms, room, sensor, metric, value and unit, in columns that only widen. */
export class ReadingLines {
  /** Minimum widths of room, sensor, metric, value: a typical home lines up from the first line. */
  private readonly widths = [11, 14, 11, 7];

  format(r: Reading): string {
    const cells = [printable(r.room), printable(r.sensor), printable(r.metric), formatValue(r.value)];
    cells.forEach((cell, i) => (this.widths[i] = Math.max(this.widths[i] ?? 0, [...cell].length)));
    const pad = (i: number): string => cells[i] + ' '.repeat((this.widths[i] ?? 0) - [...(cells[i] ?? '')].length);
    const value = ' '.repeat((this.widths[3] ?? 0) - [...(cells[3] ?? '')].length) + cells[3];
    return `${formatLocalIso(r.ts)}  ${pad(0)}  ${pad(1)}  ${pad(2)}  ${value} ${printable(r.unit)}`.trimEnd();
  }
}

/** The subscribe message: only the filters given (an empty list would match nothing), and the replay. */
export function subscribeMessage(ctx: Pick<CommandContext, 'filters'>, replay: number): SubscribeMessage {
  const message: SubscribeMessage = { type: 'subscribe' };
  for (const name of FILTER_NAMES) if (ctx.filters[name].length > 0) message[name] = ctx.filters[name];
  message.replay = replay;
  return message;
}

export const watchCommand: CommandSpec = {
  name: 'watch',
  summary: 'live readings as they arrive, after the newest stored ones',
  details: [
    'Each reading is a line: local time (ISO 8601 with ms), room, sensor, metric, value and unit.',
    'Ctrl-C or --count ends it with exit 0. If the hub drops readings because this output is read too',
    'slowly, stderr says how many; if it closes the stream for that (1013), the exit code is 1.',
    '--json prints each message of the stream as received, one JSON object per line.',
  ],
  options: {
    replay: {
      type: 'string',
      valueName: 'N',
      help: `first show the newest N stored readings, 0 to ${watchDefaults.maxReplay} (default ${watchDefaults.replay})`,
    },
    count: { type: 'string', valueName: 'N', help: 'exit 0 after N readings (replayed ones included)' },
  },
  async run(ctx) {
    const replayText = ctx.options.replay;
    const countText = ctx.options.count;
    const replay =
      typeof replayText === 'string' ? parseIntegerOption('--replay', replayText, 0, watchDefaults.maxReplay) : watchDefaults.replay;
    const count = typeof countText === 'string' ? parseIntegerOption('--count', countText, 1, Number.MAX_SAFE_INTEGER) : undefined;
    if (ctx.signal.aborted) return ExitCode.Done;
    return watch(ctx, subscribeMessage(ctx, replay), count);
  },
};

function watch(ctx: CommandContext, subscribe: Record<string, unknown>, count: number | undefined): Promise<ExitCode> {
  const { url, headers, ca } = ctx.hub.websocketTarget(STREAM_PATH);
  const timeoutMs = ctx.hub.timeoutMs;
  const lines = new ReadingLines();
  let readings = 0;
  let warnings = 0;
  /** Set when the CLI itself ends the stream (Ctrl-C, --count): the close that follows is success. */
  let endedByUs = false;
  /** The first failure seen; the close that always follows reports it. */
  let failure: Error | undefined;
  let closeTimer: NodeJS.Timeout | undefined;
  let heartbeat: NodeJS.Timeout | undefined;
  let awaitingPong = false;

  // wss: the hub's certificate is verified (ws keeps tls's rejectUnauthorized default), against `ca` when given.
  const ws = new WebSocket(url, { headers, handshakeTimeout: timeoutMs, ...(ca ? { ca } : {}) });

  const warn = (text: string): void => {
    if (++warnings > watchDefaults.maxWarnings) return;
    const more = warnings === watchDefaults.maxWarnings ? ' (further bad messages are skipped without a word)' : '';
    ctx.stderr.write(`roomwatch: skipped a message from the hub: ${printable(text)}${more}\n`);
  };

  const end = (): void => {
    if (endedByUs) return;
    endedByUs = true;
    if (ws.readyState === WebSocket.CONNECTING) {
      ws.terminate();
      return;
    }
    ws.close(1000);
    // A hub that does not answer our close frame must not hold the exit up.
    closeTimer = setTimeout(() => ws.terminate(), watchDefaults.closeWaitMs);
  };

  const onAbort = (): void => end();
  ctx.signal.addEventListener('abort', onAbort, { once: true });

  ws.on('unexpected-response', (_request, response) => {
    // Not an upgrade: the hub (or a proxy) answered with an HTTP status and, usually, an error body.
    const status = response.statusCode ?? 0;
    void readText(response, 1 << 20)
      .then(
        (text) => refusal(status, response.statusMessage ?? '', text, response.headers),
        () => refusal(status, response.statusMessage ?? '', '', response.headers),
      )
      .then((refused) => {
        failure ??= refused;
        ws.terminate();
      });
  });

  ws.on('error', (error) => {
    if (failure !== undefined || endedByUs) return;
    failure = /handshake has timed out/i.test(error.message)
      ? new HubUnreachable(ctx.hub.displayUrl, `no answer within ${timeoutMs} ms`, { cause: error })
      : connectionFailure(ctx.hub.displayUrl, error, { ca: ca !== undefined, secure: url.protocol === 'wss:' });
  });

  ws.on('open', () => {
    ws.send(JSON.stringify(subscribe));
    heartbeat = setInterval(() => {
      if (awaitingPong) {
        failure ??= new HubUnreachable(ctx.hub.displayUrl, `no answer to a ping within ${watchDefaults.heartbeatMs} ms`);
        ws.terminate();
        return;
      }
      awaitingPong = true;
      ws.ping();
    }, watchDefaults.heartbeatMs);
  });
  ws.on('pong', () => (awaitingPong = false));

  ws.on('message', (data: RawData) => {
    if (endedByUs) return;
    const text = rawText(data);
    const parsed = parseStreamMessage(text);
    // --json: every JSON message as received, even one this CLI cannot use; re-serialized only
    // if the hub spread one message over several lines.
    if (ctx.json && (parsed.ok || parsed.problem !== NOT_JSON)) {
      ctx.stdout.write((text.includes('\n') ? JSON.stringify(JSON.parse(text)) : text) + '\n');
    }
    if (!parsed.ok) return warn(`${parsed.problem}: ${text.slice(0, 200)}`);
    const message = parsed.value;
    switch (message.type) {
      case 'subscribed':
        if (!ctx.json && ctx.stdout.isTTY) {
          const header = `watching ${ctx.hub.displayUrl}: ${message.replayed} stored readings, then live ones (Ctrl-C to stop)`;
          ctx.stdout.write(bold(header, ctx.color) + '\n');
        }
        return;
      case 'reading':
        if (!ctx.json) ctx.stdout.write(lines.format(message) + '\n');
        if (count !== undefined && ++readings >= count) end();
        return;
      case 'dropped': {
        const who = ctx.stdout.isTTY ? 'this terminal is reading too slowly' : 'the reader of this output is too slow';
        ctx.stderr.write(`roomwatch: hub dropped ${message.count} ${message.count === 1 ? 'reading' : 'readings'}: ${who}\n`);
        return;
      }
      case 'error':
        // The close (1008) that follows reports it, as the hub's refusal: `hub refused (403 forbidden_room): ...`.
        failure ??= streamRefusal(message.code, message.message);
        return;
      case 'other':
        return; // a newer hub's message: shown with --json, nothing to say in the table
    }
  });

  return new Promise<ExitCode>((resolve, reject) => {
    ws.on('close', (code: number, reasonBuffer: Buffer) => {
      clearTimeout(closeTimer);
      clearInterval(heartbeat);
      ctx.signal.removeEventListener('abort', onAbort);
      if (failure !== undefined) return reject(failure);
      if (endedByUs) return resolve(ExitCode.Done);
      const reason = [CLOSE_REASONS.get(code), printable(reasonBuffer.toString('utf8'))].filter(Boolean).join(': ');
      reject(new StreamClosed(code, reason || 'no reason given'));
    });
  });
}

/**
 * A stream error as the refusal it stands for: its code when a number, else the status the
 * registry gives the contract's code (400 for a code this CLI does not know, a newer hub's).
 */
function streamRefusal(code: string | number, message: string): HubRefused {
  if (typeof code === 'number') return new HubRefused(code, undefined, message);
  return new HubRefused(isApiErrorCode(code) ? statusOfCode(code) : 400, code, message);
}

function rawText(data: RawData): string {
  if (Buffer.isBuffer(data)) return data.toString('utf8');
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.from(data).toString('utf8');
}
