import { readFileSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { API_ERRORS } from '../protocol/api-errors.ts';
import { BEGIN, DOCS_PATH, END, FIX_COMMAND, renderTable, withTable } from './api-error-table.ts';

test('the table of error codes in docs/API.md is the registry’s (protocol/api-errors.ts)', async () => {
  const doc = readFileSync(DOCS_PATH, 'utf8');
  const expected = withTable(doc, await renderTable());
  if (doc !== expected) assert.unreachable(`docs/API.md's error table differs from protocol/api-errors.ts: run \`${FIX_COMMAND}\``);
});

test('the table has one row per code, with its status, and its other statuses with when', async () => {
  const table = await renderTable();
  const rows = table.split('\n').slice(2);
  assert.is(rows.length, Object.keys(API_ERRORS).length);
  assert.match(table, /\| 403 +\| `forbidden_room` +\|/);
  assert.match(table, /\| 422 +\| `invalid_csv` +\| [^|]*400 when the body is not CSV text/);
  const statuses = rows.map((r) => Number(/^\| (\d+)/.exec(r)![1]));
  assert.equal(
    statuses,
    [...statuses].sort((a, b) => a - b),
    'by status',
  );
});

test('the table replaces what is between the markers, and only that', () => {
  const doc = `# API\n\nbefore\n${BEGIN}\nold table\n${END}\nafter\n`;
  const out = withTable(doc, '| t |');
  assert.is(out, `# API\n\nbefore\n${BEGIN}\n\n| t |\n\n${END}\nafter\n`);
  assert.is(withTable(out, '| t |'), out, 'writing it again changes nothing');
});

test('a doc without both markers, in order, is refused with the markers to add', () => {
  for (const doc of ['no markers', `${END}\n${BEGIN}`, `${BEGIN}\n${BEGIN}\n${END}`, `${BEGIN} only`]) {
    assert.throws(
      () => withTable(doc, '| t |'),
      (err: Error) => err.message.includes(BEGIN) && err.message.includes(END),
      doc,
    );
  }
});

test.run();
