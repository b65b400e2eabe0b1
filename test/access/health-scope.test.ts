// Health is open to probes (ADMIN.md "When the hub asks for credentials"), but its hub-wide
// counts and the store's error, which names paths, are only for those who may see every room.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { json, request } from '../support/api-client.ts';
import { bearer, seedDemo, startAccessHub } from '../support/access-setup.ts';
import { exitWhenDone, perTest } from '../support/teardown.ts';

test.after.each(() => perTest.run());
test.after(() => exitWhenDone());

const HUB_WIDE = ['sensors_connected', 'sensors_known', 'readings_stored', 'series', 'memory'];

test('without a login, or with one of some rooms only, health says only its status, the auth rules and the version', async () => {
  const h = await startAccessHub();
  const tokens = await seedDemo(h.httpPort);
  for (const [who, headers] of [
    ['nobody', {}],
    ['a bad token', bearer('rwu_not-a-session')],
    ['alex (two rooms)', bearer(tokens.alex)],
    ['sue (an admin of three rooms)', bearer(tokens.sue)],
  ] as const) {
    const res = await request(h.httpPort, '/api/v1/health', { headers });
    assert.is(res.status, 200, who);
    const body = json(res);
    assert.equal(Object.keys(body).sort(), ['auth', 'status', 'version'], who);
    assert.is(body.status, 'ok', who);
  }
  const root = json(await request(h.httpPort, '/api/v1/health', { headers: bearer(tokens.root) }));
  for (const key of HUB_WIDE) assert.ok(key in root, `root (every room) sees ${key}`);
});

test('on an open hub health shows everything to anyone', async () => {
  const h = await startAccessHub();
  const body = json(await request(h.httpPort, '/api/v1/health'));
  for (const key of HUB_WIDE) assert.ok(key in body, key);
});

test.run();
