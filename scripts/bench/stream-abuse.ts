/**
 * The hub process under stream abuse (subscribe floods, slow subscribers), with
 * its RSS read from /proc, not a timed test:
 *
 *   npx tsx scripts/bench/stream-abuse.ts flood   # one socket: 2,000 subscribes with replay 1000, a sensor's ack times meanwhile
 *   npx tsx scripts/bench/stream-abuse.ts flood-many  # 100 sockets, each 19 subscribes with replay 1000 (within their limits)
 *   npx tsx scripts/bench/stream-abuse.ts slow    # 200 subscribers that never read (STUCK=N), one that reads, 200 batches of 1,000
 *
 * Prints one JSON line: hub RSS before, peak (VmHWM or sampled) and at the end, sensor ack times,
 * what the reading subscriber got, and the hub's own stream counters; then an RSS timeline.
 */
import net from 'node:net';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { wsText } from '../../test/support/ws-text.ts';
import { startHub, rssBytes, peakRssBytes } from './hub-process.ts';

const mode = process.argv[2] ?? 'slow';
const extra = process.argv.slice(3);
const MB = (b: number) => `${(b / 1048576).toFixed(0)} MB`;
const dataDir = await mkdtemp(join(tmpdir(), 'measure-stream-'));
const hub = await startHub(dataDir, extra);
const pid = hub.child.pid!;

// A sensor: sends lines, resolves acks by seq.
const sock = net.connect(hub.tcpPort, '127.0.0.1');
await new Promise((r) => sock.once('connect', r));
let buf = '';
const ackWaiters = new Map<number, () => void>();
let lastAck = 0;
sock.on('data', (d) => {
  buf += d.toString();
  let i;
  while ((i = buf.indexOf('\n')) >= 0) {
    const m = JSON.parse(buf.slice(0, i)) as { type: string; seq: number };
    buf = buf.slice(i + 1);
    if (m.type === 'ack') {
      lastAck = m.seq;
      for (const [s, w] of ackWaiters)
        if (s <= m.seq) {
          ackWaiters.delete(s);
          w();
        }
    }
  }
});
sock.write(JSON.stringify({ type: 'hello', v: 1, sensor: 'm-src', room: 'm-room' }) + '\n');
let seq = 0;
const t0 = Date.now() - 3_600_000;
let tsNext = t0;
async function batch(n: number): Promise<number> {
  const s = ++seq;
  const readings = Array.from({ length: n }, (_, i) => ({ metric: 'temperature', value: i, ts: tsNext++ }));
  const sent = performance.now();
  const acked = new Promise<void>((r) => (s <= lastAck ? r() : ackWaiters.set(s, r)));
  sock.write(JSON.stringify({ type: 'batch', seq: s, readings }) + '\n');
  await acked;
  return performance.now() - sent;
}

/** The slowest sensor ack while batches of 10 go in every 100 ms for `ms`: what the abuse costs ingest. */
async function worstAckOver(ms: number): Promise<number> {
  let worst = 0;
  const started = performance.now();
  while (performance.now() - started < ms) {
    worst = Math.max(worst, await batch(10));
    await new Promise((r) => setTimeout(r, 100));
  }
  return worst;
}

let opened = 0;
function openWs(): Promise<WebSocket> {
  return new Promise((resolve, reject) => {
    // From several loopback addresses: the hub allows 100 streams per address.
    const ws = new WebSocket(`ws://127.0.0.1:${hub.httpPort}/api/v1/stream`, {
      localAddress: `127.0.0.${2 + (opened++ % 8)}`,
    });
    ws.on('open', () => resolve(ws));
    ws.on('error', reject);
  });
}

let peakSampled = 0;
const timeline: number[] = [];
let tick = 0;
const sampler = setInterval(() => {
  try {
    const r = rssBytes(pid);
    peakSampled = Math.max(peakSampled, r);
    if (++tick % 20 === 0) timeline.push(Math.round(r / 1048576));
  } catch {
    // The hub process may be gone between two samples; the last sample stands.
  }
}, 50);
process.on('exit', () => console.log('rss timeline (MB, every 1 s):', timeline.join(' ')));

if (mode === 'flood-many') {
  // Within each socket's limits, from many sockets: 100 sockets, 19 subscribes with replay 1000 each.
  for (let k = 0; k < 50; k++) await batch(1000);
  const before = rssBytes(pid);
  const sockets = await Promise.all(Array.from({ length: 100 }, () => openWs()));
  let subscribed = 0;
  let replayed = 0;
  let errors = 0;
  for (const ws of sockets) {
    ws.on('error', () => {});
    ws.on('message', (d) => {
      const t = wsText(d);
      if (t.startsWith('{"type":"subscribed"')) subscribed++;
      else if (t.startsWith('{"type":"error"')) errors++;
      else replayed++;
    });
    const msg = JSON.stringify({ type: 'subscribe', replay: 1000 });
    for (let i = 0; i < 19; i++) ws.send(msg);
  }
  const worst = await worstAckOver(20_000);
  console.log(
    JSON.stringify({
      mode,
      rssBefore: MB(before),
      peakRss: MB(Math.max(peakSampled, peakRssBytes(pid))),
      rssEnd: MB(rssBytes(pid)),
      worstAckMs: Math.round(worst),
      subscribed,
      replayed,
      errors,
    }),
  );
  for (const ws of sockets) ws.terminate();
} else if (mode === 'flood') {
  for (let k = 0; k < 50; k++) await batch(1000); // 50,000 stored: every replay finds 1,000
  const before = rssBytes(pid);
  const ws = await openWs();
  let subscribed = 0,
    errors = 0;
  let closed: number | null = null;
  ws.on('message', (d) => {
    const t = wsText(d);
    if (t.startsWith('{"type":"subscribed"')) subscribed++;
    else if (t.startsWith('{"type":"error"')) errors++;
  });
  ws.on('close', (code) => (closed = code));
  ws.on('error', () => {});
  const msg = JSON.stringify({ type: 'subscribe', replay: 1000 });
  for (let i = 0; i < 2000; i++) if (ws.readyState === WebSocket.OPEN) ws.send(msg);
  const worst = await worstAckOver(20_000);
  console.log(
    JSON.stringify({
      mode,
      rssBefore: MB(before),
      peakRss: MB(Math.max(peakSampled, peakRssBytes(pid))),
      rssEnd: MB(rssBytes(pid)),
      worstAckMs: Math.round(worst),
      subscribed,
      errors,
      closed,
    }),
  );
  ws.terminate();
} else {
  const before = rssBytes(pid);
  const stuck: WebSocket[] = [];
  const n = Number(process.env.STUCK ?? 200);
  for (let i = 0; i < n; i++) {
    const ws = await openWs();
    ws.on('error', () => {});
    await new Promise<void>((r) => {
      ws.once('message', () => r());
      ws.send(JSON.stringify({ type: 'subscribe', replay: 0 }));
    });
    (ws as unknown as { _socket: net.Socket })._socket.pause();
    stuck.push(ws);
  }
  let stuckClosed = 0;
  for (const ws of stuck) ws.on('close', () => stuckClosed++);
  const normal = await openWs();
  let got = 0,
    dropped = 0,
    lastTs = 0;
  const lags: number[] = [];
  normal.on('message', (d) => {
    const m = JSON.parse(wsText(d)) as { type: string; ts: number; count: number };
    if (m.type === 'reading') {
      got++;
      lastTs = m.ts;
    } else if (m.type === 'dropped') dropped += m.count;
  });
  await new Promise<void>((r) => {
    normal.once('message', () => r());
    normal.send(JSON.stringify({ type: 'subscribe', replay: 0 }));
  });
  const withSubs = rssBytes(pid);
  const acks: number[] = [];
  const batches = Number(process.env.BATCHES ?? 200);
  const started = performance.now();
  for (let k = 0; k < batches; k++) {
    acks.push(await batch(1000));
    const sentTo = tsNext - 1;
    const at = performance.now();
    void (async () => {
      while (lastTs < sentTo && performance.now() - at < 30_000) await new Promise((r) => setTimeout(r, 5));
      lags.push(performance.now() - at);
    })();
    await new Promise((r) => setTimeout(r, 50));
  }
  const wall = performance.now() - started;
  const health = (await (await fetch(`http://127.0.0.1:${hub.httpPort}/api/v1/health`)).json()) as { memory: Record<string, number> };
  const mtext = await (await fetch(`http://127.0.0.1:${hub.httpPort}/metrics`)).text();
  const mm = (n: string) => new RegExp(`^${n} (\\S+)`, 'm').exec(mtext)?.[1] ?? 'absent';
  console.log(
    JSON.stringify({
      memory: Object.fromEntries(Object.entries(health.memory).map(([k, v]) => [k, MB(v)])),
      subscribers: mm('roomwatch_stream_subscribers'),
      queuedBytes: mm('roomwatch_stream_queued_bytes'),
      closedSlow: mm('roomwatch_stream_closed_slow_total'),
      dropped: mm('roomwatch_stream_dropped_total'),
    }),
  );
  await new Promise((r) => setTimeout(r, 2000));
  acks.sort((a, b) => a - b);
  lags.sort((a, b) => a - b);
  console.log(
    JSON.stringify({
      mode,
      stuck: n,
      rssBefore: MB(before),
      rssWithSubs: MB(withSubs),
      peakRss: MB(Math.max(peakSampled, peakRssBytes(pid))),
      rssEnd: MB(rssBytes(pid)),
      sent: batches * 1000,
      normalGot: got,
      normalDropped: dropped,
      lostPct: (100 * (1 - got / (batches * 1000))).toFixed(1),
      readerBehindAckP50Ms: Math.round(lags[lags.length >> 1] ?? -1),
      readerBehindAckMaxMs: Math.round(lags.at(-1) ?? -1),
      ackP50Ms: Math.round(acks[acks.length >> 1]!),
      ackMaxMs: Math.round(acks.at(-1)!),
      wallMs: Math.round(wall),
      stuckClosed,
    }),
  );
  for (const ws of stuck) ws.terminate();
  normal.terminate();
}
clearInterval(sampler);
sock.destroy();
await hub.stop();
await rm(dataDir, { recursive: true, force: true });
process.exit(0);
