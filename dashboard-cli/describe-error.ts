/**
 * The message on stderr for each failure, beginning `roomwatch:`. Text that came from the hub
 * is made printable first: an error message must not be able to drive the terminal.
 */
import { HubBadAnswer, HubConflict, HubRefused, HubTlsError, HubUnreachable, LocalFileError, StreamClosed, UsageError } from './errors.ts';
import { printable } from './format.ts';
import { red } from './terminal.ts';

export const USAGE_HINT = 'Run "npm run cli -- help" for usage.';
/**
 * Upload refusals list up to 100 rows (§2), and every one is shown: fixing a file goes faster
 * with the whole list. The cap only guards against a hub that sends far more than it should.
 */
const MAX_ROWS_SHOWN = 1000;
/** §2: the hub lists "every bad row in line order, up to the first 100". */
const CONTRACT_MAX_ROWS = 100;

export function describeError(error: unknown, color: boolean): string {
  const prefix = red('roomwatch:', color);
  if (error instanceof UsageError) return `${prefix} ${error.message}\n${USAGE_HINT}`;
  // Line by line: a file's problems are listed one per line (users import).
  if (error instanceof LocalFileError) return `${prefix} ${error.message.split('\n').map(printable).join('\n')}`;
  if (error instanceof HubRefused) {
    const what = error.codeSent === undefined ? `${error.status}` : `${error.status} ${printable(error.codeSent)}`;
    const lines = [`${prefix} hub refused (${what}): ${printable(error.message)}`];
    const rows = error.rows ?? [];
    for (const row of rows.slice(0, MAX_ROWS_SHOWN)) lines.push(`  line ${row.line}: ${printable(row.message)}`);
    if (rows.length > MAX_ROWS_SHOWN) lines.push(`  ... and ${rows.length - MAX_ROWS_SHOWN} more`);
    else if (rows.length === CONTRACT_MAX_ROWS)
      lines.push(`  (the hub lists only the first ${CONTRACT_MAX_ROWS} bad rows; there may be more)`);
    return lines.join('\n');
  }
  if (error instanceof HubBadAnswer || error instanceof HubConflict) return `${prefix} ${printable(error.message)}`;
  if (error instanceof StreamClosed) return `${prefix} ${printable(error.message)}`;
  // Before HubUnreachable: the hub may well be running; "is it running?" would mislead.
  if (error instanceof HubTlsError) return `${prefix} no secure connection to the hub at ${error.url}: ${printable(error.reason)}`;
  if (error instanceof HubUnreachable) {
    return (
      `${prefix} cannot reach the hub at ${error.url} (${printable(error.reason)})\n` +
      'Is the hub running? Start it with "npm start", or point --hub or ROOMWATCH_HUB at a running hub.'
    );
  }
  const detail = error instanceof Error ? (error.stack ?? error.message) : String(error);
  return `${prefix} internal error (a bug in the CLI, not the hub): ${detail}`;
}

/** A file system error for people: `no such file or directory`, `permission denied`, ... */
export function describeFsError(error: unknown): string {
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  switch (code) {
    case 'ENOENT':
      return 'no such file or directory';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EISDIR':
      return 'it is a directory';
    case 'ENOSPC':
      return 'no space left on the device';
    case 'EROFS':
      return 'read-only file system';
  }
  return error instanceof Error ? error.message : String(error);
}
