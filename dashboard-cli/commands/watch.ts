/**
 * `watch`: live readings from the hub's WebSocket `GET /api/v1/stream` (PROTOCOL.md §2 "Live
 * stream"): first the newest stored ones (`--replay N`), then each new one as it is stored, one
 * line each, until Ctrl-C or `--count N`. `--json` prints every message as received, and marks
 * the end of each replay with `{"type":"replay_end","replayed":N}` (watch-output.ts).
 *
 * Ending: Ctrl-C or --count close the socket cleanly (1000) and exit 0. A hub that goes away
 * once the stream is running (a restart, a lost connection) is waited for: the CLI connects
 * again with backoff, saying so on stderr, and the replay of the new subscription fills the gap
 * without showing a reading twice. A hub that refuses (1013 for a client too slow, 1008, an HTTP
 * status) exits 1; no connection at all at the start exits 3.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { parseIntegerOption } from '../args.ts';
import type { CommandContext, CommandSpec } from '../command.ts';
import { ExitCode, HubRefused, HubUnreachable } from '../errors.ts';
import { FILTER_NAMES } from '../../protocol/filters.ts';
import type { SubscribeMessage } from '../../protocol/api.ts';
import { WatchOutput } from './watch-output.ts';
import { streamSession } from './watch-session.ts';

export { ReadingLines } from './watch-output.ts';
export { STREAM_PATH } from './watch-session.ts';

export const watchDefaults = {
  replay: 10,
  /** §2: the hub takes more than 1000 as 1000, so the CLI refuses it rather than pretend. */
  maxReplay: 1000,
  /** Waits between attempts to reach a hub that went away: doubling from the first, at most the last. */
  reconnectInitialMs: 500,
  reconnectMaxMs: 10_000,
} as const;

/** The subscribe message: only the filters given (an empty list would match nothing), and the replay. */
export function subscribeMessage(ctx: Pick<CommandContext, 'filters'>, replay: number): SubscribeMessage {
  const message: SubscribeMessage = { type: 'subscribe' };
  for (const name of FILTER_NAMES) if (ctx.filters[name].length > 0) message[name] = ctx.filters[name];
  message.replay = replay;
  return message;
}

/** The wait before reconnect attempt `attempt + 1`: exponential, between half and all of its ceiling (never 0: no busy loop). */
export function reconnectDelayMs(attempt: number, random: () => number): number {
  const ceiling = Math.min(watchDefaults.reconnectMaxMs, watchDefaults.reconnectInitialMs * 2 ** Math.min(attempt, 20));
  return Math.round(ceiling * (0.5 + random() / 2));
}

export const watchCommand: CommandSpec = {
  name: 'watch',
  summary: 'live readings as they arrive, after the newest stored ones',
  details: [
    'Each reading is a line: local time (ISO 8601 with ms), room, sensor, metric, value and unit; on a',
    'terminal a line marks where the stored readings end and live ones begin.',
    'Ctrl-C or --count ends it with exit 0. If the hub drops readings because this output is read too',
    'slowly, stderr says how many; if it closes the stream for that (1013), the exit code is 1.',
    'If the hub goes away (a restart, a lost connection), watch connects again with backoff and says so',
    'on stderr; readings stored meanwhile are replayed (up to 1000), none shown twice.',
    '--json prints each message of the stream as received, one JSON object per line, and after each',
    'replay {"type":"replay_end","replayed":N}.',
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

async function watch(ctx: CommandContext, subscribe: SubscribeMessage, count: number | undefined): Promise<ExitCode> {
  const output = new WatchOutput(ctx, count);
  let attempt = 0;
  for (;;) {
    const before = output.subscriptions;
    // After an outage, the replay fills the gap: as much as the hub gives, what was shown being skipped.
    const message = before === 0 ? subscribe : { ...subscribe, replay: watchDefaults.maxReplay };
    let reason: string;
    try {
      const end = await streamSession(ctx, message, (text, control) => output.onText(text, control));
      if (end.kind === 'ended') return ExitCode.Done;
      // No stream yet at all: a wrong URL or a hub not started is for the user to fix now (exit 3).
      if (output.subscriptions === 0) throw end.error;
      reason = end.error instanceof HubUnreachable ? end.error.reason : end.error.message;
    } catch (err) {
      // A restarting hub listens before its store is open and answers 503 "starting" meanwhile:
      // after a stream has run, that is part of the outage, not a refusal to give up on.
      if (!(output.subscriptions > 0 && err instanceof HubRefused && err.status === 503)) throw err;
      reason = err.message;
    }
    if (output.subscriptions > before) attempt = 0;
    const delayMs = reconnectDelayMs(attempt, Math.random);
    const wait = `${(delayMs / 1000).toFixed(1)} s`;
    ctx.stderr.write(
      attempt === 0
        ? `roomwatch: lost the stream from ${ctx.hub.displayUrl} (${reason}); reconnecting in ${wait} (Ctrl-C to stop)\n`
        : `roomwatch: still no stream from ${ctx.hub.displayUrl} (${reason}); next try in ${wait}\n`,
    );
    attempt++;
    try {
      await sleep(delayMs, undefined, { signal: ctx.signal });
    } catch {
      return ExitCode.Done; // Ctrl-C while waiting: the normal way to stop watching
    }
  }
}
