/**
 * The dashboard in real Chromium against a hub process (`npm run bench -- --only dashboard`):
 *
 * - a room of 20 sensors x 3 metrics with D days of 1 Hz data (`--dashboard-days`, default 7:
 *   36M readings), filled through the sensor port; then the time from opening the room view
 *   (navigation) to its charts drawn, for 1 h, 24 h and 7 d (median of 5, after one warm-up),
 *   once the compaction and the rollups have caught up with the fill (as on a hub that ran for
 *   the week); ROOMWATCH_BENCH_DASHBOARD_DIR keeps the hub's folder and tops it up next time;
 * - the bytes the page itself loads (HTML, JS, CSS), gzipped as the hub serves them;
 * - the hub's ingest rate with 10 dashboards open on the busiest room, as a ratio to none open
 *   (dashboard-ingest.ts; alone: `--only dashboard-ingest`; left out with
 *   ROOMWATCH_BENCH_DASHBOARD_INGEST=0).
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { launchBrowser } from '../../test/support/browser.ts';
import { fillRoom, storeSettled } from './dashboard-fill.ts';
import { runDashboardIngest } from './dashboard-ingest.ts';
import { startHub, type RunningHub } from './hub-process.ts';
import { percentile } from './live.ts';

export interface DashboardBenchOptions {
  days: number;
  /** only the ingest with dashboards open (`--only dashboard-ingest`) */
  ingestOnly?: boolean;
  progress: (s: string) => void;
}

const ROOM = 'bench-room';
const RUNS = 5;
const VIEWPORT = { width: 1280, height: 900 };
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
const logArgs = ['--log-level', process.env.ROOMWATCH_BENCH_LOG_LEVEL ?? 'warn'];

/** What the page measured: navigation to charts drawn, the view's own part, and its requests. */
interface Drawn {
  totalMs: number;
  viewMs: number;
  /** the page's own files loaded (HTML, JS, CSS: responseEnd of the last), from navigation */
  assetsMs: number;
  /** whoami, sent and answered, from navigation */
  whoamiStartMs: number;
  whoamiEndMs: number;
  /** the history request: sent, first byte and last byte, from navigation */
  historyStartMs: number;
  firstByteAtMs: number;
  lastByteAtMs: number;
  /** from the request's start to its last byte, and to its first byte (the hub's query) */
  historyMs: number;
  firstByteMs: number;
  /** from the last row parsed (parsing overlaps the download) to the charts drawn */
  drawMs: number;
  historyBytes: number;
  pageBytesGzip: number;
  pageBytes: number;
}

// Run in the page (a string, so it needs no DOM types here): the marks web/src/views/room-view.tsx sets.
const MEASURE = `(() => {
  const drawn = performance.getEntriesByName('roomwatch:charts-drawn')[0];
  const open = performance.getEntriesByName('roomwatch:room-open')[0];
  const res = performance.getEntriesByType('resource');
  const history = res.filter((r) => r.name.includes('history.csv')).at(-1);
  const whoami = res.find((r) => r.name.includes('/api/v1/whoami'));
  const parsed = performance.getEntriesByName('roomwatch:history-parsed').at(-1);
  const nav = performance.getEntriesByType('navigation')[0];
  const own = res.filter((r) => new URL(r.name).pathname.startsWith('/assets/'));
  return {
    totalMs: drawn.startTime,
    viewMs: drawn.startTime - open.startTime,
    assetsMs: Math.max(nav.responseEnd, ...own.map((r) => r.responseEnd)),
    whoamiStartMs: whoami ? whoami.startTime : -1,
    whoamiEndMs: whoami ? whoami.responseEnd : -1,
    historyStartMs: history ? history.startTime : -1,
    firstByteAtMs: history ? history.responseStart : -1,
    lastByteAtMs: history ? history.responseEnd : -1,
    historyMs: history ? history.responseEnd - history.startTime : -1,
    firstByteMs: history ? history.responseStart - history.startTime : -1,
    drawMs: parsed ? drawn.startTime - parsed.startTime : -1,
    historyBytes: history ? history.encodedBodySize : -1,
    pageBytesGzip: nav.encodedBodySize + own.reduce((n, r) => n + r.encodedBodySize, 0),
    pageBytes: nav.decodedBodySize + own.reduce((n, r) => n + r.decodedBodySize, 0),
  };
})()`;

async function openRoom(browser: Browser, port: number, room: string, range: string): Promise<{ page: Page; drawn: Drawn }> {
  const context = await browser.newContext({ viewport: VIEWPORT });
  const page = await context.newPage();
  await page.goto(`http://127.0.0.1:${port}/room/${room}?range=${range}`);
  await page.locator('.charts[data-state="drawn"]').waitFor({ state: 'attached', timeout: 120_000 });
  return { page, drawn: await page.evaluate<Drawn>(MEASURE) };
}

async function timeToDrawn(browser: Browser, hub: RunningHub, range: string): Promise<Drawn[]> {
  const out: Drawn[] = [];
  for (let i = 0; i <= RUNS; i++) {
    const { page, drawn } = await openRoom(browser, hub.httpPort, ROOM, range);
    await page.context().close();
    if (i > 0) out.push(drawn); // the first warms the store's and the browser's caches
  }
  return out;
}

/**
 * The hub's data folder: a temp folder removed after the run, or, with
 * ROOMWATCH_BENCH_DASHBOARD_DIR, a folder kept between runs. A kept folder that holds the room
 * already is topped up from its newest reading to now instead of filled again (minutes instead
 * of a quarter of an hour), so the page's and the hub's changes can be measured on the same week.
 */
function dataFolder(): { dir: string; kept: boolean } {
  const kept = process.env.ROOMWATCH_BENCH_DASHBOARD_DIR;
  if (kept) {
    mkdirSync(kept, { recursive: true });
    return { dir: kept, kept: true };
  }
  return { dir: mkdtempSync(join(tmpdir(), 'roomwatch-bench-dash-')), kept: false };
}

/** The newest reading of the room, ms, or null when it has none. */
async function newestReading(httpPort: number, room: string): Promise<number | null> {
  const res = await fetch(`http://127.0.0.1:${httpPort}/api/v1/latest?room=${room}`);
  const { readings } = (await res.json()) as { readings: { ts: number | string }[] };
  const ts = readings.map((r) => (typeof r.ts === 'number' ? r.ts : Date.parse(r.ts)));
  return ts.length > 0 ? Math.max(...ts) : null;
}

export async function runDashboardBench(o: DashboardBenchOptions): Promise<string[]> {
  const rows: string[] = [];
  const browser = await launchBrowser('dashboard bench');
  if (!browser) return ['| dashboard | skipped: /usr/bin/chromium is missing (apt-get install -y chromium) | | |'];
  if (o.ingestOnly) {
    await browser.close(); // the ingest runs open their pages in a browser of their own
    return runDashboardIngest(o.progress);
  }
  const { dir, kept } = dataFolder();
  const hub = await startHub(dir, logArgs);
  try {
    const endTs = Date.now() - 1_000;
    const newest = kept ? await newestReading(hub.httpPort, ROOM) : null;
    const seconds = newest === null ? Math.round(o.days * 86_400) : Math.floor((endTs - newest) / 1000);
    const fill = { room: ROOM, sensors: 20, seconds, endTs };
    o.progress(`dashboard: ${newest === null ? 'filling' : 'topping up'} ${ROOM} with ${fmt(fill.sensors * fill.seconds * 3)} readings`);
    const filled = seconds > 0 ? await fillRoom(hub.tcpPort, fill) : { readings: 0, elapsedMs: 0 };
    if (newest === null)
      rows.push(
        `| fill ${ROOM}: 20 sensors x 3 metrics x ${o.days} d at 1 Hz, through the sensor port | ${fmt(filled.readings)} readings | ${fmt((filled.readings / filled.elapsedMs) * 1000)} readings/s | ${(filled.elapsedMs / 1000).toFixed(0)} s |`,
      );
    o.progress('dashboard: waiting for the compaction and the rollups to catch up');
    const settled = await storeSettled(hub.httpPort, Date.now());
    rows.push(
      `| the store settled after the fill (compaction idle, rollups idle with no late bucket) | | compaction ${settled.compactionS.toFixed(0)} s, then rollups ${settled.rollupsS.toFixed(0)} s | |`,
    );
    let pageBytes: Drawn | null = null;
    for (const range of ['1h', '24h', '7d']) {
      o.progress(`dashboard: opening the ${range} view ${RUNS + 1} times`);
      const runs = await timeToDrawn(browser.browser, hub, range);
      pageBytes ??= runs[0]!;
      const med = (k: keyof Drawn) =>
        percentile(
          runs.map((r) => r[k]).sort((a, b) => a - b),
          50,
        ).toFixed(0);
      rows.push(
        `| room view ${range}: open to charts drawn (median of ${RUNS}) | ${(Number(med('historyBytes')) / 1e6).toFixed(1)} MB of buckets | ` +
          `**${med('totalMs')} ms** from navigation (${med('viewMs')} ms from the view's start) | ` +
          `page files ${med('assetsMs')} ms; whoami ${med('whoamiStartMs')}-${med('whoamiEndMs')} ms; history.csv sent ${med('historyStartMs')} ms, ` +
          `first byte ${med('firstByteAtMs')} (+${med('firstByteMs')}), last ${med('lastByteAtMs')} (+${med('historyMs')}); then drawn in ${med('drawMs')} ms |`,
      );
    }
    if (pageBytes)
      rows.push(
        `| the page's own files (HTML, JS, CSS) | **${(pageBytes.pageBytesGzip / 1024).toFixed(1)} KB gzipped** | ${(pageBytes.pageBytes / 1024).toFixed(1)} KB unpacked | |`,
      );
  } finally {
    await hub.stop();
    if (!kept) rmSync(dir, { recursive: true, force: true });
  }
  await browser.close();
  // Ingest with and without 10 dashboards on the busiest room (the 20 rooms are equal: room-0).
  if (process.env.ROOMWATCH_BENCH_DASHBOARD_INGEST === '0') return rows;
  rows.push(...(await runDashboardIngest(o.progress)));
  return rows;
}
