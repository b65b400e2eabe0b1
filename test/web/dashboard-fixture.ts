/**
 * What the dashboard's browser tests share: a page of the real Chromium on a hub (in a process
 * or in this one), every request the page makes recorded, waits on the DOM with timeouts, and
 * the pixels of a chart's canvas counted by colour.
 */
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Browser, Locator, Page } from 'playwright-core';
import { REPO_ROOT } from '../support/hub-process.ts';

export const SCREENSHOTS_DIR = join(REPO_ROOT, 'docs', 'screenshots');
/** long enough for a busy 2-core machine; the waits end as soon as the page is there */
export const UI_TIMEOUT_MS = 15_000;
export const DESKTOP = { width: 1280, height: 900 };
export const PHONE = { width: 360, height: 740 };

export interface RecordedRequest {
  method: string;
  url: string;
  body: string;
  /** Date.now() when the page sent it */
  at: number;
}

export interface DashboardPage {
  page: Page;
  base: string;
  /** every request the page made (documents, scripts, fetches, the WebSocket's upgrade) */
  requests: RecordedRequest[];
  /** every WebSocket frame the page sent or received */
  frames: string[];
  /** console errors and page errors (a CSP violation is one) */
  errors: string[];
  goto(path: string): Promise<void>;
}

export async function openPage(
  browser: Browser,
  port: number,
  options: { viewport?: { width: number; height: number }; colorScheme?: 'light' | 'dark' } = {},
): Promise<DashboardPage> {
  const context = await browser.newContext({
    viewport: options.viewport ?? DESKTOP,
    colorScheme: options.colorScheme ?? 'light',
    acceptDownloads: true,
    locale: 'en-GB',
    timezoneId: 'UTC',
  });
  const page = await context.newPage();
  page.setDefaultTimeout(UI_TIMEOUT_MS);
  const base = `http://127.0.0.1:${port}`;
  const requests: RecordedRequest[] = [];
  const frames: string[] = [];
  const errors: string[] = [];
  page.on('request', (r) => requests.push({ method: r.method(), url: r.url(), body: r.postData() ?? '', at: Date.now() }));
  page.on('websocket', (ws) => {
    requests.push({ method: 'GET', url: ws.url(), body: '', at: Date.now() });
    ws.on('framesent', (f) => frames.push(String(f.payload)));
    ws.on('framereceived', (f) => frames.push(String(f.payload)));
  });
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  page.on('pageerror', (e) => errors.push(e.message));
  return {
    page,
    base,
    requests,
    frames,
    errors,
    goto: async (path) => {
      await page.goto(`${base}${path}`);
    },
  };
}

/** A room's card on the overview: a region named by the room. */
export function roomCard(page: Page, room: string): Locator {
  return page.getByRole('region', { name: room, exact: true });
}

/** Waits until the room view's charts have drawn their data. */
export async function chartsDrawn(page: Page): Promise<void> {
  await page.locator('.charts[data-state="drawn"]').waitFor({ state: 'attached' });
}

export async function screenshot(page: Page, name: string): Promise<string> {
  await mkdir(SCREENSHOTS_DIR, { recursive: true });
  const path = join(SCREENSHOTS_DIR, name);
  await page.screenshot({ path, fullPage: false });
  return path;
}

function parseHex(hex: string): [number, number, number] {
  return [parseInt(hex.slice(1, 3), 16), parseInt(hex.slice(3, 5), 16), parseInt(hex.slice(5, 7), 16)];
}

/** `rgb(r, g, b)` (a computed style) as #rrggbb. */
export function rgbToHex(rgb: string): string {
  const m = /rgba?\((\d+),\s*(\d+),\s*(\d+)/.exec(rgb);
  if (!m) throw new Error(`not an rgb() colour: ${rgb}`);
  return `#${[m[1], m[2], m[3]].map((v) => Number(v).toString(16).padStart(2, '0')).join('')}`;
}

/**
 * For each colour, how many pixels of the figure's canvas are that colour (each channel within
 * `tolerance`): a line drawn in a series' colour has many; a chart that drew nothing has none.
 */
export async function pixelsByColor(figure: Locator, colors: readonly string[], tolerance = 24): Promise<Map<string, number>> {
  const targets = colors.map(parseHex);
  const counts = await figure.locator('canvas').evaluate(
    (canvas: HTMLCanvasElement, args: { targets: number[][]; tolerance: number }) => {
      const ctx = canvas.getContext('2d');
      if (!ctx) return args.targets.map(() => 0);
      const { data } = ctx.getImageData(0, 0, canvas.width, canvas.height);
      const out = args.targets.map(() => 0);
      for (let i = 0; i < data.length; i += 4) {
        if (data[i + 3]! < 250) continue; // only opaque pixels: a line's core, not its antialiased edge or a band
        for (let k = 0; k < args.targets.length; k++) {
          const t = args.targets[k]!;
          if (
            Math.abs(data[i]! - t[0]!) <= args.tolerance &&
            Math.abs(data[i + 1]! - t[1]!) <= args.tolerance &&
            Math.abs(data[i + 2]! - t[2]!) <= args.tolerance
          )
            out[k]!++;
        }
      }
      return out;
    },
    { targets, tolerance },
  );
  return new Map(colors.map((c, i) => [c, counts[i] ?? 0]));
}

/** The legend of a chart: each sensor and the colour of its swatch. */
export async function legendColors(figure: Locator): Promise<Map<string, string>> {
  const items = await figure
    .locator('ul.legend li')
    .evaluateAll((lis) =>
      lis.map((li) => ({ sensor: li.textContent?.trim() ?? '', color: getComputedStyle(li.querySelector('.swatch')!).backgroundColor })),
    );
  return new Map(items.map((i) => [i.sensor, rgbToHex(i.color)]));
}
