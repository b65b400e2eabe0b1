// docs/DASHBOARD.md "Sensors": the Sensors view in real Chromium shows each sensor's address as
// `GET /api/v1/sensors` lists it, and learns of connects and disconnects by reloading that list
// (the stream carries readings only): one reload every 10 s, never two chains of them.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { launchBrowser } from '../support/browser.ts';
import { startHub } from '../support/hub-process.ts';
import { connect } from '../support/tcp-sensor.ts';
import { exitWhenDone, perTest } from '../support/teardown.ts';
import { openPage } from './dashboard-fixture.ts';

test.after.each(() => perTest.run());
test.after(() => exitWhenDone());

/** web/src/fleet.ts SENSORS_RELOAD_MS: the next reload is armed when the previous one ends */
const RELOAD_MS = 10_000;
/** a reload every 10 s, a redraw, on a busy machine */
const CHANGE_SEEN_MS = 40_000;

interface Listed {
  sensor: string;
  address?: string | null;
}

async function listed(port: number, sensor: string): Promise<Listed | undefined> {
  const body = (await (await fetch(`http://127.0.0.1:${port}/api/v1/sensors`)).json()) as { sensors: Listed[] };
  return body.sensors.find((s) => s.sensor === sensor);
}

test("the Sensors view shows each sensor's address, and a disconnect and a new sensor within a reload, with one reload chain", async () => {
  const b = await launchBrowser('sensors view browser test');
  if (!b) return;
  perTest.add('browser', () => b.close());
  const h = await startHub();
  const first = await connect(h.tcpPort);
  await first.hello('sv-first', 'attic');
  await first.send({ type: 'reading', metric: 'temperature', value: 20.5, seq: 1 });
  await first.ackCovering(1);
  const address = (await listed(h.httpPort, 'sv-first'))?.address;
  assert.match(String(address), /^127\.0\.0\.1:\d+$/, 'the API lists the address');

  const p = await openPage(b.browser, h.httpPort);
  await p.goto('/sensors');
  const table = p.page.getByRole('table');
  const row = (sensor: string) => table.getByRole('row').filter({ has: p.page.getByRole('rowheader', { name: sensor, exact: true }) });
  const cells = async (sensor: string) => (await row(sensor).getByRole('cell').allInnerTexts()).map((t) => t.trim());
  await row('sv-first').getByText('connected', { exact: true }).waitFor();
  // cells: room, connection, last seen, address, metrics
  assert.is((await cells('sv-first'))[3], address, 'the address cell shows what the API lists');
  const opened = Date.now();

  await first.close();
  await row('sv-first').getByText('disconnected', { exact: true }).waitFor({ timeout: CHANGE_SEEN_MS });
  assert.is((await cells('sv-first'))[3], address, 'a disconnected sensor keeps the address it was last at');

  const second = await connect(h.tcpPort);
  await second.hello('sv-second', 'cellar'); // no reading: only the reloaded list can tell the page
  await row('sv-second').getByText('connected', { exact: true }).waitFor({ timeout: CHANGE_SEEN_MS });
  assert.is((await cells('sv-second'))[3], (await listed(h.httpPort, 'sv-second'))?.address);

  const reloads = p.requests.filter((r) => new URL(r.url).pathname === '/api/v1/sensors').map((r) => r.at);
  assert.ok(reloads.length >= 2, `the list was reloaded: ${reloads.length} requests in ${Date.now() - opened} ms`);
  for (let i = 1; i < reloads.length; i++) {
    // a second chain of reloads (a view polling on its own) would ask sooner than this
    assert.ok(
      reloads[i]! - reloads[i - 1]! >= RELOAD_MS - 500,
      `gaps between reloads: ${reloads.map((t) => t - reloads[0]!).join(', ')} ms`,
    );
  }
  assert.not.ok(
    p.requests.some((r) => /\/api\/v1\/(latest|history)/.test(r.url) && r.at > opened + 1_000),
    'readings are never polled',
  );
  assert.equal(p.errors, [], 'no console errors');
});

test.run();
