/**
 * A progress line on stderr, for long transfers (history, upload): redrawn in place with `\r`,
 * at most a few times a second, and only on a terminal; piped or redirected it writes nothing,
 * so a log or a script never holds progress. Plain text and spaces, no escape codes, so it also
 * works with TERM=dumb.
 */
import type { Output } from './terminal.ts';

/** Redraws a person can follow; more only costs time on a fast transfer. */
const MIN_REDRAW_MS = 200;

export class ProgressLine {
  private shownWidth = 0;
  private lastDrawMs = -Infinity;

  constructor(
    private readonly out: Output,
    /** Elapsed-time clock, monotonic; injected for tests. */
    private readonly clock: () => number = () => performance.now(),
  ) {}

  /** True when anything is shown at all: stderr is a terminal. */
  get enabled(): boolean {
    return this.out.isTTY;
  }

  /** Redraws with `text()` unless the last redraw was very recent (`force` skips that check). */
  update(text: () => string, force = false): void {
    if (!this.enabled) return;
    const now = this.clock();
    if (!force && now - this.lastDrawMs < MIN_REDRAW_MS) return;
    this.lastDrawMs = now;
    const line = text();
    this.out.write(`\r${line}${' '.repeat(Math.max(0, this.shownWidth - line.length))}`);
    this.shownWidth = line.length;
  }

  /** Removes the line, then writes `summary` (a line of its own) if given. */
  finish(summary?: string): void {
    if (!this.enabled) return;
    if (this.shownWidth > 0) this.out.write(`\r${' '.repeat(this.shownWidth)}\r`);
    this.shownWidth = 0;
    if (summary !== undefined) this.out.write(summary + '\n');
  }
}

/** `3,000,000`: grouped the same way whatever the locale, like the rest of the CLI's output. */
export function formatCount(n: number): string {
  return Math.trunc(n).toLocaleString('en-US');
}

const BYTE_UNITS = ['kB', 'MB', 'GB', 'TB'] as const;

/** Decimal units with three significant digits: `512 B`, `1.50 kB`, `14.2 MB`, `142 MB`. */
export function formatBytes(bytes: number): string {
  if (bytes < 1000) return `${bytes} B`;
  let value = bytes;
  let unit: string = 'B';
  for (const next of BYTE_UNITS) {
    if (value < 999.5) break;
    value /= 1000;
    unit = next;
  }
  return `${value < 99.95 ? value.toPrecision(3) : Math.round(value)} ${unit}`;
}

/** A duration for a summary: `0.4 s`, `2.9 s`, `95 s`. */
export function formatSeconds(ms: number): string {
  const s = ms / 1000;
  return s < 10 ? `${s.toFixed(1)} s` : `${Math.round(s)} s`;
}

/** A transfer rate, `21.3 MB/s`; `-` until there is enough time to say. */
export function formatRate(bytes: number, elapsedMs: number): string {
  return elapsedMs < 100 ? '- B/s' : `${formatBytes(Math.round((bytes * 1000) / elapsedMs))}/s`;
}
