/**
 * A one-line fleet status on a terminal, rewritten in place about twice a second. Progress
 * is for people watching: when the stream is not a TTY (piped, redirected, CI) it prints nothing.
 */
import type { FleetStats } from './fleet.ts';

export interface StatusLineOptions {
  stream: { isTTY?: boolean; columns?: number; write(text: string): unknown };
  stats: () => FleetStats;
  intervalMs?: number;
  /** NO_COLOR (https://no-color.org): any non-empty value turns colour off. */
  env?: Readonly<Record<string, string | undefined>>;
}

const count = new Intl.NumberFormat('en-US');

/** "sensors 50/50 connected · sent 1,234 · acked 1,200 · buffered 34 · dropped 0" */
export function formatStatus(s: FleetStats, colour = false): string {
  const paint = (code: string, text: string) => (colour ? `\x1b[${code}m${text}\x1b[0m` : text);
  const connected = `${count.format(s.connected)}/${count.format(s.sensors)}`;
  const parts = [
    `sensors ${paint(s.connected === s.sensors ? '32' : '33', connected)} connected`,
    `sent ${count.format(s.sentReadings)}`,
    `acked ${count.format(s.ackedReadings)}`,
    `buffered ${count.format(s.bufferedReadings)}`,
    `dropped ${s.droppedReadings > 0 ? paint('31', count.format(s.droppedReadings)) : '0'}`,
  ];
  const ended = Object.entries(s.stoppedByCode);
  if (ended.length > 0) parts.push(paint('31', `ended by hub ${ended.map(([code, n]) => `${code}×${n}`).join(' ')}`));
  return parts.join(' · ');
}

export class StatusLine {
  private timer: NodeJS.Timeout | null = null;
  private readonly enabled: boolean;
  private readonly colour: boolean;

  constructor(private readonly options: StatusLineOptions) {
    this.enabled = options.stream.isTTY === true;
    const noColor = (options.env ?? process.env).NO_COLOR;
    this.colour = this.enabled && (noColor === undefined || noColor === '');
  }

  start(): void {
    if (!this.enabled || this.timer !== null) return;
    this.render();
    this.timer = setInterval(() => this.render(), this.options.intervalMs ?? 500);
  }

  /** Clears the line for good, so what is printed next starts on a clean row. */
  stop(): void {
    if (this.timer === null) return;
    clearInterval(this.timer);
    this.timer = null;
    this.clear();
  }

  /** Blanks the line until the next redraw, so another message can be printed on a clean row. */
  clear(): void {
    if (this.enabled) this.options.stream.write('\r\x1b[2K');
  }

  private render(): void {
    const stats = this.options.stats();
    const plain = formatStatus(stats);
    const columns = this.options.stream.columns;
    // A line longer than the terminal wraps, and \r then rewrites only its last row.
    const text =
      columns !== undefined && columns > 1 && plain.length >= columns ? plain.slice(0, columns - 1) : formatStatus(stats, this.colour);
    this.options.stream.write(`\r${text}\x1b[K`);
  }
}
