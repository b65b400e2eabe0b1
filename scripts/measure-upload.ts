/**
 * How much a large upload holds up live sensors, and how much memory it takes: a measurement
 * to run by hand, not a timed test (it takes a minute and wants the machine to itself).
 *
 *   npx tsx scripts/measure-upload.ts [--rows 2000000] [--sensors 500] [--memory-limit 512MB]
 *
 * Starts a hub process on a temp folder, connects one sensor that sends a reading with a seq
 * every 20 ms and times each ack, then POSTs a generated CSV of --rows rows. Prints the upload's
 * time, the longest ack wait while it ran (the time the upload's commit held the store's queue,
 * plus one flush), and the hub's RSS before, at its peak, and after.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { peakRssBytes, rssBytes, startHub } from './bench/hub-process.ts';
import { liveSensor, runUpload, writeCsv } from './bench/upload.ts';

const { values } = parseArgs({
  options: {
    rows: { type: 'string', default: '2000000' },
    sensors: { type: 'string', default: '500' },
    'memory-limit': { type: 'string', default: '512MB' },
  },
});
const rows = Number(values.rows);
const sensorCount = Number(values.sensors);

const dir = mkdtempSync(join(tmpdir(), 'roomwatch-measure-upload-'));
try {
  const file = join(dir, 'upload.csv');
  await writeCsv(file, rows, sensorCount);
  const hub = await startHub(join(dir, 'data'), ['--memory-limit', values['memory-limit'], '--log-level', 'warn']);
  const pid = hub.child.pid!;
  const acks = await liveSensor(hub.tcpPort);
  await acks.settle();
  const rssBefore = rssBytes(pid);
  acks.mark();
  const upload = await runUpload(hub.httpPort, pid, file);
  const during = acks.mark();
  await acks.settle();
  const mb = (b: number) => `${Math.round(b / 1024 / 1024)} MB`;
  console.log(
    [
      `rows ${rows} (${sensorCount} series), file ${mb(upload.bytes)}`,
      `upload answered in ${Math.round(upload.elapsedMs)} ms: accepted ${upload.accepted}, duplicates ${upload.duplicates}`,
      `sensor acks during the upload: ${during.count}, longest wait ${Math.round(during.maxMs)} ms (median before it ${Math.round(during.medianBeforeMs)} ms)`,
      `hub RSS: before ${mb(rssBefore)}, peak of the process ${mb(peakRssBytes(pid))}, growth during the upload ${mb(upload.rssGrowthBytes)}, after ${mb(rssBytes(pid))}`,
    ].join('\n'),
  );
  acks.close();
  await hub.stop();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
