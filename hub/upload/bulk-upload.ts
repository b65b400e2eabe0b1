/**
 * A bulk upload (`POST /api/v1/readings`, PROTOCOL.md §2) from spooled file to answer:
 * header check (400), a DuckDB scan of every row into a stage on disk (upload-sql.ts), and then
 * either an exact error report (csv-parse, with line numbers; 422, nothing stored) or one
 * atomic insert of the new rows in windows (upload-commit.ts), published to live subscribers a
 * window at a time after the commit. No step holds the file's rows in memory.
 */
import { createReadStream } from 'node:fs';
import { parse } from 'csv-parse';
import { HubError } from '../hub-error.ts';
import type { GrowthLimits } from '../ingest/growth-limits.ts';
import type { SeriesCatalog } from '../ingest/series-catalog.ts';
import type { SensorRegistry } from '../sensors/sensor-registry.ts';
import type { HubStore } from '../store/hub-store.ts';
import { MAX_RECORD_BYTES, checkRow, namesProblem } from './csv-row-rules.ts';
import { MAX_UPLOAD_SERIES, type UploadCommitResult, type UploadFile, type UploadMapping } from './upload-sql.ts';
import { removeStaged } from './upload-stage.ts';
import type { Columns } from '../store/store-messages.ts';
import { defaultUnit } from '../../protocol/names.ts';
import { EVERY_ROOM, type RoomScope } from '../access/room-scope.ts';
import { readHeader } from './upload-header.ts';
import { recordGuard } from './record-guard.ts';
import { checkUploadRooms, storedRoom } from './upload-rooms.ts';

export const MAX_LISTED_BAD_ROWS = 100;

export interface UploadDeps {
  store: HubStore;
  catalog: SeriesCatalog;
  registry: SensorRegistry;
  now(): number;
  /** whether anyone listens live: only then are an upload's new rows read back for them */
  hasSubscribers(): boolean;
  onStored?(result: UploadCommitResult): void;
  /** an upload's new rows, a window at a time in ts order, after its commit */
  publish?(rows: Columns): void;
  /** the hub's limits on sensors and series: a file that would pass one is refused whole */
  growth?: GrowthLimits;
}

export interface UploadAnswer {
  accepted: number;
  duplicates: number;
  /** rows older than the retention horizon, not stored, and the horizon (ISO) */
  expired?: number;
  retained_from?: string;
}

/** Who uploads may write only into their rooms (upload-rooms.ts): a row elsewhere refuses the whole file. */
export async function ingestUpload(path: string, deps: UploadDeps, scope: RoomScope = EVERY_ROOM): Promise<UploadAnswer> {
  try {
    return await ingest(path, deps, scope);
  } finally {
    await removeStaged(path);
  }
}

async function ingest(path: string, deps: UploadDeps, scope: RoomScope): Promise<UploadAnswer> {
  const columns = await readHeader(path);
  const file: UploadFile = { path, columns, nowMs: deps.now() };
  const scan = await deps.store.scanUpload(file);
  if (scan.kind === 'too-many-series')
    throw new HubError(
      'too_many_series',
      `the file has more than ${MAX_UPLOAD_SERIES} distinct (sensor, room, metric, unit) series; upload it in parts of fewer; nothing was stored`,
    );
  if (scan.kind !== 'ok') throw await invalidUpload(path, columns, file.nowMs, scan.kind === 'unreadable' ? scan.message : null);
  if (scan.combos.some((c) => namesProblem(c.sensor, c.room, c.metric, c.unit) !== null))
    throw await invalidUpload(path, columns, file.nowMs, null);
  if (scan.rows === 0) return { accepted: 0, duplicates: 0 };

  const { catalog, registry } = deps;
  // Decided on the registry as it is now, in this same turn of the event loop as the mapping
  // below: no hello can move a sensor between the check and the use.
  checkUploadRooms(scan.combos, registry, scope);
  const unitOf = (c: { sensor: string; metric: string; unit: string | null }) =>
    c.unit ?? defaultUnit(c.metric, registry.records.get(c.sensor)?.declaredMetrics);
  const full = deps.growth?.batchRefusal(
    scan.combos.map((c) => ({ sensor: c.sensor, room: storedRoom(c, registry), metric: c.metric, unit: unitOf(c) })),
    catalog,
    registry.records,
  );
  if (full) {
    deps.growth!.refused('upload', full.limit, full.reason, scan.rows);
    throw new HubError('too_many_series', `the file would take the hub past its limits, so nothing of it was stored: ${full.reason}`);
  }
  const now = deps.now();
  const mapping: UploadMapping[] = scan.combos.map((c) => {
    const known = registry.records.get(c.sensor);
    const room = storedRoom(c, registry);
    const unit = c.unit ?? defaultUnit(c.metric, known?.declaredMetrics);
    const seriesId = catalog.seriesId(c.sensor, room, c.metric, unit);
    const channel = catalog.channel(seriesId);
    // From here on, a live reading at or below the file's newest ts is checked against the store.
    catalog.raiseBound(channel, c.maxTs);
    registry.seenInData(c.sensor, room, c.metric, now);
    return { ...c, seriesId, channel: channel.id };
  });
  const newSeries = catalog.takeUnsaved();
  let result: UploadCommitResult;
  try {
    result = await deps.store.commitUpload({ file, newSeries, mapping, windows: scan.windows, publish: deps.hasSubscribers() });
  } catch (err) {
    catalog.restoreUnsaved(newSeries);
    throw err;
  }
  // Latest only moves forward: an old backfill leaves a newer latest alone.
  for (const n of result.newest) catalog.offerLatest(n.seriesId, n.ts, n.value);
  deps.onStored?.(result);
  for (let k = 0; k < result.newsWindows && deps.publish; k++) deps.publish(await deps.store.uploadNews(path, k, result.taken));
  const expired = result.expired ?? 0;
  return {
    accepted: result.accepted,
    duplicates: result.duplicates,
    ...(expired > 0 ? { expired, retained_from: new Date(result.retainedFromMs!).toISOString() } : {}),
  };
}

/** The 422 for a file with bad rows, listing them exactly. */
async function invalidUpload(path: string, columns: string[], nowMs: number, readerMessage: string | null): Promise<HubError> {
  const report = await listBadRows(path, columns, nowMs);
  if (report.rows.length === 0) {
    // The exact pass found nothing: say what the store's reader said rather than nothing.
    return new HubError('invalid_csv', readerMessage ? `the CSV could not be read: ${firstLine(readerMessage)}` : 'some rows are invalid', {
      rows: [],
    });
  }
  return new HubError('invalid_csv', `${report.total} row${report.total === 1 ? ' is' : 's are'} invalid; nothing was stored`, {
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
  const source = createReadStream(path);
  const guard = recordGuard(MAX_RECORD_BYTES);
  const parser = source.pipe(guard).pipe(parse({ bom: true, from_line: 2, relax_column_count: true, skip_empty_lines: true, info: true }));
  try {
    for await (const { record, info } of parser as AsyncIterable<{ record: string[]; info: { lines: number } }>) {
      // Empty fields past the header's last column are ignored, as DuckDB's reader ignores them
      // (spreadsheets write them); anything else in them makes the row bad.
      if (record.length !== columns.length && !(record.length > columns.length && record.every((f, i) => i < columns.length || f === ''))) {
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
  } finally {
    source.destroy();
  }
  if (guard.tooLong !== null)
    note(
      guard.tooLong,
      `the row is longer than ${MAX_RECORD_BYTES} bytes (a row of readings is far shorter); the rest of the file was not read`,
    );
  return { total, rows };
}

function firstLine(s: string): string {
  return s.split('\n', 1)[0] ?? s;
}
