/**
 * Reading the history export's CSV in the page (docs/API.md "GET /api/v1/history.csv"): RFC 4180
 * with a header row. Only a unit can be quoted, so most lines take the fast path (no quote:
 * split on commas); a quoted field may hold commas, doubled quotes and line breaks.
 */

/** Calls `row` with each record's fields (the header's first); a record with a quoted line break is one record. */
export function eachCsvRecord(text: string, row: (fields: string[]) => void): void {
  let pos = 0;
  const n = text.length;
  while (pos < n) {
    let end = text.indexOf('\n', pos);
    if (end < 0) end = n;
    const line = text.slice(pos, end > pos && text.charCodeAt(end - 1) === 13 ? end - 1 : end);
    if (!line.includes('"')) {
      if (line.length > 0) row(line.split(','));
      pos = end + 1;
      continue;
    }
    const parsed = quotedRecord(text, pos);
    row(parsed.fields);
    pos = parsed.next;
  }
}

/**
 * CSV read as it arrives: each chunk's complete records go to `row` at once, so a large export
 * is parsed while the rest of it is still on its way. A record is complete at a line break
 * outside quotes.
 */
export class CsvStream {
  private carry = '';

  constructor(private readonly row: (fields: string[]) => void) {}

  push(chunk: string): void {
    const text = this.carry + chunk;
    const cut = completeUpTo(text);
    if (cut > 0) eachCsvRecord(text.slice(0, cut), this.row);
    this.carry = text.slice(cut);
  }

  end(): void {
    if (this.carry) eachCsvRecord(this.carry, this.row);
    this.carry = '';
  }
}

/** Where the complete records of `text` end: after its last line break outside quotes (0: none yet). */
function completeUpTo(text: string): number {
  if (!text.includes('"')) return text.lastIndexOf('\n') + 1;
  let quoted = false;
  let last = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 34) quoted = !quoted;
    else if (c === 10 && !quoted) last = i + 1;
  }
  return last;
}

/** One record from `start` that has quotes; returns its fields and where the next record starts. */
function quotedRecord(text: string, start: number): { fields: string[]; next: number } {
  const fields: string[] = [];
  let field = '';
  let i = start;
  let quoted = false;
  while (i < text.length) {
    const c = text[i]!;
    if (quoted) {
      if (c === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i += 2;
          continue;
        }
        quoted = false;
      } else field += c;
      i++;
      continue;
    }
    if (c === '"') quoted = true;
    else if (c === ',') {
      fields.push(field);
      field = '';
    } else if (c === '\n') {
      i++;
      break;
    } else if (c !== '\r') field += c;
    i++;
  }
  fields.push(field);
  return { fields, next: i };
}

/** The index of each named column in a header row; throws naming the first one missing. */
export function columnIndex<C extends string>(header: readonly string[], columns: readonly C[]): Record<C, number> {
  const out = Object.create(null) as Record<C, number>;
  for (const c of columns) {
    const i = header.indexOf(c);
    if (i < 0) throw new Error(`the export has no "${c}" column (header: ${header.join(',')})`);
    out[c] = i;
  }
  return out;
}
