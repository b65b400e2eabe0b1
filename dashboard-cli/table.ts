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

function printableCells(columns: readonly Column[], row: readonly string[]): string[] {
  return columns.map((_, i) => printable(row[i] ?? ''));
}

/** Widens `widths` to fit each row's cells. A loop, not Math.max(...spread): many rows must not overflow the call stack. */
function widen(widths: number[], rows: readonly (readonly string[])[]): void {
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, width(cell))));
}

function line(columns: readonly Column[], widths: readonly number[], values: readonly string[]): string {
  return columns
    .map((c, i) => pad(values[i] ?? '', widths[i] ?? 0, c.align ?? 'left'))
    .join(GAP)
    .trimEnd();
}

function headerLine(columns: readonly Column[], widths: readonly number[], style: TableStyle): string {
  const header = line(
    columns,
    widths,
    columns.map((c) => c.header),
  );
  return style.header ? style.header(header) : header;
}

/** The table as lines, header first. Cells are made printable; a missing cell is empty. */
export function renderTable(columns: readonly Column[], rows: readonly (readonly string[])[], style: TableStyle = {}): string[] {
  const cells = rows.map((row) => printableCells(columns, row));
  const widths = columns.map((c) => width(c.header));
  widen(widths, cells);
  return [headerLine(columns, widths, style), ...cells.map((row) => line(columns, widths, row))];
}

/**
 * A table printed while its rows still arrive (a long history export): the first `sampleRows`
 * rows are held to set the widths, then printed with the header; each later row is printed at
 * once, widening a column when it must (the rows after it line up again). Memory stays that of
 * the sample, however long the table.
 */
export class StreamingTable {
  private held: string[][] | null = [];
  private readonly widths: number[];

  constructor(
    private readonly columns: readonly Column[],
    private readonly style: TableStyle = {},
    private readonly sampleRows = 100,
  ) {
    this.widths = columns.map((c) => width(c.header));
  }

  /** Rows pushed so far. */
  rows = 0;

  /** The lines ready to print after this row: none while the sample is being held. */
  push(row: readonly string[]): string[] {
    this.rows++;
    const cells = printableCells(this.columns, row);
    if (this.held !== null) {
      this.held.push(cells);
      return this.held.length >= this.sampleRows ? this.release() : [];
    }
    widen(this.widths, [cells]);
    return [line(this.columns, this.widths, cells)];
  }

  /** The lines still held: the whole table when it had fewer rows than the sample (just the header for none). */
  end(): string[] {
    return this.held === null ? [] : this.release();
  }

  private release(): string[] {
    const held = this.held ?? [];
    this.held = null;
    widen(this.widths, held);
    return [headerLine(this.columns, this.widths, this.style), ...held.map((row) => line(this.columns, this.widths, row))];
  }
}
