// docs/ADMIN.md "Activity log (admin)": an export is recorded however it ends. Ctrl-C on
// `cli history --out` by a logged-in user, with real processes only: a hub process, the CLI
// process interrupted (SIGINT) while the hub is still sending the CSV. Afterwards the export is
// in the activity log, later events are stored too, and the hub stops cleanly (exit 0).
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { runCliProcess, type CliResult } from '../../dashboard-cli/testing/run-cli-process.ts';
import { waitFor } from '../support/api-client.ts';
import { activity, asUser, login, putUser, type ActivityEvent } from '../support/access-setup.ts';
import { startHubProcess, tempDataDir, withTimeout } from '../support/hub-process.ts';
import { exitWhenDone, perTest } from '../support/teardown.ts';

test.after.each(() => perTest.run());
test.after(() => exitWhenDone());

const PASSWORD = 'root-password';
const ROWS = 1_000_000;

/** A CSV of `ROWS` readings: an export of it takes long enough to interrupt. */
function bigCsv(): string {
  const t0 = Date.parse('2025-01-01T00:00:00.000Z');
  const lines = ['ts,sensor,room,metric,value,unit'];
  for (let i = 0; i < ROWS; i++) lines.push(`${t0 + i},cut-${i % 10},lab,temperature,${i % 1000},C`);
  return lines.join('\n') + '\n';
}

/** The CLI's temporary download beside `out` (`.<name>.<id>.part`), once it has bytes. */
async function partFileHasBytes(dir: string): Promise<boolean> {
  const { stat } = await import('node:fs/promises');
  for (const name of await readdir(dir)) {
    if (name.endsWith('.part') && (await stat(join(dir, name))).size > 0) return true;
  }
  return false;
}

test('Ctrl-C on `cli history --out` mid-export: the export is in the activity log, later events are stored, and the hub stops with exit 0', async () => {
  const dataDir = (await tempDataDir()).path;
  const home = (await tempDataDir()).path;
  const hub = await startHubProcess({ dataDir });
  const url = `http://127.0.0.1:${hub.httpPort}`;
  await putUser(hub.httpPort, 'root', { role: 'admin', rooms: ['*'], password: PASSWORD });
  const root = (await login(hub.httpPort, 'root', PASSWORD)).token;
  const up = await asUser(hub.httpPort, root).upload(bigCsv());
  assert.is(up.status, 200, up.text);

  const env = { ROOMWATCH_CONFIG_DIR: join(home, 'config') };
  const loggedIn = await runCliProcess(['login', 'root', '--password-stdin', '--hub', url], { env, stdin: `${PASSWORD}\n` });
  assert.is(loggedIn.code, 0, loggedIn.stderr);

  // The CLI is frozen (SIGSTOP) as soon as CSV reaches its file, so the hub is mid-export when
  // Ctrl-C (SIGINT) arrives; SIGCONT lets it handle the signal.
  let interrupted = false;
  const run: Promise<CliResult> = runCliProcess(['history', '--out', join(home, 'all.csv'), '--hub', url], {
    env,
    onStart: (child) => {
      void waitFor('CSV in the CLI’s temporary file', () => partFileHasBytes(home), 30_000, 5).then(() => {
        child.kill('SIGSTOP');
        child.kill('SIGINT');
        child.kill('SIGCONT');
        interrupted = true;
      });
    },
  });
  const cli = await run;
  assert.ok(interrupted, 'the CLI was interrupted');
  assert.is.not(cli.code, 0, `the interrupted CLI does not report success: ${cli.stdout} ${cli.stderr}`);
  assert.equal(
    (await readdir(home)).filter((n) => n.includes('all.csv')),
    [],
    'neither the file nor its temporary part is left',
  );

  // The export, cut short, is in the log; and the log is not wedged: a later login is stored too.
  const isCut = (e: ActivityEvent) => e.action === 'export' && e.actor === 'root' && Number(e.code) === 499;
  let events: ActivityEvent[] = [];
  await waitFor('the interrupted export in the activity log', async () => {
    events = (await activity(hub.httpPort, root, '?limit=1000')).events;
    return events.some(isCut);
  }).catch(() => assert.unreachable(`no export with code 499; the log:\n${events.map((e) => JSON.stringify(e)).join('\n')}`));
  const cut = events.find(isCut)!;
  assert.match(String(cut.address), /127\.0\.0\.1/, `the address of a client that is gone: ${JSON.stringify(cut)}`);
  await login(hub.httpPort, 'root', PASSWORD);
  await waitFor('a later login in the activity log', async () => {
    const later = (await activity(hub.httpPort, root, `?after=${cut.id}&action=login`)).events;
    return later.length > 0;
  });

  hub.kill('SIGINT');
  const exit = await withTimeout(hub.exited, 30_000, 'the hub stopping');
  assert.equal(exit, { code: 0, signal: null }, `the hub stops cleanly; its output:\n${hub.output().slice(-3000)}`);
  assert.not.match(hub.output(), /could not store activity|CHECKPOINT/, 'no activity event failed to be stored');
});

test.run();
