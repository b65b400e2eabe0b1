// docs/ADMIN.md "Backup and restore": `roomwatch backup --out FILE` writes the hub's backup to FILE
// (atomically: a temporary name, renamed once complete) and prints what it holds; the file
// restores; a viewer is refused and no file appears.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { runCliProcess } from '../../dashboard-cli/testing/run-cli-process.ts';
import { restoreBackup } from '../../hub/store/restore.ts';
import { seedDemo, startAccessHub } from '../support/access-setup.ts';
import { uploadOk } from '../support/api-client.ts';
import { tempDataDir } from '../support/hub-process.ts';
import { exitWhenDone, perTest } from '../support/teardown.ts';

test.after.each(() => perTest.run());
test.after(() => exitWhenDone());

const HOUR_AGO = Date.now() - 3_600_000;

test('backup --out FILE writes a backup that restores, and prints its tables; --json gives the summary', async () => {
  const hub = await startAccessHub();
  await uploadOk(
    hub.httpPort,
    'ts,sensor,room,metric,value,unit\n' +
      Array.from({ length: 50 }, (_, i) => `${HOUR_AGO + i * 1000},rack-a,lab,temperature,${i},C`).join('\n'),
  );
  const { root } = await seedDemo(hub.httpPort);
  const work = (await tempDataDir()).path;
  const file = join(work, 'nightly.backup');
  const url = `http://127.0.0.1:${hub.httpPort}`;
  const run = await runCliProcess(['backup', '--out', file, '--hub', url], { env: { ROOMWATCH_TOKEN: root } });
  assert.is(run.code, 0, run.stderr);
  assert.match(run.stdout, /wrote .*nightly\.backup: .*schema \d+/);
  assert.match(run.stdout, /readings\s+50\b/);
  assert.match(run.stdout, /users\s+4\b/);
  assert.equal(readdirSync(work), ['nightly.backup'], 'no temporary file left beside it');
  assert.ok(readFileSync(file).subarray(8, 12).equals(Buffer.from('DUCK')));
  const restored = await restoreBackup(file, join(work, 'restored'));
  assert.is(restored.tables.readings, 50);

  const json = await runCliProcess(['backup', '--out', join(work, 'again.backup'), '--json', '--hub', url], {
    env: { ROOMWATCH_TOKEN: root },
  });
  assert.is(json.code, 0, json.stderr);
  const summary = JSON.parse(json.stdout) as { tables: Record<string, number>; bytes: number };
  assert.is(summary.tables.readings, 50);
  assert.is(summary.bytes, readFileSync(join(work, 'again.backup')).length);
});

test('a viewer is refused (exit code of a refusal, no file), and --out is required', async () => {
  const hub = await startAccessHub();
  const { sandy } = await seedDemo(hub.httpPort);
  const work = (await tempDataDir()).path;
  const file = join(work, 'x.backup');
  const url = `http://127.0.0.1:${hub.httpPort}`;
  const refused = await runCliProcess(['backup', '--out', file, '--hub', url], { env: { ROOMWATCH_TOKEN: sandy } });
  assert.is.not(refused.code, 0);
  assert.match(refused.stderr, /admin/);
  assert.not.ok(existsSync(file));
  assert.equal(readdirSync(work), [], 'no temporary file either');
  const usage = await runCliProcess(['backup', '--hub', url], { env: { ROOMWATCH_TOKEN: sandy } });
  assert.is(usage.code, 2, usage.stderr);
  assert.match(usage.stderr, /--out FILE/);
});

test.run();
