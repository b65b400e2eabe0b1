/**
 * Where the CLI writes, and what a terminal may be sent: colour only on a TTY and never with
 * NO_COLOR (https://no-color.org), screen redraws only on a TTY.
 */

export interface Output {
  write(text: string): void;
  readonly isTTY: boolean;
  /** A terminal's height in lines, now (it may be resized); undefined when not a terminal or not known. */
  readonly rows?: number | undefined;
}

/** Clears the screen and puts the cursor home, in one write so a redraw does not flicker. */
export const CLEAR_SCREEN = '\x1b[2J\x1b[H';

export function colorEnabled(env: Readonly<Record<string, string | undefined>>, isTTY: boolean): boolean {
  // no-color.org: "when present and not an empty string", whatever its value.
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  if (env.TERM === 'dumb') return false;
  return isTTY;
}

export function bold(text: string, color: boolean): string {
  return color ? `\x1b[1m${text}\x1b[22m` : text;
}

export function red(text: string, color: boolean): string {
  return color ? `\x1b[31m${text}\x1b[39m` : text;
}
