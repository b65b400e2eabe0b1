// §2 History export with `every`: a bucket's mean is written without the float noise of the
// store's sum (0.1, 0.2 and 0.3 average to 0.2, not 0.20000000000000004), and min and max exactly.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { csvRecords, history, uploadOk } from '../support/api-client.ts';
import { startHub } from '../support/hub-process.ts';
import { exitWhenDone, perTest } from '../support/teardown.ts';

test.after.each(() => perTest.run());
test.after(() => exitWhenDone());

const T0 = Date.UTC(2025, 10, 21, 8, 0, 0);

test('bucket means are written rounded to 12 significant digits, min and max as stored', async () => {
  const h = await startHub();
  const rows = [
    ['noise-a', 0.1],
    ['noise-a', 0.2],
    ['noise-a', 0.3],
    ['noise-b', 0.1],
    ['noise-b', 0.7],
    ['third-c', 1],
    ['third-c', 1],
    ['third-c', 2],
  ] as const;
  const csv = 'ts,sensor,room,metric,value,unit\n' + rows.map(([sensor, value], i) => `${T0 + i},${sensor},lab,level,${value},\n`).join('');
  assert.equal(await uploadOk(h.httpPort, csv), { accepted: rows.length, duplicates: 0 });
  const buckets = csvRecords(await history(h.httpPort, { every: '1h', time: 'ms' }));
  assert.equal(
    buckets.map((b) => [b.sensor, b.count, b.min, b.max, b.mean]),
    [
      ['noise-a', '3', '0.1', '0.3', '0.2'],
      ['noise-b', '2', '0.1', '0.7', '0.4'],
      ['third-c', '3', '1', '2', '1.33333333333'],
    ],
  );
});

test.run();
