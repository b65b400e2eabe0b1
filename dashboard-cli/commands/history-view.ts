/**
 * The history export for people and for programs, where the hub's CSV is not wanted as is: on a
 * terminal, a table (numbers as `latest` shows them, to 12 significant digits, so binary noise
 * such as 5.910000000000001 reads 5.91); with `--json`, one JSON object per row (JSON lines),
 * numbers as numbers. Both parse the CSV as it streams in (csv-parse), row by row: a long export
 * starts printing at once and is never held whole.
 */
import { CsvError, parse } from 'csv-parse';
import { Transform } from 'node:stream';
import type { TransformCallback } from 'node:stream';
import { HubBadAnswer } from '../errors.ts';
import { formatValue } from '../format.ts';
import { StreamingTable } from '../table.ts';
import { bold } from '../terminal.ts';

export type HistoryView = 'table' | 'json';

/** Columns of the export whose cells are numbers (PROTOCOL.md §2): right-aligned, and numbers in JSON. */
const NUMBER_COLUMNS: ReadonlySet<string> = new Set(['value', 'count', 'min', 'max', 'mean']);
const INTEGER_MS = /^-?\d+$/;

function isNumberColumn(name: string, cell: string): boolean {
  // ts is a number too when asked for as ms (--time ms); as ISO it stays text.
  return NUMBER_COLUMNS.has(name) || (name === 'ts' && INTEGER_MS.test(cell));
}

function asNumber(cell: string): number | undefined {
  const n = cell.trim() === '' ? NaN : Number(cell);
  return Number.isFinite(n) ? n : undefined;
}

/** Rows (arrays of cells, the header first) in, text out. */
abstract class RowFormatter extends Transform {
  protected header: readonly string[] | undefined;

  constructor() {
    super({ writableObjectMode: true });
  }

  override _transform(row: string[], _encoding: BufferEncoding, done: TransformCallback): void {
    if (this.header === undefined) {
      this.header = row;
      return done();
    }
    done(null, this.format(row));
  }

  protected abstract format(row: readonly string[]): string;
}

/** One JSON object per line, keyed by the header's names; numbers as numbers. */
class JsonLines extends RowFormatter {
  protected format(row: readonly string[]): string {
    const header = this.header ?? [];
    // Keyed by the hub's header, so built without a prototype: a column named __proto__ is a plain key.
    const record = Object.create(null) as Record<string, string | number>;
    header.forEach((name, i) => {
      const cell = row[i] ?? '';
      const n = isNumberColumn(name, cell) ? asNumber(cell) : undefined;
      record[name] = n ?? cell;
    });
    return JSON.stringify(record) + '\n';
  }
}

/** An aligned table whose widths are set by its first rows (StreamingTable). */
class TableLines extends RowFormatter {
  private table: StreamingTable | undefined;

  constructor(private readonly color: boolean) {
    super();
  }

  protected format(row: readonly string[]): string {
    const header = this.header ?? [];
    this.table ??= new StreamingTable(
      header.map((name) => ({ header: name, align: isNumberColumn(name, row[header.indexOf(name)] ?? '') ? 'right' : 'left' })),
      { header: (line) => bold(line, this.color) },
    );
    const cells = header.map((name, i) => {
      const cell = row[i] ?? '';
      const n = NUMBER_COLUMNS.has(name) ? asNumber(cell) : undefined;
      return n === undefined ? cell : formatValue(n);
    });
    return joinLines(this.table.push(cells));
  }

  override _flush(done: TransformCallback): void {
    done(null, this.table ? joinLines(this.table.end()) : 'no readings match\n');
  }
}

function joinLines(lines: readonly string[]): string {
  return lines.map((l) => l + '\n').join('');
}

/** The stages that turn the hub's CSV bytes into the view's text, for a pipeline. */
export function historyViewStages(view: HistoryView, color: boolean): [Transform, Transform] {
  // Rows as arrays, not objects keyed by the header: csv-parse's own objects would be keyed by the hub's text.
  const parser = parse({ relax_column_count: false });
  return [parser, view === 'json' ? new JsonLines() : new TableLines(color)];
}

/** A CSV the hub sent that does not parse is a bad answer (exit 1), not a bug of the CLI. */
export function explainViewError(error: unknown, hubUrl: string): unknown {
  return error instanceof CsvError ? new HubBadAnswer(hubUrl, `the hub's history export is not valid CSV: ${error.message}`) : error;
}
