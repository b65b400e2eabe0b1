/**
 * Aligned plain-text tables: columns separated by two spaces, numbers right-aligned, no
 * trailing spaces. Widths count code points, so units like `°C` or `µg/m³` line up.
 */
import { printable } from './format.ts';

export interface Column {
  header: string;
  align?: 'left' | 'right';
}

export interface TableStyle {
  /** Applied to the header line after padding, so colour codes never disturb widths. */
  header?: (line: string) => string;
}

const GAP = '  ';

function width(text: string): number {
  let n = 0;
  for (const _ of text) n++;
  return n;
}

function pad(text: string, to: number, align: 'left' | 'right'): string {
  const fill = ' '.repeat(Math.max(0, to - width(text)));
  return align === 'right' ? fill + text : text + fill;
}

/** The table as lines, header first. Cells are made printable; a missing cell is empty. */
export function renderTable(columns: readonly Column[], rows: readonly (readonly string[])[], style: TableStyle = {}): string[] {
  const cells = rows.map((row) => columns.map((_, i) => printable(row[i] ?? '')));
  // A loop, not Math.max(...spread): a hub with many sensors must not overflow the call stack.
  const widths = columns.map((c) => width(c.header));
  for (const row of cells) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, width(cell))));
  const line = (values: readonly string[]): string =>
    columns
      .map((c, i) => pad(values[i] ?? '', widths[i] ?? 0, c.align ?? 'left'))
      .join(GAP)
      .trimEnd();
  const header = line(columns.map((c) => c.header));
  return [style.header ? style.header(header) : header, ...cells.map(line)];
}
