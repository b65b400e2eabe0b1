/**
 * A bulk upload (`POST /api/v1/readings`, PROTOCOL.md §2) from spooled file to answer:
 * header check (400), a DuckDB scan of every row, and then either an exact error report
 * (csv-parse, with line numbers; 422, nothing stored) or one atomic insert of the new rows.
 */
import { createReadStream } from 'node:fs';
import { open } from 'node:fs/promises';
import { parse } from 'csv-parse';
import { parse as parseSync } from 'csv-parse/sync';
import { ApiError } from '../http/api-error.ts';
import type { SeriesCatalog } from '../ingest/series-catalog.ts';
import type { SensorRegistry } from '../sensor-registry.ts';
import type { ReadingStore } from '../store/reading-store.ts';
import { checkRow, namesProblem, REQUIRED_COLUMNS } from './csv-row-rules.ts';
import type { UploadCommitResult, UploadFile, UploadMapping } from './upload-sql.ts';
import { DEFAULT_ROOM, WELL_KNOWN_UNITS } from '../../protocol/names.ts';
import { EVERY_ROOM, describeScope, inScope, type RoomScope } from '../access/room-scope.ts';

export const MAX_LISTED_BAD_ROWS = 100;

export interface UploadDeps {
  store: ReadingStore;
  catalog: SeriesCatalog;
  registry: SensorRegistry;
  now(): number;
  /** whether anyone listens live: only then are an upload's new rows read back for them */
  hasSubscribers(): boolean;
  onStored?(result: UploadCommitResult): void;
}

export interface UploadAnswer {
  accepted: number;
  duplicates: number;
}

/** Reads the header row: the column names, or a 400. */
export async function readHeader(path: string): Promise<string[]> {
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.alloc(65_536);
    const { bytesRead } = await fh.read(buf, 0, buf.length, 0);
    const text = buf.subarray(0, bytesRead).toString('utf8');
    if (text.trim() === '')
      throw new ApiError(400, 'missing_header', 'the file is empty: it needs a header row such as ts,sensor,room,metric,value,unit');
    const firstLine = text.split('\n', 1)[0]!;
    const [header] = parseSync(firstLine, { bom: true, to_line: 1, relax_quotes: true }) as string[][];
    const columns = (header ?? []).map((c) => c.trim());
    const missing = REQUIRED_COLUMNS.filter((c) => !columns.includes(c));
    if (missing.length > 0) {
      throw new ApiError(
        400,
        'missing_column',
        `the header lacks the required column${missing.length > 1 ? 's' : ''} ${missing.join(', ')} (required: ts, sensor, metric, value; optional: room, unit)`,
      );
    }
    return columns;
  } finally {
    await fh.close();
  }
}

/** Who uploads may write only into their rooms: a row elsewhere refuses the whole file. */
export async function ingestUpload(path: string, deps: UploadDeps, scope: RoomScope = EVERY_ROOM): Promise<UploadAnswer> {
  const columns = await readHeader(path);
  const file: UploadFile = { path, columns, nowMs: deps.now() };
  const scan = await deps.store.scanUpload(file);
  if (scan.kind !== 'ok') throw await invalidUpload(path, columns, file.nowMs, scan.kind === 'unreadable' ? scan.message : null);
  if (scan.combos.some((c) => namesProblem(c.sensor, c.room, c.metric, c.unit) !== null))
    throw await invalidUpload(path, columns, file.nowMs, null);
  if (scan.rows === 0) return { accepted: 0, duplicates: 0 };

  const { catalog, registry } = deps;
  const roomOf = (c: { sensor: string; room: string | null }) => c.room ?? registry.records.get(c.sensor)?.room ?? DEFAULT_ROOM;
  const outside = [...new Set(scan.combos.map(roomOf))].filter((room) => !inScope(scope, room)).sort();
  if (outside.length > 0) {
    throw new ApiError(
      403,
      'forbidden_room',
      `the file has rows in room${outside.length > 1 ? 's' : ''} ${outside.slice(0, 10).join(', ')}, outside your rooms (${describeScope(scope)}); nothing was stored`,
    );
  }
  const now = deps.now();
  const mapping: UploadMapping[] = scan.combos.map((c) => {
    const known = registry.records.get(c.sensor);
    const room = roomOf(c);
    const unit = c.unit ?? known?.declaredMetrics[c.metric] ?? WELL_KNOWN_UNITS[c.metric] ?? '';
    const seriesId = catalog.seriesId(c.sensor, room, c.metric, unit);
    const channel = catalog.channel(seriesId);
    // From here on, a live reading at or below the file's newest ts is checked against the store.
    if (c.maxTs > channel.lastTs) channel.lastTs = c.maxTs;
    registry.seenInData(c.sensor, room, c.metric, now);
    return { ...c, seriesId, channel: channel.id };
  });
  const newSeries = catalog.takeUnsaved();
  let result: UploadCommitResult;
  try {
    result = await deps.store.commitUpload(file, newSeries, mapping, deps.hasSubscribers());
  } catch (err) {
    catalog.restoreUnsaved(newSeries);
    throw err;
  }
  // Latest only moves forward: an old backfill leaves a newer latest alone.
  for (const n of result.newest) catalog.offerLatest(n.seriesId, n.ts, n.value);
  deps.onStored?.(result);
  return { accepted: result.accepted, duplicates: result.duplicates };
}

/** The 422 for a file with bad rows, listing them exactly. */
async function invalidUpload(path: string, columns: string[], nowMs: number, readerMessage: string | null): Promise<ApiError> {
  const report = await listBadRows(path, columns, nowMs);
  if (report.rows.length === 0) {
    // The exact pass found nothing: say what the store's reader said rather than nothing.
    return new ApiError(
      422,
      'invalid_csv',
      readerMessage ? `the CSV could not be read: ${firstLine(readerMessage)}` : 'some rows are invalid',
      { rows: [] },
    );
  }
  return new ApiError(422, 'invalid_csv', `${report.total} row${report.total === 1 ? ' is' : 's are'} invalid; nothing was stored`, {
    rows: report.rows,
  });
}

/** The exact report: every bad row's line (line 1 is the header), the first 100 listed. */
export async function listBadRows(
  path: string,
  columns: string[],
  nowMs: number,
): Promise<{ total: number; rows: { line: number; message: string }[] }> {
  const rows: { line: number; message: string }[] = [];
  let total = 0;
  const note = (line: number, message: string) => {
    total++;
    if (rows.length < MAX_LISTED_BAD_ROWS) rows.push({ line, message });
  };
  const index = (name: string) => columns.indexOf(name);
  const at = {
    ts: index('ts'),
    sensor: index('sensor'),
    room: index('room'),
    metric: index('metric'),
    value: index('value'),
    unit: index('unit'),
  };
  const parser = createReadStream(path).pipe(
    parse({ bom: true, from_line: 2, relax_column_count: true, skip_empty_lines: true, info: true }),
  );
  try {
    for await (const { record, info } of parser as AsyncIterable<{ record: string[]; info: { lines: number } }>) {
      if (record.length !== columns.length) {
        note(info.lines, `the row has ${record.length} fields; the header has ${columns.length}`);
        continue;
      }
      const field = (i: number) => (i < 0 ? undefined : record[i]);
      const problem = checkRow(
        {
          ts: field(at.ts),
          sensor: field(at.sensor),
          room: field(at.room),
          metric: field(at.metric),
          value: field(at.value),
          unit: field(at.unit),
        },
        nowMs,
      );
      if (typeof problem === 'string') note(info.lines, problem);
    }
  } catch (err) {
    const e = err as Error & { lines?: number };
    note(e.lines ?? 0, `the CSV cannot be read from here on: ${e.message}`);
  }
  return { total, rows };
}

function firstLine(s: string): string {
  return s.split('\n', 1)[0] ?? s;
}
