// The store's side of the activity log (docs/ADMIN.md "Activity log (admin)"): a batch lands
// whole or not at all, a failed one leaves nothing open that would block the store (a later
// CHECKPOINT, as at stop, works), and a batch stored twice is stored once.
import { join } from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { tempDataDir } from '../../test/support/hub-process.ts';
import { perTest } from '../../test/support/teardown.ts';
import type { ActivityRow } from '../access/access-records.ts';
import { appendActivity } from './access-sql.ts';
import { DDL } from './schema.ts';

test.after.each(() => perTest.run());

async function openStore() {
  const dir = (await tempDataDir()).path;
  const instance = await DuckDBInstance.create(join(dir, 'activity.duckdb'));
  const c = await instance.connect();
  for (const sql of DDL) await c.run(sql);
  perTest.add('activity store', () => {
    c.closeSync();
    instance.closeSync();
  });
  const ids = async () => (await c.runAndReadAll('SELECT id FROM activity ORDER BY id')).getRows().map(([id]) => Number(id));
  return { c, ids };
}

const row = (id: number, detail = 'd'): ActivityRow => ({
  id,
  ts: 1,
  actor: 'root',
  address: '127.0.0.1',
  action: 'export',
  target: '',
  outcome: 'ok',
  code: 200,
  detail,
});

test('a batch that fails in the middle stores none of its rows, and leaves no transaction open: CHECKPOINT works', async () => {
  const { c, ids } = await openStore();
  // The third row cannot be appended (an id that is no number): the first two were already in the appender.
  const bad = [row(1), row(2), { ...row(3), id: Number.NaN }, row(4)];
  let failed = false;
  await appendActivity(c, bad).catch(() => (failed = true));
  assert.ok(failed, 'the batch fails');
  assert.equal(await ids(), [], 'none of it is stored');
  await c.run('CHECKPOINT');
  await appendActivity(c, [row(1), row(2)]);
  await c.run('CHECKPOINT');
  assert.equal(await ids(), [1, 2], 'the store takes the next batch');
});

test('a batch stored again (a retry whose first try was stored after all) adds nothing and fails nothing', async () => {
  const { c, ids } = await openStore();
  await appendActivity(c, [row(1), row(2)]);
  await appendActivity(c, [row(1), row(2), row(3)]);
  assert.equal(await ids(), [1, 2, 3]);
});

test.run();
