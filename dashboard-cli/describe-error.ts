/**
 * The message on stderr for each failure, beginning `roomwatch:`. Text that came from the hub
 * is made printable first: an error message must not be able to drive the terminal.
 */
import { HubBadAnswer, HubRefused, HubUnreachable, UsageError } from './errors.ts';
import { printable } from './format.ts';
import { red } from './terminal.ts';

export const USAGE_HINT = 'Run "npm run cli -- help" for usage.';
/** Upload refusals can list up to 100 rows; a screenful says enough. */
const MAX_ROWS_SHOWN = 20;

export function describeError(error: unknown, color: boolean): string {
  const prefix = red('roomwatch:', color);
  if (error instanceof UsageError) return `${prefix} ${error.message}\n${USAGE_HINT}`;
  if (error instanceof HubRefused) {
    const what = error.code === undefined ? `${error.status}` : `${error.status} ${printable(error.code)}`;
    const lines = [`${prefix} hub refused (${what}): ${printable(error.message)}`];
    const rows = error.rows ?? [];
    for (const row of rows.slice(0, MAX_ROWS_SHOWN)) lines.push(`  line ${row.line}: ${printable(row.message)}`);
    if (rows.length > MAX_ROWS_SHOWN) lines.push(`  ... and ${rows.length - MAX_ROWS_SHOWN} more`);
    return lines.join('\n');
  }
  if (error instanceof HubBadAnswer) return `${prefix} ${printable(error.message)}`;
  if (error instanceof HubUnreachable) {
    return (
      `${prefix} cannot reach the hub at ${error.url} (${printable(error.reason)})\n` +
      'Is the hub running? Start it with "npm start", or point --hub or ROOMWATCH_HUB at a running hub.'
    );
  }
  const detail = error instanceof Error ? (error.stack ?? error.message) : String(error);
  return `${prefix} internal error (a bug in the CLI, not the hub): ${detail}`;
}
