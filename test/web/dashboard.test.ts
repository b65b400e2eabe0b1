// The dashboard (docs/DASHBOARD.md) in real Chromium, on an open hub (a process, `hub/main.ts`)
// with a fleet of simulated sensors (`sensors/main.ts`), an hour of uploaded history for some
// of them, and a "lab" room whose three sensors read far apart so each line shows: rooms and
// sensors on the overview, live values, charts drawn in their colours, zoom in the URL,
// report-now, the CSV download, the upload, a phone's width, and the page's own files only.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { parseDuration } from '../../protocol/duration.ts';
import { historyCsv } from '../../scripts/bench/room-history.ts';
import { request, uploadOk, waitFor } from '../support/api-client.ts';
import { launchBrowser, type LaunchedBrowser } from '../support/browser.ts';
import { sensors } from '../support/http.ts';
import { REPO_ROOT, startHubProcess, tempDataDir, type HubProcess } from '../support/hub-process.ts';
import { spawnNode } from '../support/node-process.ts';
import { connect } from '../support/tcp-sensor.ts';
import { exitWhenDone, perTest, Teardown } from '../support/teardown.ts';
import { chartsDrawn, legendColors, openPage, PHONE, pixelsByColor, roomCard, screenshot } from './dashboard-fixture.ts';

const file = new Teardown();
test.after.each(() => perTest.run());
test.after(async () => {
  await file.run();
  exitWhenDone();
});

const FLEET = 10;
const ROOMS = ['living-room', 'bedroom', 'kitchen', 'server-room', 'greenhouse'];
const LAB = ['lab-a', 'lab-b', 'lab-c'];

interface Setup {
  hub: HubProcess;
  browser: LaunchedBrowser;
}

let setup: Promise<Setup | null> | undefined;

/** One hub process, fleet and browser for the file: started by the first test that needs them. */
function shared(): Promise<Setup | null> {
  return (setup ??= (async () => {
    const browser = await launchBrowser('dashboard browser tests');
    if (!browser) return null;
    file.add('browser', () => browser.close());
    const dataDir = (await tempDataDir(file)).path;
    const hub = await startHubProcess({ dataDir }, file);
    const now = Date.now();
    // An hour of history for the living room's simulated sensors, so its view has a past.
    await uploadOk(
      hub.httpPort,
      historyCsv({
        sensors: ['sim-001', 'sim-006'].map((sensor) => ({ sensor, room: 'living-room' })),
        fromMs: now - 3_600_000,
        toMs: now - 60_000,
        intervalMs: 10_000,
      }),
    );
    // The lab: values 10, 40 and 70 apart, every 2 s from 12 to 4 minutes ago (stale now), so no line hides another.
    const lab = ['ts,sensor,room,metric,value,unit'];
    for (let t = now - 720_000; t < now - 240_000; t += 2_000)
      LAB.forEach((s, i) => lab.push(`${t},${s},lab,level,${10 + 30 * i + Math.sin(t / 60_000) * 3},mm`));
    await uploadOk(hub.httpPort, lab.join('\n') + '\n');
    spawnNode(
      ['sensors/main.ts', '--count', String(FLEET), '--host', '127.0.0.1', '--port', String(hub.tcpPort), '--interval', '1000'],
      {},
      file,
    );
    await waitFor(
      'the fleet connected',
      async () => (await sensors(hub.httpPort)).filter((s) => s.connected).length === FLEET,
      60_000,
      200,
    );
    return { hub, browser };
  })());
}

test('the overview has a card per room, titled by the room and linking to its view, listing every sensor with a value, unit and age', async () => {
  const s = await shared();
  if (!s) return;
  const p = await openPage(s.browser.browser, s.hub.httpPort);
  await p.goto('/');
  const all = await sensors(s.hub.httpPort);
  for (const room of [...ROOMS, 'lab']) {
    const card = roomCard(p.page, room);
    await card.waitFor();
    const link = card.getByRole('link', { name: room, exact: true });
    assert.is(await link.getAttribute('href'), `/room/${room}`);
    for (const sensor of all.filter((x) => x.room === room)) await card.getByText(sensor.sensor, { exact: true }).waitFor();
  }
  // a live sensor's card shows each metric with its unit and age; the uploaded lab is disconnected and stale
  const living = roomCard(p.page, 'living-room');
  await living.getByText('temperature').first().waitFor();
  await living
    .getByText(/\d+ s ago|now/)
    .first()
    .waitFor();
  await roomCard(p.page, 'lab').getByText('disconnected').first().waitFor();
  await roomCard(p.page, 'lab').getByText('stale').first().waitFor();
  assert.equal(p.errors, [], `no console errors: ${p.errors.join('; ')}`);
  await screenshot(p.page, 'overview.png');
});

test('a value on the overview changes within a few seconds of a new reading, from the stream (no polling of readings)', async () => {
  const s = await shared();
  if (!s) return;
  const p = await openPage(s.browser.browser, s.hub.httpPort);
  await p.goto('/');
  await roomCard(p.page, 'kitchen').waitFor();
  const probe = await connect(s.hub.tcpPort);
  await probe.hello('probe-1', 'kitchen');
  for (const [seq, value] of [
    [1, 31.25],
    [2, 32.75],
  ] as const) {
    await probe.send({ type: 'reading', metric: 'temperature', value, seq });
    const sent = Date.now();
    await roomCard(p.page, 'kitchen').getByText(String(value), { exact: true }).waitFor({ timeout: 5_000 });
    assert.ok(Date.now() - sent < 5_000);
  }
  const readingPolls = p.requests.filter((r) => r.url.includes('/api/v1/latest'));
  assert.is(readingPolls.length, 1, `latest is loaded once, then the stream: ${readingPolls.map((r) => r.url).join(', ')}`);
  assert.ok(
    p.requests.some((r) => r.url === `ws://127.0.0.1:${s.hub.httpPort}/api/v1/stream`),
    'the page opened the stream',
  );
});

test("a room view has a figure per metric, captioned by it, whose canvas has pixels in every sensor's colour", async () => {
  const s = await shared();
  if (!s) return;
  const p = await openPage(s.browser.browser, s.hub.httpPort);
  await p.goto('/room/lab?range=15m');
  await chartsDrawn(p.page);
  // an open hub: the history leaves as the page starts, before whoami, and the view takes it (asked once)
  const paths = p.requests.map((r) => new URL(r.url).pathname);
  const history = paths.indexOf('/api/v1/history.csv');
  assert.ok(history >= 0 && history < paths.indexOf('/api/v1/whoami'), `history.csv before whoami: ${paths.join(' ')}`);
  assert.is(paths.filter((x) => x === '/api/v1/history.csv').length, 1, `one history request: ${paths.join(' ')}`);
  const figure = p.page.getByRole('figure', { name: /^level/ });
  await figure.waitFor();
  assert.is(await p.page.getByRole('figure').count(), 1, 'one metric in the lab, one figure');
  const colors = await legendColors(figure);
  assert.equal([...colors.keys()], LAB);
  const pixels = await pixelsByColor(figure, [...colors.values()]);
  for (const [sensor, color] of colors)
    assert.ok((pixels.get(color) ?? 0) > 50, `${sensor}'s line (${color}) is drawn: ${pixels.get(color)} pixels`);

  // the living room: every metric of its sensors, each line in its colour
  await p.goto('/room/living-room?range=1h');
  await chartsDrawn(p.page);
  for (const metric of ['cpu_load', 'humidity', 'temperature']) {
    const fig = p.page.getByRole('figure', { name: new RegExp(`^${metric}`) });
    const legend = await legendColors(fig);
    assert.ok(legend.size >= 2, `${metric}: a line per sensor (${[...legend.keys()].join(', ')})`);
    const px = await pixelsByColor(fig, [...legend.values()]);
    for (const [sensor, color] of legend)
      assert.ok((px.get(color) ?? 0) > 20, `${metric}: ${sensor}'s line (${color}) is drawn: ${px.get(color)} pixels`);
  }
  await screenshot(p.page, 'room.png');
});

test('dragging across a chart zooms, the zoom is in the URL, and a reload shows the same range', async () => {
  const s = await shared();
  if (!s) return;
  const p = await openPage(s.browser.browser, s.hub.httpPort);
  await p.goto('/room/lab?range=15m');
  await chartsDrawn(p.page);
  const over = p.page.locator('figure .u-over').first();
  const box = (await over.boundingBox())!;
  await p.page.mouse.move(box.x + box.width * 0.5, box.y + box.height / 2);
  await p.page.mouse.down();
  await p.page.mouse.move(box.x + box.width * 0.8, box.y + box.height / 2, { steps: 5 });
  await p.page.mouse.up();
  await p.page.waitForURL(/zoom=/);
  const zoomed = new URL(p.page.url());
  const [from, to] = zoomed.searchParams
    .get('zoom')!
    .split('..')
    .map((t) => Date.parse(t));
  assert.ok(to! - from! < 15 * 60_000 && to! > from!, `a narrower range: ${zoomed.search}`);
  await chartsDrawn(p.page);
  // the zoom's data: from its start moved back to a bucket's edge (the first bucket whole), to its end
  const history = new URL(p.requests.filter((r) => r.url.includes('history.csv')).at(-1)!.url);
  const asked = Date.parse(history.searchParams.get('from')!);
  const every = parseDuration(history.searchParams.get('every')!);
  assert.ok(
    every.ok && asked <= from! && asked > from! - every.ms && asked % every.ms === 0,
    `the data of the zoom was asked for: ${history}`,
  );
  assert.is(Date.parse(history.searchParams.get('to')!), to!, `to the zoom's end: ${history}`);

  await p.page.reload();
  await chartsDrawn(p.page);
  assert.is(new URL(p.page.url()).searchParams.get('zoom'), zoomed.searchParams.get('zoom'));
  await p.page.getByRole('button', { name: 'Reset zoom' }).click();
  await p.page.waitForURL((u) => !u.searchParams.has('zoom'));
});

test('Report now in a room view shows the outcome of every sensor of the room', async () => {
  const s = await shared();
  if (!s) return;
  const p = await openPage(s.browser.browser, s.hub.httpPort);
  await p.goto('/room/server-room?range=15m');
  await p.page.getByRole('button', { name: 'Report now' }).click();
  const outcome = p.page.getByRole('region', { name: 'Report now outcome' });
  await outcome.waitFor();
  const inRoom = (await sensors(s.hub.httpPort)).filter((x) => x.room === 'server-room' && x.connected).map((x) => x.sensor);
  assert.ok(inRoom.length >= 2);
  for (const sensor of inRoom) {
    const row = outcome.getByRole('row', { name: new RegExp(`^${sensor} `) });
    await row.waitFor();
    assert.match((await row.textContent()) ?? '', /answered|missing|error/);
  }
  assert.match((await outcome.textContent()) ?? '', new RegExp(`Asked ${inRoom.length} sensors`));
});

test('Download CSV saves exactly the bytes the API exports for the room and range in view', async () => {
  const s = await shared();
  if (!s) return;
  const p = await openPage(s.browser.browser, s.hub.httpPort);
  const from = new Date(Date.now() - 1_200_000).toISOString();
  const to = new Date(Date.now() - 60_000).toISOString();
  await p.goto(`/room/lab?from=${from}&to=${to}`);
  await chartsDrawn(p.page);
  const [download] = await Promise.all([p.page.waitForEvent('download'), p.page.getByRole('button', { name: 'Download CSV' }).click()]);
  const url = new URL(download.url());
  assert.is(url.searchParams.get('room'), 'lab');
  assert.is(url.searchParams.get('from'), from);
  assert.is(url.searchParams.get('to'), to);
  const shown = p.requests.filter((r) => r.url.includes('history.csv')).at(-1)!;
  assert.is(url.searchParams.get('every'), new URL(shown.url).searchParams.get('every'), 'the buckets the charts show');
  const saved = await readFile(await download.path());
  const api = await request(s.hub.httpPort, `${url.pathname}${url.search}`);
  assert.is(api.status, 200);
  assert.ok(saved.length > 100, `a real export: ${saved.length} bytes`);
  assert.ok(saved.equals(api.body), `the download (${saved.length} bytes) is the API's export (${api.body.length} bytes)`);
});

test('Upload CSV: the bad fixture shows lines 3 and 7, by the file picker and by drag and drop; a good file shows its receipt', async () => {
  const s = await shared();
  if (!s) return;
  const p = await openPage(s.browser.browser, s.hub.httpPort);
  await p.goto('/');
  await p.page.getByRole('link', { name: 'Upload' }).click();
  const bad = join(REPO_ROOT, 'fixtures', 'readings-bad-rows-3-and-7.csv');
  await p.page.getByLabel('CSV file').setInputFiles(bad);
  const lines = p.page.getByRole('table', { name: 'Bad lines' });
  await lines.waitFor();
  assert.equal(await lines.locator('tbody th').allTextContents(), ['3', '7']);

  // the same file dropped on the page
  const text = await readFile(bad, 'utf8');
  const drop = await p.page.evaluateHandle((csv) => {
    const dt = new DataTransfer();
    dt.items.add(new File([csv], 'dropped.csv', { type: 'text/csv' }));
    return dt;
  }, text);
  await p.page.locator('.drop-zone').dispatchEvent('drop', { dataTransfer: drop });
  await p.page.getByText('dropped.csv was refused').waitFor();
  assert.equal(await p.page.getByRole('table', { name: 'Bad lines' }).locator('tbody th').allTextContents(), ['3', '7']);

  await p.page.getByLabel('CSV file').setInputFiles(join(REPO_ROOT, 'fixtures', 'readings-valid.csv'));
  const receipt = p.page.getByRole('status').filter({ hasText: 'accepted' });
  await receipt.waitFor();
  assert.match((await receipt.textContent()) ?? '', /readings-valid\.csv: accepted \d+ readings?, \d+ duplicates?/);
});

test('on a 360 px phone the overview and a room view fit the width (no sideways scrolling)', async () => {
  const s = await shared();
  if (!s) return;
  const p = await openPage(s.browser.browser, s.hub.httpPort, { viewport: PHONE, colorScheme: 'dark' });
  await p.goto('/');
  await roomCard(p.page, 'living-room').waitFor();
  const overflow = (): Promise<number> =>
    p.page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  assert.is(await overflow(), 0, 'overview');
  await roomCard(p.page, 'living-room').getByRole('link').click();
  await chartsDrawn(p.page);
  assert.is(await overflow(), 0, 'room view');
  // dark scheme: the page's background is dark
  const bg = await p.page.evaluate(() => getComputedStyle(document.body).backgroundColor);
  const [r, g, b] = (bg.match(/\d+/g) ?? []).map(Number);
  assert.ok(r! + g! + b! < 150, `a dark background in the dark scheme: ${bg}`);
  await screenshot(p.page, 'room-phone-dark.png');
});

test('the keyboard reaches every room: Tab to a room link and Enter opens its view', async () => {
  const s = await shared();
  if (!s) return;
  const p = await openPage(s.browser.browser, s.hub.httpPort);
  await p.goto('/');
  await roomCard(p.page, 'bedroom').waitFor();
  let focused = '';
  for (let i = 0; i < 40 && focused !== 'bedroom'; i++) {
    await p.page.keyboard.press('Tab');
    focused = await p.page.evaluate(() => document.activeElement?.textContent ?? '');
  }
  assert.is(focused, 'bedroom', 'Tab reaches the bedroom link');
  await p.page.keyboard.press('Enter');
  await p.page.getByRole('heading', { name: 'Room bedroom' }).waitFor();
  assert.is(new URL(p.page.url()).pathname, '/room/bedroom');
});

test("the page loads only the hub's own files, under the CSP, with hashed assets cached for a year and index.html not cached", async () => {
  const s = await shared();
  if (!s) return;
  const p = await openPage(s.browser.browser, s.hub.httpPort);
  await p.goto('/room/lab?range=1h');
  await chartsDrawn(p.page);
  const origin = `http://127.0.0.1:${s.hub.httpPort}`;
  const ws = `ws://127.0.0.1:${s.hub.httpPort}`;
  for (const r of p.requests)
    assert.ok(r.url.startsWith(origin) || r.url.startsWith(ws) || r.url.startsWith('data:'), `only the hub: ${r.url}`);
  const index = await request(s.hub.httpPort, '/');
  assert.is(index.headers['cache-control'], 'no-cache');
  const csp = String(index.headers['content-security-policy']);
  assert.match(csp, /script-src 'self'/);
  assert.not.match(csp, /unsafe-inline/);
  assert.not.match(index.text, /<script>|<script [^>]*>[^<]/, 'no inline script');
  const assets = [...index.text.matchAll(/\/assets\/([\w.-]+)/g)].map((m) => m[1]!);
  assert.ok(assets.length >= 2 && assets.every((a) => /-[A-Z0-9]{8}\.(js|css)$/.test(a)), `hashed names: ${assets.join(', ')}`);
  for (const a of assets)
    assert.is((await request(s.hub.httpPort, `/assets/${a}`)).headers['cache-control'], 'public, max-age=31536000, immutable');
  assert.equal(p.errors, [], `no console errors (a CSP refusal would be one): ${p.errors.join('; ')}`);
});

test.run();
