// The identity rule (one reading per sensor, metric, ts) holds across
// restarts, also when a sensor comes back in another room or with another unit, which
// makes a new series in the same (sensor, metric) channel.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { startHub, tempDataDir } from '../../test/support/hub-process.ts';
import { connect } from '../../test/support/tcp-sensor.ts';
import { perTest } from '../../test/support/teardown.ts';
import { readStoredReadings } from '../../test/support/store-inspect.ts';

test.after.each(() => perTest.run());

test('after a restart, a repeat sent from another room is still a duplicate, and new readings of the new series are stored', async () => {
  const dir = (await tempDataDir()).path;
  const ts = Date.now() - 60_000;
  const first = await startHub({ dataDir: dir });
  const a = await connect(first.tcpPort);
  await a.hello('rs-1', 'attic');
  await a.send({
    type: 'batch',
    seq: 1,
    readings: [
      { metric: 'temperature', value: 20, ts },
      { metric: 'temperature', value: 21, ts: ts + 1000 },
    ],
  });
  await a.ackCovering(1);
  await a.close();
  await first.stop();

  const second = await startHub({ dataDir: dir });
  const b = await connect(second.tcpPort);
  await b.hello('rs-1', 'cellar'); // a new series (room) in the same channel
  await b.send({
    type: 'batch',
    seq: 1,
    readings: [
      { metric: 'temperature', value: 99, ts },
      { metric: 'temperature', value: 22, ts: ts + 2000 },
    ],
  });
  await b.ackCovering(1);
  await b.send({ type: 'reading', metric: 'temperature', value: 98, unit: 'F', ts: ts + 1000, seq: 2 }); // another unit: new series, same identity
  await b.ackCovering(2);
  await b.close();
  await second.stop();

  const stored = await readStoredReadings(dir);
  assert.equal(
    stored.map((r) => [r.room, r.unit, r.ts - ts, r.value]),
    [
      ['attic', 'C', 0, 20],
      ['attic', 'C', 1000, 21],
      ['cellar', 'C', 2000, 22],
    ],
  );
});

test.run();
