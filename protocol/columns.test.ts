// The CSV columns of PROTOCOL.md §2 (protocol/columns.ts): "Raw columns: ts,sensor,room,metric,
// value,unit. With every: ts,sensor,room,metric,unit,count,min,max,mean" and, for the upload,
// "ts, sensor, metric, value required; room, unit optional". "Exactly what history.csv exports
// (raw) must upload again unchanged": the lists must fit each other.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  BUCKET_COLUMNS,
  headerRow,
  missingUploadColumns,
  OPTIONAL_UPLOAD_COLUMNS,
  RAW_COLUMNS,
  REQUIRED_UPLOAD_COLUMNS,
  UPLOAD_COLUMNS_TEXT,
} from './columns.ts';

test('the header rows are the contract’s, word for word', () => {
  assert.is(headerRow(RAW_COLUMNS), 'ts,sensor,room,metric,value,unit\n');
  assert.is(headerRow(BUCKET_COLUMNS), 'ts,sensor,room,metric,unit,count,min,max,mean\n');
});

test('a raw export has every required upload column, and every column it writes is one the upload reads', () => {
  assert.equal(missingUploadColumns(RAW_COLUMNS), []);
  const read = new Set<string>([...REQUIRED_UPLOAD_COLUMNS, ...OPTIONAL_UPLOAD_COLUMNS]);
  for (const c of RAW_COLUMNS) assert.ok(read.has(c), `the upload ignores the raw column ${c}: a round trip would lose it`);
  assert.is(read.size, RAW_COLUMNS.length, 'the upload reads no column the export does not write');
});

test('a bucketed export is not an upload: it has no value column', () => {
  assert.equal(missingUploadColumns(BUCKET_COLUMNS), ['value']);
});

test('the missing columns are named in the required list’s order', () => {
  assert.equal(missingUploadColumns(['value', 'room']), ['ts', 'sensor', 'metric']);
  assert.is(UPLOAD_COLUMNS_TEXT, '(required: ts, sensor, metric, value; optional: room, unit)');
});

test('no column name needs quoting in a header row', () => {
  for (const c of [...RAW_COLUMNS, ...BUCKET_COLUMNS]) assert.ok(/^[a-z]+$/.test(c), c);
});

test.run();
