/**
 * The CSV columns of the history export and of the bulk upload (PROTOCOL.md §2). They are one
 * concept: "exactly what history.csv exports (raw) must upload again unchanged", so the upload
 * must take every column a raw export writes, and need none it does not write. columns.test.ts
 * proves it; the hub writes and reads its CSV with these lists, the CLI and tests check with them.
 */

/** `GET /api/v1/history.csv` without `every`: one row per reading. */
export const RAW_COLUMNS = ['ts', 'sensor', 'room', 'metric', 'value', 'unit'] as const;

/** With `every`: one row per (series, bucket), `ts` the bucket's start. */
export const BUCKET_COLUMNS = ['ts', 'sensor', 'room', 'metric', 'unit', 'count', 'min', 'max', 'mean'] as const;

/** `POST /api/v1/readings`: columns by name, in any order; others are ignored. */
export const REQUIRED_UPLOAD_COLUMNS = ['ts', 'sensor', 'metric', 'value'] as const;
export const OPTIONAL_UPLOAD_COLUMNS = ['room', 'unit'] as const;

export type RawColumn = (typeof RAW_COLUMNS)[number];
export type BucketColumn = (typeof BUCKET_COLUMNS)[number];
export type UploadColumn = (typeof REQUIRED_UPLOAD_COLUMNS)[number] | (typeof OPTIONAL_UPLOAD_COLUMNS)[number];

/** A header row as the export writes it: the names joined by commas (none needs quoting), then a newline. */
export function headerRow(columns: readonly string[]): string {
  return columns.join(',') + '\n';
}

/** `(required: ts, sensor, metric, value; optional: room, unit)`, for messages about a header. */
export const UPLOAD_COLUMNS_TEXT = `(required: ${REQUIRED_UPLOAD_COLUMNS.join(', ')}; optional: ${OPTIONAL_UPLOAD_COLUMNS.join(', ')})`;

/** The required upload columns a header lacks, in the list's order. */
export function missingUploadColumns(header: readonly string[]): UploadColumn[] {
  return REQUIRED_UPLOAD_COLUMNS.filter((c) => !header.includes(c));
}
