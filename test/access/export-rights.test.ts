// docs/API.md "GET /api/v1/history.csv" and docs/ADMIN.md "Access control": an export under way
// has no more rights than a new request would. When its user logs out, or loses a room it
// reads, the hub cuts it off (the CSV ends without its last chunk) and the activity log says
// why; an export that reads only rooms the user keeps goes on.
import http from 'node:http';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { waitFor } from '../support/api-client.ts';
import { activity, asUser, bearer, login, putUser, startAccessHub } from '../support/access-setup.ts';
import { withTimeout, type InProcessHub } from '../support/hub-process.ts';
import { exitWhenDone, perTest } from '../support/teardown.ts';

test.after.each(() => perTest.run());
test.after(() => exitWhenDone());

const PASSWORD = 'password-1';
const ROWS_PER_ROOM = 200_000;

/** A hub with root and alex (viewer of er-a and er-b), and exports of each room too big for socket buffers. */
async function world(): Promise<{ h: InProcessHub; root: string; alex: string }> {
  const h = await startAccessHub();
  await putUser(h.httpPort, 'root', { role: 'admin', rooms: ['*'], password: PASSWORD });
  const root = (await login(h.httpPort, 'root', PASSWORD)).token;
  await putUser(h.httpPort, 'alex', { role: 'viewer', rooms: ['er-a', 'er-b'], password: PASSWORD }, root);
  const lines = ['ts,sensor,room,metric,value,unit'];
  const t0 = Date.parse('2025-04-01T00:00:00.000Z');
  for (const room of ['er-a', 'er-b'])
    for (let i = 0; i < ROWS_PER_ROOM; i++) lines.push(`${t0 + i},${room}-s${i % 5},${room},temperature,${i % 50},C`);
  const up = await asUser(h.httpPort, root).upload(lines.join('\n') + '\n');
  assert.is(up.status, 200, up.text);
  return { h, root, alex: (await login(h.httpPort, 'alex', PASSWORD)).token };
}

/** An export that takes its first bytes, then reads nothing until `resume()`; `ended` says whether it came whole. */
function heldExport(port: number, token: string, room: string): Promise<{ resume(): void; closed: Promise<boolean> }> {
  return new Promise((resolve, reject) => {
    let whole = false;
    const req = http.get(
      { host: '127.0.0.1', port, path: `/api/v1/history.csv?room=${room}`, agent: false, headers: bearer(token) },
      (res) => {
        if (res.statusCode !== 200) return reject(new Error(`status ${res.statusCode}`));
        const closed = new Promise<boolean>((done) => res.socket.once('close', () => done(whole)));
        res.on('end', () => (whole = true));
        res.on('error', () => undefined);
        res.once('data', () => {
          res.pause();
          resolve({ resume: () => res.resume(), closed });
        });
      },
    );
    perTest.add('held export', () => req.destroy());
    req.on('error', () => undefined);
  });
}

async function cutReason(w: { h: InProcessHub; root: string }): Promise<string> {
  const e = await waitFor('the cut export in the activity log', async () =>
    (await activity(w.h.httpPort, w.root, '?action=export&actor=alex')).events.find((x) => Number(x.code) === 499),
  );
  return String(e.detail);
}

test('a room taken from the user cuts off its export of that room; its export of a room it keeps goes on', async () => {
  const w = await world();
  const ofB = await heldExport(w.h.httpPort, w.alex, 'er-b');
  const ofA = await heldExport(w.h.httpPort, w.alex, 'er-a');
  await putUser(w.h.httpPort, 'alex', { role: 'viewer', rooms: ['er-a'] }, w.root);
  assert.match(await cutReason(w), /a room it reads is no longer the user’s/);
  ofB.resume();
  assert.is(await withTimeout(ofB.closed, 10_000, 'the export of er-b ending'), false, 'it ends short of its end');
  ofA.resume();
  assert.is(await withTimeout(ofA.closed, 30_000, 'the export of er-a ending'), true, 'the export of er-a comes whole');
});

test('a logout cuts off the exports of that login', async () => {
  const w = await world();
  const held = await heldExport(w.h.httpPort, w.alex, 'er-a');
  assert.is((await asUser(w.h.httpPort, w.alex).post('/api/v1/logout')).status, 200);
  assert.match(await cutReason(w), /its login ended/);
  held.resume();
  assert.is(await withTimeout(held.closed, 10_000, 'the export ending'), false);
});

test.run();
