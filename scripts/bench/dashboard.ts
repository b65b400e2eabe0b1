/**
 * The dashboard in real Chromium against a hub process (`npm run bench -- --only dashboard`):
 *
 * - a room of 20 sensors x 3 metrics with D days of 1 Hz data (`--dashboard-days`, default 7:
 *   36M readings), filled through the sensor port; then the time from opening the room view
 *   (navigation) to its charts drawn, for 1 h, 24 h and 7 d (median of 5, after one warm-up);
 * - the bytes the page itself loads (HTML, JS, CSS), gzipped as the hub serves them;
 * - the hub's ingest rate with 10 dashboards open on the busiest room, as a ratio to none open
 *   (dashboard-ingest.ts; alone: `--only dashboard-ingest`).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { launchBrowser } from '../../test/support/browser.ts';
import { fillRoom } from './dashboard-fill.ts';
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

/** What the page measured: navigation to charts drawn, the view's own part, and its history request. */
interface Drawn {
  totalMs: number;
  viewMs: number;
  /** the history request: sent to last byte, and to first byte (the hub's query) */
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
  const parsed = performance.getEntriesByName('roomwatch:history-parsed').at(-1);
  const nav = performance.getEntriesByType('navigation')[0];
  const own = res.filter((r) => new URL(r.name).pathname.startsWith('/assets/'));
  return {
    totalMs: drawn.startTime,
    viewMs: drawn.startTime - open.startTime,
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

export async function runDashboardBench(o: DashboardBenchOptions): Promise<string[]> {
  const rows: string[] = [];
  const browser = await launchBrowser('dashboard bench');
  if (!browser) return ['| dashboard | skipped: /usr/bin/chromium is missing (apt-get install -y chromium) | | |'];
  if (o.ingestOnly) {
    await browser.close(); // the ingest runs open their pages in a browser of their own
    return runDashboardIngest(o.progress);
  }
  const dir = mkdtempSync(join(tmpdir(), 'roomwatch-bench-dash-'));
  const hub = await startHub(dir, logArgs);
  try {
    const fill = { room: ROOM, sensors: 20, seconds: Math.round(o.days * 86_400), endTs: Date.now() - 1_000 };
    o.progress(`dashboard: filling ${ROOM} with ${fmt(fill.sensors * fill.seconds * 3)} readings`);
    const filled = await fillRoom(hub.tcpPort, fill);
    rows.push(
      `| fill ${ROOM}: 20 sensors x 3 metrics x ${o.days} d at 1 Hz, through the sensor port | ${fmt(filled.readings)} readings | ${fmt((filled.readings / filled.elapsedMs) * 1000)} readings/s | ${(filled.elapsedMs / 1000).toFixed(0)} s |`,
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
        );
      rows.push(
        `| room view ${range}: open to charts drawn (median of ${RUNS}) | ${(med('historyBytes') / 1e6).toFixed(1)} MB of buckets | ` +
          `**${med('totalMs').toFixed(0)} ms** from navigation (${med('viewMs').toFixed(0)} ms from the view's start) | ` +
          `history.csv first byte ${med('firstByteMs').toFixed(0)} ms, last ${med('historyMs').toFixed(0)} ms; then drawn in ${med('drawMs').toFixed(0)} ms |`,
      );
    }
    if (pageBytes)
      rows.push(
        `| the page's own files (HTML, JS, CSS) | **${(pageBytes.pageBytesGzip / 1024).toFixed(1)} KB gzipped** | ${(pageBytes.pageBytes / 1024).toFixed(1)} KB unpacked | |`,
      );
  } finally {
    await hub.stop();
    rmSync(dir, { recursive: true, force: true });
  }
  // Ingest with and without 10 dashboards on the busiest room (the 20 rooms are equal: room-0).
  await browser.close();
  rows.push(...(await runDashboardIngest(o.progress)));
  return rows;
}
