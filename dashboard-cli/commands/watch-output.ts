/**
 * What `watch` prints of the stream's messages, across every connection of one run: readings as
 * lines (or, with --json, each message as received), where the replay ends, readings dropped by
 * the hub, and the refusals it sends. After a reconnect the replay fills the gap the outage left:
 * a replayed reading no newer than the newest one already shown of its series (sensor, metric) is
 * skipped, so nothing is shown twice.
 */
import { NOT_JSON, parseStreamMessage } from '../api-types.ts';
import type { Reading } from '../api-types.ts';
import type { CommandContext } from '../command.ts';
import { HubRefused } from '../errors.ts';
import { formatLocalIso, formatValue, printable } from '../format.ts';
import { isApiErrorCode, statusOfCode } from '../../protocol/api-errors.ts';
import { bold } from '../terminal.ts';
import type { SessionControl } from './watch-session.ts';

/** Bad messages worth a warning each; after that they are skipped in silence. */
const MAX_WARNINGS = 10;

/** The event `--json` adds after the replayed readings of each subscription (the hub sends none). */
export const REPLAY_END = 'replay_end';

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

export class WatchOutput {
  private readonly lines = new ReadingLines();
  /** by sensor and metric, joined with NUL (which no name may hold): the newest ts shown */
  private readonly newestShown = new Map<string, number>();
  private warnings = 0;
  /** Replayed readings of the current subscription still to come, and those shown of them. */
  private replayLeft = 0;
  private replayShown = 0;
  /** Subscriptions the hub has answered, over every connection of the run. */
  subscriptions = 0;
  /** Readings shown, replayed ones included (for --count). */
  readings = 0;

  constructor(
    private readonly ctx: Pick<CommandContext, 'json' | 'stdout' | 'stderr' | 'color' | 'hub'>,
    private readonly count: number | undefined,
  ) {}

  onText(text: string, control: SessionControl): void {
    const parsed = parseStreamMessage(text);
    if (!parsed.ok) {
      // --json: every JSON message as received, even one this CLI cannot use.
      if (parsed.problem !== NOT_JSON) this.printJson(text);
      return this.warn(`${parsed.problem}: ${text.slice(0, 200)}`);
    }
    const message = parsed.value;
    switch (message.type) {
      case 'subscribed':
        this.subscriptions++;
        this.replayLeft = message.replayed;
        this.replayShown = 0;
        this.printJson(text);
        if (this.subscriptions > 1) this.ctx.stderr.write(`roomwatch: reconnected to ${this.ctx.hub.displayUrl}\n`);
        else if (!this.ctx.json && this.ctx.stdout.isTTY) {
          const header = `watching ${this.ctx.hub.displayUrl}: ${message.replayed} stored readings, then live ones (Ctrl-C to stop)`;
          this.ctx.stdout.write(bold(header, this.ctx.color) + '\n');
        }
        if (this.replayLeft === 0) this.replayEnd();
        return;
      case 'reading':
        return this.reading(message, text, control);
      case 'dropped': {
        this.printJson(text);
        const who = this.ctx.stdout.isTTY ? 'this terminal is reading too slowly' : 'the reader of this output is too slow';
        this.ctx.stderr.write(`roomwatch: hub dropped ${message.count} ${message.count === 1 ? 'reading' : 'readings'}: ${who}\n`);
        return;
      }
      case 'error':
        this.printJson(text);
        // The close (1008) that follows reports it, as the hub's refusal: `hub refused (403 forbidden_room): ...`.
        control.fail(streamRefusal(message.code, message.message));
        return;
      case 'other':
        this.printJson(text); // a newer hub's message: shown with --json, nothing to say in the table
        return;
    }
  }

  private reading(r: Reading, text: string, control: SessionControl): void {
    const replayed = this.replayLeft > 0;
    if (replayed) this.replayLeft--;
    const key = `${r.sensor}\0${r.metric}`;
    const newest = this.newestShown.get(key);
    // Live readings are always new (the hub never sends one twice); a replayed one may have been shown before an outage.
    if (!replayed || newest === undefined || r.ts > newest) {
      if (this.ctx.json) this.printJson(text);
      else this.ctx.stdout.write(this.lines.format(r) + '\n');
      this.newestShown.set(key, Math.max(newest ?? r.ts, r.ts));
      if (replayed) this.replayShown++;
      if (this.count !== undefined && ++this.readings >= this.count) return control.end();
    }
    if (replayed && this.replayLeft === 0) this.replayEnd();
  }

  /** Marks where the stored readings end and live ones begin: a JSON event, or a line on a terminal. */
  private replayEnd(): void {
    const n = this.replayShown;
    if (this.ctx.json) this.ctx.stdout.write(JSON.stringify({ type: REPLAY_END, replayed: n }) + '\n');
    else if (this.ctx.stdout.isTTY && n > 0)
      this.ctx.stdout.write(`-- ${n} stored ${n === 1 ? 'reading' : 'readings'} above, live ones below --\n`);
  }

  /** With --json, a message as received; re-serialized only if the hub spread it over several lines. */
  private printJson(text: string): void {
    if (this.ctx.json) this.ctx.stdout.write((text.includes('\n') ? JSON.stringify(JSON.parse(text)) : text) + '\n');
  }

  private warn(text: string): void {
    if (++this.warnings > MAX_WARNINGS) return;
    const more = this.warnings === MAX_WARNINGS ? ' (further bad messages are skipped without a word)' : '';
    this.ctx.stderr.write(`roomwatch: skipped a message from the hub: ${printable(text)}${more}\n`);
  }
}

/**
 * A stream error as the refusal it stands for: its code when a number, else the status the
 * registry gives the contract's code (400 for a code this CLI does not know, a newer hub's).
 */
function streamRefusal(code: string | number, message: string): HubRefused {
  if (typeof code === 'number') return new HubRefused(code, undefined, message);
  return new HubRefused(isApiErrorCode(code) ? statusOfCode(code) : 400, code, message);
}
