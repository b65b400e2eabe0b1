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
