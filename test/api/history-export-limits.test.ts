// docs/API.md "GET /api/v1/history.csv", limits: exports hold store work and memory for as long
// as their clients take, so they are bounded. Beyond maxExportsPerUser per user or
// maxConcurrentExports in all, an export is refused with 429 too_many_exports and Retry-After;
// an export whose client reads nothing for exportStallTimeoutMs is cancelled, frees its place,
// and is in the activity log.
import http from 'node:http';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { errorBody, request, waitFor } from '../support/api-client.ts';
import { activity, asUser, bearer, expectRefused, login, putUser, startAccessHub } from '../support/access-setup.ts';
import { withTimeout, type InProcessHub } from '../support/hub-process.ts';
import { parseExposition, value } from '../support/prometheus.ts';
import { exitWhenDone, perTest } from '../support/teardown.ts';

test.after.each(() => perTest.run());
test.after(() => exitWhenDone());

const PASSWORD = 'password-1';
const BIG_ROWS = 300_000;

interface World {
  h: InProcessHub;
  root: string;
  ann: string;
  bob: string;
}

/** A hub with `root`, `ann` and `bob` (viewers of every room), and an export too big to sit in socket buffers. */
async function world(options: Parameters<typeof startAccessHub>[0]): Promise<World> {
  const h = await startAccessHub(options);
  await putUser(h.httpPort, 'root', { role: 'admin', rooms: ['*'], password: PASSWORD });
  const root = (await login(h.httpPort, 'root', PASSWORD)).token;
  for (const name of ['ann', 'bob']) await putUser(h.httpPort, name, { role: 'viewer', rooms: ['*'], password: PASSWORD }, root);
  const lines = ['ts,sensor,room,metric,value,unit'];
  const t0 = Date.parse('2025-03-01T00:00:00.000Z');
  for (let i = 0; i < BIG_ROWS; i++) lines.push(`${t0 + i},xl-big-${i % 10},xl-big,temperature,${i % 100},C`);
  lines.push(`${t0},xl-small,xl-small,temperature,1,C`);
  const up = await asUser(h.httpPort, root).upload(lines.join('\n') + '\n');
  assert.is(up.status, 200, up.text);
  const [ann, bob] = await Promise.all(['ann', 'bob'].map(async (n) => (await login(h.httpPort, n, PASSWORD)).token));
  return { h, root, ann: ann!, bob: bob! };
}

interface StalledExport {
  /** hangs up */
  end(): void;
  /** reads again */
  resume(): void;
  /** once the connection has closed */
  closed: Promise<void>;
  /** whether the response came to its proper end */
  complete(): boolean;
}

/** An export whose client takes its first bytes, then reads nothing more. */
function stalledExport(port: number, token: string): Promise<StalledExport> {
  return new Promise((resolve, reject) => {
    let done!: () => void;
    const closed = new Promise<void>((r) => (done = r));
    let ended = false;
    const req = http.get(
      { host: '127.0.0.1', port, path: '/api/v1/history.csv?room=xl-big', agent: false, headers: bearer(token) },
      (res) => {
        if (res.statusCode !== 200) return reject(new Error(`status ${res.statusCode}`));
        res.once('data', () => {
          res.pause();
          resolve({ end: () => req.destroy(), resume: () => res.resume(), closed, complete: () => ended });
        });
        res.on('end', () => {
          ended = true;
          reject(new Error('the export ended: too small to hold a place'));
        });
        res.on('error', () => undefined);
        // A paused response says nothing of its end: its socket does.
        res.socket.once('close', () => done());
      },
    );
    perTest.add('stalled export', () => req.destroy());
    req.on('error', () => undefined);
  });
}

async function exportsRunning(port: number, token: string): Promise<number> {
  const res = await request(port, '/metrics', { headers: bearer(token) });
  return value(parseExposition(res.text), 'roomwatch_exports_running');
}

const small = (w: World, token: string) => asUser(w.h.httpPort, token).get('/api/v1/history.csv?room=xl-small');

test('beyond 2 exports per user or 3 in all, an export is refused with 429 too_many_exports and Retry-After; a place comes free when one ends', async () => {
  const w = await world({ maxConcurrentExports: 3, maxExportsPerUser: 2 });
  const port = w.h.httpPort;
  const ann1 = await stalledExport(port, w.ann);
  await stalledExport(port, w.ann);
  const third = await small(w, w.ann);
  expectRefused(third, 429, 'too_many_exports', 'ann’s third');
  assert.match(errorBody(third).message, /one user may run at once/);
  assert.is((await small(w, w.bob)).status, 200, 'bob may still export: the hub runs 2 of 3');
  await stalledExport(port, w.bob);
  const full = await small(w, w.bob);
  expectRefused(full, 429, 'too_many_exports', 'the hub’s fourth');
  assert.match(errorBody(full).message, /the most it runs at once/);
  assert.is(await exportsRunning(port, w.root), 3);

  ann1.end();
  await waitFor('ann may export again', async () => (await small(w, w.ann)).status === 200);
  const refused = (await activity(port, w.root, '?action=export&limit=1000')).events.filter((e) => Number(e.code) === 429);
  assert.ok(
    refused.length >= 2 && refused.every((e) => e.outcome === 'denied'),
    `the refusals are in the activity log: ${JSON.stringify(refused)}`,
  );
});

test('an export whose client reads nothing for exportStallTimeoutMs is cancelled: its place is freed and the activity log says why', async () => {
  const w = await world({ exportStallTimeoutMs: 1_000 });
  const stalled = await stalledExport(w.h.httpPort, w.ann);
  await waitFor('the stalled export cancelled', async () => (await exportsRunning(w.h.httpPort, w.root)) === 0);
  // The hub hung up: what it had sent still sits in the socket, then the connection ends, short of its end.
  stalled.resume();
  await withTimeout(stalled.closed, 10_000, 'the hub hanging up');
  assert.not.ok(stalled.complete(), 'the CSV ends short: no final chunk');
  const cut = await waitFor('the cancelled export in the activity log', async () => {
    const events = (await activity(w.h.httpPort, w.root, '?action=export&actor=ann')).events;
    return events.find((e) => Number(e.code) === 499);
  });
  assert.match(String(cut.detail), /read nothing for 1 s/);
  assert.is(cut.outcome, 'failed');
});

test.run();
