/**
 * The first look at a spooled upload: is it a CSV text file at all, and does its header row
 * name the required columns (PROTOCOL.md §2 "Bulk upload": a missing required column is 400).
 * Each refusal says what the file looks like instead, so the sender knows what to change:
 * a gzip or spreadsheet file, UTF-16 text, a `;` or tab separator, an endless header.
 */
import { open } from 'node:fs/promises';
import { parse as parseSync } from 'csv-parse/sync';
import { HubError } from '../hub-error.ts';
import { MAX_COLUMNS, MAX_RECORD_BYTES } from './csv-row-rules.ts';
import { headerRow, missingUploadColumns, RAW_COLUMNS, REQUIRED_UPLOAD_COLUMNS, UPLOAD_COLUMNS_TEXT } from '../../protocol/columns.ts';

/** Reads the header row: the column names, or a 400 that says what is wrong. */
export async function readHeader(path: string): Promise<string[]> {
  const fh = await open(path, 'r');
  let head: Buffer;
  try {
    const buf = Buffer.alloc(MAX_RECORD_BYTES + 1);
    const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
    head = buf.subarray(0, bytesRead);
  } finally {
    await fh.close();
  }
  notText(head);
  const text = head.toString('utf8');
  if (text.trim() === '')
    throw new HubError('missing_header', `the file is empty: it needs a header row such as ${headerRow(RAW_COLUMNS).trim()}`);
  const end = text.indexOf('\n');
  if (end < 0 && head.length > MAX_RECORD_BYTES)
    throw new HubError(
      'missing_header',
      `the header row is longer than ${MAX_RECORD_BYTES} bytes; is this a CSV file with one row per line?`,
    );
  const firstLine = end < 0 ? text : text.slice(0, end);
  const records: string[][] = parseSync(firstLine, { bom: true, to_line: 1, relax_quotes: true });
  const [header] = records;
  const columns = (header ?? []).map((c) => c.trim());
  if (columns.length > MAX_COLUMNS)
    throw new HubError('too_many_columns', `the header has ${columns.length} columns; at most ${MAX_COLUMNS} ${UPLOAD_COLUMNS_TEXT}`);
  const missing = missingUploadColumns(columns);
  if (missing.length > 0) {
    throw new HubError(
      'missing_column',
      `the header lacks the required column${missing.length > 1 ? 's' : ''} ${missing.join(', ')} ${UPLOAD_COLUMNS_TEXT}${separatorHint(firstLine)}`,
    );
  }
  return columns;
}

/**
 * A 400 `invalid_csv` for a body that is not UTF-8 text: NUL bytes (binary, or UTF-16) or an
 * invalid UTF-8 sequence in the first record. Without this a gzip file reads as one odd
 * column and is answered with a misleading `missing_column`.
 */
function notText(head: Buffer): void {
  const refuse = (what: string) =>
    new HubError('invalid_csv', `the body is not a CSV file: ${what}; send the readings as UTF-8 text with a header row`, {
      status: 400,
      rows: [],
    });
  if (head[0] === 0x1f && head[1] === 0x8b) throw refuse('it is gzip data (send it uncompressed)');
  if (head[0] === 0x50 && head[1] === 0x4b) throw refuse('it is a zip archive, such as an .xlsx spreadsheet (save it as CSV)');
  if ((head[0] === 0xff && head[1] === 0xfe) || (head[0] === 0xfe && head[1] === 0xff))
    throw refuse('it is UTF-16 text (save it as UTF-8)');
  if (head.includes(0)) throw refuse('it holds NUL bytes, so it is binary data');
  const end = head.indexOf(0x0a);
  // The first record whole; a cut at the read's end may split a character, which is not an error.
  const first = end < 0 ? head : head.subarray(0, end);
  try {
    new TextDecoder('utf-8', { fatal: true }).decode(first, { stream: end < 0 });
  } catch {
    throw refuse('its header is not valid UTF-8 (save it as UTF-8)');
  }
}

/** For a header the comma does not split: the separator it seems to use instead. */
function separatorHint(line: string): string {
  if (line.includes(',')) return '';
  for (const [sep, name] of [
    [';', 'semicolons (;)'],
    ['\t', 'tabs'],
    ['|', 'vertical bars (|)'],
  ] as const) {
    const names = line.split(sep).map((c) => c.trim().replace(/^"|"$/g, ''));
    if (names.length > 1 && REQUIRED_UPLOAD_COLUMNS.some((c) => names.includes(c)))
      return `; the header seems to separate columns with ${name}: the hub reads comma-separated values (RFC 4180), so save or export the file with commas`;
  }
  return '';
}
