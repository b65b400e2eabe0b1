/** Building lines and values for sensor-protocol tests. */

/** One message as a line, `\n` included. */
export function line(message: object): string {
  return JSON.stringify(message) + '\n';
}

/**
 * One message as a line of exactly `totalBytes` bytes including its `\n`, padded with JSON
 * whitespace before the closing brace, so the message means the same at any length.
 */
export function paddedLine(message: object, totalBytes: number): string {
  const json = JSON.stringify(message);
  const pad = totalBytes - Buffer.byteLength(json) - 1;
  if (pad < 0) throw new Error(`message is already ${Buffer.byteLength(json) + 1} bytes`);
  const text = json.slice(0, -1) + ' '.repeat(pad) + '}\n';
  if (Buffer.byteLength(text) !== totalBytes) throw new Error('paddedLine: wrong length');
  return text;
}

/**
 * Distinct, valid timestamps (an hour ago onwards, a second apart), so readings of different
 * tests on one hub never share an identity by accident.
 */
export function tsSequence(start = Math.floor(Date.now() / 1000) * 1000 - 3_600_000): () => number {
  let next = start;
  return () => (next += 1000);
}

export const YEAR_2000_MS = 946_684_800_000;
export const DAY_MS = 24 * 3600 * 1000;
export const MAX_SEQ = 2 ** 53 - 1;
