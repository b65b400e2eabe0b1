/**
 * The hub's ingest rate with 10 dashboards open on the busiest room, as a ratio to none open
 * (`npm run bench -- --only dashboard-ingest`; also the last part of `--only dashboard`).
 *
 * Each run starts a fresh hub, uploads room-0's last hour, opens 10 pages on its 1 h view (or none), then sends the
 * dataset (200 sensors in 20 rooms, batches of 100, stamped from a minute ahead so the views
 * take them as live readings). The modes alternate (none, ten, ten with the browser at nice 19,
 * then again), and each run records the hub's CPU time, the browser's, and the load average,
 * which says how much the machine's other work weighs on the ratio.
 *
 * The pages are opened in a Chromium of their own through a DevTools connection that is closed
 * once they have drawn: Playwright keeps the Network domain on in every page, which copies each
 * WebSocket message to the test process (it tripled the browser's CPU time here), and a person's
 * browser does none of that. `ROOMWATCH_BENCH_DASHBOARD_ROUNDS` sets the rounds (default 2),
 * `ROOMWATCH_BENCH_DASHBOARD_SECONDS` the dataset's seconds (default 1000: 600,000 readings).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { loadavg, setPriority, tmpdir } from 'node:os';
import { join } from 'node:path';
import { WebSocket } from 'ws';
import { CHROMIUM_PATH } from '../../test/support/browser.ts';
import { sensorId, type Dataset } from './dataset.ts';
import { cpuSeconds, startHub } from './hub-process.ts';
import { buildPayloads, runIngest } from './ingest.ts';
import { historyCsv } from './room-history.ts';

export type Mode = 'none' | 'ten' | 'ten, browser at nice 19';
const MODES: Mode[] = ['none', 'ten', 'ten, browser at nice 19'];
const PAGES = 10;
const VIEWPORT = { width: 1280, height: 900 };
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
const logArgs = ['--log-level', process.env.ROOMWATCH_BENCH_LOG_LEVEL ?? 'warn'];

/** This process's descendants (the browser's processes among them), from /proc. */
function descendants(root: number): number[] {
  const children = new Map<number, number[]>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      children.set(ppid, [...(children.get(ppid) ?? []), Number(name)]);
    } catch {
      // gone meanwhile
    }
  }
  const out: number[] = [];
  for (let queue = [root]; queue.length > 0;) {
    const next = children.get(queue.pop()!) ?? [];
    out.push(...next);
    queue.push(...next);
  }
  return out;
}

/** The browser's processes: it and its descendants. */
function browserPids(browser: ChildProcess): number[] {
  return [browser.pid!, ...descendants(browser.pid!)];
}

/** Gives every process of the browser a nice value. */
function reniceBrowser(nice: number, browser: ChildProcess): void {
  for (const pid of browserPids(browser)) {
    try {
      setPriority(pid, nice);
    } catch {
      // gone meanwhile
    }
  }
}

/** CPU seconds of the browser's processes so far (those alive: a renderer that exited is not counted). */
function browserCpuSeconds(browser: ChildProcess): number {
  let total = 0;
  for (const pid of browserPids(browser)) {
    try {
      total += cpuSeconds(pid);
    } catch {
      // gone meanwhile
    }
  }
  return total;
}

/** The flags of test/support/browser.ts, and a DevTools port of its choosing. */
const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--remote-debugging-port=0',
];

/** A bare DevTools connection: calls, optionally to an attached page's session. */
class DevTools {
  private nextId = 1;
  private readonly waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();

  private constructor(private readonly ws: WebSocket) {
    ws.on('message', (data: Buffer) => {
      const msg = JSON.parse(data.toString('utf8')) as { id?: number; result?: unknown; error?: { message: string } };
      const w = msg.id === undefined ? undefined : this.waiting.get(msg.id);
      if (!w || msg.id === undefined) return;
      this.waiting.delete(msg.id);
      if (msg.error) w.reject(new Error(msg.error.message));
      else w.resolve(msg.result);
    });
  }

  static async open(url: string): Promise<DevTools> {
    const ws = new WebSocket(url, { perMessageDeflate: false });
    await new Promise<void>((resolve, reject) => ws.once('open', resolve).once('error', reject));
    return new DevTools(ws);
  }

  call<T>(method: string, params: object = {}, sessionId?: string): Promise<T> {
    const id = this.nextId++;
    this.ws.send(JSON.stringify({ id, method, params, ...(sessionId ? { sessionId } : {}) }));
    return new Promise<T>((resolve, reject) => this.waiting.set(id, { resolve: resolve as (v: unknown) => void, reject }));
  }

  close(): void {
    this.ws.close();
  }
}

/** Starts Chromium with an empty profile; resolves with it and its DevTools address. */
async function startChromium(profile: string): Promise<{ child: ChildProcess; devtools: string }> {
  const child = spawn(CHROMIUM_PATH, [...CHROMIUM_FLAGS, `--user-data-dir=${profile}`, 'about:blank'], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const reap = () => child.kill('SIGKILL');
  process.once('exit', reap);
  child.once('exit', () => process.off('exit', reap));
  const devtools = await new Promise<string>((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(() => reject(new Error(`chromium gave no DevTools address in 60 s: ${seen.slice(-500)}`)), 60_000);
    child.stderr.on('data', (chunk: Buffer) => {
      seen += chunk.toString();
      const m = /DevTools listening on (ws:\S+)/.exec(seen);
      if (m) {
        clearTimeout(timer);
        resolve(m[1]!);
      }
    });
  });
  return { child, devtools };
}

/**
 * Opens `n` pages on room-0's 1 h view, each in a browser context of its own (a renderer each,
 * as ten people's browsers), waits until each has drawn its charts, then lets go of DevTools.
 */
async function openDashboards(devtoolsUrl: string, port: number, n: number): Promise<void> {
  const dt = await DevTools.open(devtoolsUrl);
  try {
    for (let i = 0; i < n; i++) {
      const { browserContextId } = await dt.call<{ browserContextId: string }>('Target.createBrowserContext');
      const { targetId } = await dt.call<{ targetId: string }>('Target.createTarget', {
        url: `http://127.0.0.1:${port}/room/room-0?range=1h`,
        browserContextId,
        width: VIEWPORT.width,
        height: VIEWPORT.height,
      });
      const { sessionId } = await dt.call<{ sessionId: string }>('Target.attachToTarget', { targetId, flatten: true });
      const drawn = `new Promise((resolve) => { const t0 = Date.now(); const look = () =>
        document.querySelector('.charts[data-state="drawn"]') ? resolve(true) : Date.now() - t0 > 120000 ? resolve(false) : setTimeout(look, 100); look(); })`;
      for (let tries = 0; ; tries++) {
        // The first evaluation may land before the document: try again until it answers.
        const r = await dt
          .call<{ result?: { value?: boolean } }>('Runtime.evaluate', { expression: drawn, awaitPromise: true }, sessionId)
          .catch(() => null);
        if (r?.result?.value === true) break;
        if (tries > 20) throw new Error(`dashboard ${i + 1} drew no charts`);
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
      await dt.call('Target.detachFromTarget', { sessionId });
    }
  } finally {
    dt.close();
  }
}

export interface IngestRun {
  rate: number;
  /** readings per second of the hub's CPU time */
  perCpuSecond: number;
  hubCpuS: number;
  browserCpuS: number;
  elapsedS: number;
  /** the 1-minute load average at the end of the run */
  load: number;
}

/**
 * The busiest room's last hour at 1 Hz (its 10 sensors x 3 metrics), uploaded before the pages
 * open: the dashboards look at a room with a past and its sensors known, as a person would. On
 * an empty room each sensor's first reading adds a line, and a chart whose lines change is
 * made again (a few ms each), which would be measured in place of the readings.
 */
async function seedBusiestRoom(httpPort: number, d: Dataset): Promise<void> {
  const sensors = [];
  for (let s = 0; s < d.sensors; s += 20) sensors.push({ sensor: sensorId(s), room: 'room-0' });
  const now = Date.now();
  const res = await fetch(`http://127.0.0.1:${httpPort}/api/v1/readings`, {
    method: 'POST',
    headers: { 'content-type': 'text/csv' },
    body: historyCsv({ sensors, fromMs: now - 3_600_000, toMs: now - 1_000, intervalMs: 1_000 }),
  });
  if (res.status !== 200) throw new Error(`seeding room-0: ${res.status} ${await res.text()}`);
}

/** One ingest run on a fresh hub, with 10 pages open on room-0's view (in a fresh browser) or none. */
async function ingestWithDashboards(
  mode: Mode,
  d: Dataset,
  payloads: ReturnType<typeof buildPayloads>,
  nodeArgs: string[],
): Promise<IngestRun> {
  const dir = mkdtempSync(join(tmpdir(), 'roomwatch-bench-dash-'));
  const profile = mkdtempSync(join(tmpdir(), 'roomwatch-bench-chromium-'));
  const hub = await startHub(dir, logArgs, nodeArgs);
  const hubPid = hub.child.pid!;
  let browser: ChildProcess | null = null;
  try {
    await seedBusiestRoom(hub.httpPort, d); // the same for every mode
    if (mode !== 'none') {
      const started = await startChromium(profile);
      browser = started.child;
      await openDashboards(started.devtools, hub.httpPort, PAGES);
      reniceBrowser(mode === 'ten, browser at nice 19' ? 19 : 0, browser);
    }
    const cpu0 = cpuSeconds(hubPid);
    const browser0 = browser ? browserCpuSeconds(browser) : 0;
    const { elapsedMs } = await runIngest(hub.tcpPort, d, payloads.payloads, payloads.lastSeqs);
    const hubCpuS = cpuSeconds(hubPid) - cpu0;
    const browserCpuS = browser ? browserCpuSeconds(browser) - browser0 : 0;
    return {
      rate: (payloads.readings / elapsedMs) * 1000,
      perCpuSecond: payloads.readings / hubCpuS,
      hubCpuS,
      browserCpuS,
      elapsedS: elapsedMs / 1000,
      load: loadavg()[0]!,
    };
  } finally {
    if (browser && browser.exitCode === null) {
      const gone = new Promise((resolve) => browser!.once('exit', resolve));
      browser.kill('SIGTERM');
      await gone;
    }
    await hub.stop();
    rmSync(dir, { recursive: true, force: true });
    rmSync(profile, { recursive: true, force: true });
  }
}

/**
 * The runs, alternated, and the table rows. `nodeArgs` go to each hub (`--cpu-prof
 * --cpu-prof-dir=DIR` for a profile of where the hub's time goes).
 */
export async function runDashboardIngest(
  progress: (s: string) => void,
  nodeArgs: string[] = process.env.ROOMWATCH_BENCH_DASHBOARD_NODE_ARGS?.split(' ').filter(Boolean) ?? [],
): Promise<string[]> {
  const rounds = Number(process.env.ROOMWATCH_BENCH_DASHBOARD_ROUNDS ?? 2);
  const d: Dataset = { sensors: 200, seconds: Number(process.env.ROOMWATCH_BENCH_DASHBOARD_SECONDS ?? 1000), startTs: Date.now() + 60_000 };
  const payloads = buildPayloads(d, { kind: 'batch', size: 100 });
  const runs = new Map<Mode, IngestRun[]>();
  for (let r = 0; r < rounds; r++) {
    for (const mode of MODES) {
      progress(`dashboard: ingest of ${fmt(payloads.readings)} readings, dashboards: ${mode}`);
      const run = await ingestWithDashboards(mode, d, payloads, nodeArgs);
      runs.set(mode, [...(runs.get(mode) ?? []), run]);
    }
  }
  const of = (mode: Mode) => runs.get(mode) ?? [];
  const best = (mode: Mode, k: 'rate' | 'perCpuSecond') => Math.max(...of(mode).map((r) => r[k]));
  const detail = (mode: Mode) =>
    of(mode)
      .map((r) => `${fmt(r.rate)}/s (hub ${r.hubCpuS.toFixed(1)} s CPU, browser ${r.browserCpuS.toFixed(1)} s, load ${r.load.toFixed(1)})`)
      .join('; ');
  const rows = [
    `| ingest, ${fmt(payloads.readings)} readings in batches of 100 (${d.sensors} sensors, 20 rooms), no dashboard | ${detail('none')} | | |`,
  ];
  for (const mode of MODES.slice(1)) {
    rows.push(
      `| the same, ${PAGES} dashboards on room-0's 1 h view (${mode}) | ${detail(mode)} | ` +
        `ratio of the best runs **${(best(mode, 'rate') / best('none', 'rate')).toFixed(2)}** | readings per hub CPU second: ratio ${(best(mode, 'perCpuSecond') / best('none', 'perCpuSecond')).toFixed(2)} |`,
    );
  }
  return rows;
}
