/**
 * The MQTT bench (`npm run bench -- --only mqtt`): QoS 1 messages per second from Mosquitto into
 * committed readings. 1,000 devices publish Zigbee2MQTT-style state (6 numeric fields and
 * `last_seen`) through a load generator in its own process (raw MQTT 3.1.1 connections, each
 * with up to `window` messages awaiting the broker's PUBACK); the hub runs as a process with
 * `--mqtt`. A message counts when the hub says its readings are committed
 * (`roomwatch_mqtt_messages_total{outcome="stored"}`, which moves only then).
 *
 * Two runs on one broker: as fast as the generator can publish (the hub's ceiling; the broker's
 * queue holds what the hub has not taken yet), then paced at the target rate, where the
 * broker's queue (`$SYS/broker/store/messages/count`, sampled every second) must stay flat.
 *
 *   npm run bench -- --only mqtt [--mqtt-messages 300000] [--mqtt-rate 50000] [--mqtt-seconds 15]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { freePort } from './free-port.ts';
import { cpuSeconds, peakRssBytes, startHub } from './hub-process.ts';
import { cpuByThread, metric, shownThreads } from './hub-metrics.ts';
import { mosquittoConfig } from './mosquitto-config.ts';
import { MOSQUITTO_INSTALL, mosquittoInstalled } from './peer-mosquitto.ts';

const MOSQUITTO = '/usr/sbin/mosquitto';
const MOSQUITTO_SUB = '/usr/bin/mosquitto_sub';
const DEVICES = 1000;
const PUBLISHER_CONNECTIONS = 4;
const WINDOW = 1000;
/** numeric fields of each message: the readings it makes */
const FIELDS = 6;

export interface MqttBenchOptions {
  /** messages of the unpaced run */
  messages: number;
  /** offered messages/s of the paced run, and for how long */
  rate: number;
  seconds: number;
  connections: number;
  progress(s: string): void;
}

export interface MqttRun {
  label: string;
  published: number;
  stored: number;
  elapsedMs: number;
  messagesPerS: number;
  /** the broker's store: messages it held, at most and at the end */
  queueMax: number;
  queueEnd: number;
  hubCpuS: number;
  brokerCpuS: number;
  generatorCpuS: number;
  hubPeakRssBytes: number;
  /** group commits of the run, and the time they took together (the store's part of the latency) */
  commits: number;
  commitS: number;
  /** rows the commits checked against the store (not known to be new) */
  checked: number;
}

// ------------------------------------------------------------------ the load generator (child process)

/** One MQTT 3.1.1 PUBLISH at QoS 1, encoded by hand: the generator must cost far less than what it measures. */
function publishPacket(topic: Buffer, payload: Buffer, id: number): Buffer {
  const remaining = 2 + topic.length + 2 + payload.length;
  const lenBytes: number[] = [];
  let x = remaining;
  do {
    let b = x % 128;
    x = Math.floor(x / 128);
    if (x > 0) b |= 0x80;
    lenBytes.push(b);
  } while (x > 0);
  const out = Buffer.allocUnsafe(1 + lenBytes.length + remaining);
  let o = 0;
  out[o++] = 0x32;
  for (const b of lenBytes) out[o++] = b;
  out.writeUInt16BE(topic.length, o);
  o += 2;
  topic.copy(out, o);
  o += topic.length;
  out.writeUInt16BE(id, o);
  o += 2;
  payload.copy(out, o);
  return out;
}

function connectPacket(clientId: string): Buffer {
  const id = Buffer.from(clientId);
  const body = Buffer.concat([
    Buffer.from([0, 4, 0x4d, 0x51, 0x54, 0x54, 4, 0x02, 0, 60]),
    Buffer.from([id.length >> 8, id.length & 0xff]),
    id,
  ]);
  return Buffer.concat([Buffer.from([0x10, body.length]), body]);
}

/** Publishes `total` messages over `PUBLISHER_CONNECTIONS` connections, `rate`/s (0: as fast as acked), then reports. */
async function runGenerator(port: number, total: number, rate: number): Promise<void> {
  const topics = Array.from({ length: DEVICES }, (_, i) => Buffer.from(`zigbee2mqtt/bench-${String(i).padStart(4, '0')}`));
  const started = Date.now();
  const stampBase = process.env.ROOMWATCH_BENCH_STAMP === 'past' ? started - 3_600_000 : started;
  let sent = 0;
  let acked = 0;
  const links = Array.from({ length: PUBLISHER_CONNECTIONS }, (_, c) => {
    const s: Socket = connect(port, '127.0.0.1');
    s.setNoDelay(true);
    s.write(connectPacket(`bench-publisher-${c}-${process.pid}`));
    return { s, outstanding: 0, nextId: 1, ready: false, pending: Buffer.alloc(0) };
  });
  const pump = () => {
    const allowed = rate > 0 ? Math.min(total, Math.floor(((Date.now() - started) / 1000) * rate)) : total;
    for (const l of links) {
      if (!l.ready) continue;
      const batch: Buffer[] = [];
      while (sent < allowed && l.outstanding < WINDOW) {
        const n = sent++;
        const device = n % DEVICES;
        // Each device's messages one ms apart in device time: every message is its own reading.
        // Stamped now, as a device's state is (ROOMWATCH_BENCH_STAMP=past: an hour ago, a backfill
        // the rollups take as late readings and the compaction as cold ones).
        const payload = Buffer.from(
          `{"temperature":${(20 + (n % 500) / 100).toFixed(2)},"humidity":${(40 + (n % 300) / 10).toFixed(1)},"pressure":1013.2,` +
            `"battery":97,"voltage":2995,"linkquality":${n % 255},"last_seen":${stampBase + Math.floor(n / DEVICES)}}`,
        );
        batch.push(publishPacket(topics[device]!, payload, l.nextId));
        l.nextId = (l.nextId % 65535) + 1;
        l.outstanding++;
      }
      if (batch.length > 0) l.s.write(Buffer.concat(batch));
    }
  };
  for (const l of links) {
    l.s.on('data', (chunk: Buffer) => {
      let buf = l.pending.length > 0 ? Buffer.concat([l.pending, chunk]) : chunk;
      // CONNACK (0x20 0x02 ..) and PUBACK (0x40 0x02 id id): 4 bytes each
      while (buf.length >= 4) {
        if (buf[0] === 0x20) l.ready = true;
        else if (buf[0] === 0x40) {
          l.outstanding--;
          acked++;
        }
        buf = buf.subarray(4);
      }
      l.pending = Buffer.from(buf);
      pump();
    });
  }
  const ticker = setInterval(pump, 5);
  await new Promise<void>((resolve) => {
    const check = setInterval(() => {
      if (acked >= total) {
        clearInterval(check);
        resolve();
      }
    }, 5);
  });
  clearInterval(ticker);
  const cpu = process.cpuUsage();
  process.stdout.write(JSON.stringify({ published: acked, elapsedMs: Date.now() - started, cpuS: (cpu.user + cpu.system) / 1e6 }) + '\n');
  for (const l of links) l.s.end(Buffer.from([0xe0, 0]));
}

if (process.env.ROOMWATCH_MQTT_BENCH_GENERATOR === 'run') {
  const [port, total, rate] = process.argv.slice(2).map(Number);
  await runGenerator(port!, total!, rate!);
  process.exit(0);
}

interface GeneratorReport {
  published: number;
  elapsedMs: number;
  cpuS: number;
}

function startGenerator(port: number, total: number, rate: number): { child: ChildProcess; done: Promise<GeneratorReport> } {
  const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), String(port), String(total), String(rate)], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, ROOMWATCH_MQTT_BENCH_GENERATOR: 'run' },
  });
  const reap = () => child.kill('SIGKILL');
  process.once('exit', reap);
  const done = new Promise<GeneratorReport>((resolve, reject) => {
    createInterface({ input: child.stdout }).once('line', (line) => resolve(JSON.parse(line) as GeneratorReport));
    child.once('exit', (code) => {
      process.off('exit', reap);
      if (code !== 0) reject(new Error(`the MQTT load generator exited with ${code}`));
    });
  });
  return { child, done };
}

// ------------------------------------------------------------------ the bench

async function storedRows(httpPort: number): Promise<number> {
  const health = (await (await fetch(`http://127.0.0.1:${httpPort}/api/v1/health`)).json()) as { readings_stored: number };
  return health.readings_stored;
}

async function until(what: string, probe: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`mqtt bench: ${what} not within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/** The broker's `$SYS/broker/store/messages/count` as it is published (every second), through mosquitto_sub. */
function watchQueue(port: number): { samples: number[]; stop(): void } {
  const samples: number[] = [];
  const sub = spawn(MOSQUITTO_SUB, ['-h', '127.0.0.1', '-p', String(port), '-t', '$SYS/broker/store/messages/count'], {
    stdio: ['ignore', 'pipe', 'ignore'],
  });
  createInterface({ input: sub.stdout }).on('line', (l) => samples.push(Number(l)));
  return { samples, stop: () => sub.kill('SIGTERM') };
}

export async function runMqttBench(o: MqttBenchOptions): Promise<MqttRun[] | string> {
  if (!mosquittoInstalled()) return `Mosquitto not installed; to install: ${MOSQUITTO_INSTALL}`;
  const dir = mkdtempSync(join(tmpdir(), 'roomwatch-bench-mqtt-'));
  const port = await freePort();
  const conf = join(dir, 'mosquitto.conf');
  // sys_interval 1: the queue sampled every second; a queue deep enough for the unpaced run's backlog
  writeFileSync(conf, mosquittoConfig(port, dir, ['log_dest none', 'sys_interval 1'], 2_000_000));
  const broker = spawn(MOSQUITTO, ['-c', conf], { stdio: 'ignore', detached: true });
  const brokerExited = new Promise<void>((resolve) => broker.once('exit', () => resolve()));
  const reap = () => process.kill(-broker.pid!, 'SIGKILL');
  process.once('exit', reap);
  const hubDir = mkdtempSync(join(tmpdir(), 'roomwatch-bench-mqtt-hub-'));
  const runs: MqttRun[] = [];
  try {
    await until('mosquitto listening', () => accepts(port), 10_000);
    const hub = await startHub(hubDir, [
      '--log-level',
      'warn',
      '--mqtt',
      `mqtt://127.0.0.1:${port}`,
      '--mqtt-connections',
      String(o.connections),
    ]);
    await until(
      'the bridge subscribed',
      async () => (await metric(hub.httpPort, 'roomwatch_mqtt_links_connected')) === o.connections + 1,
      30_000,
    );
    const queue = watchQueue(port);
    for (const [label, total, rate] of [
      [`as fast as the generator publishes, ${o.messages.toLocaleString('en-US')} messages`, o.messages, 0],
      [`paced at ${o.rate.toLocaleString('en-US')} messages/s for ${o.seconds} s`, o.rate * o.seconds, o.rate],
    ] as const) {
      o.progress(`mqtt: ${label}`);
      const stored0 = await metric(hub.httpPort, 'roomwatch_mqtt_messages_total', '{outcome="stored"}');
      const commits0 = await metric(hub.httpPort, 'roomwatch_commits_total');
      const commitS0 = await metric(hub.httpPort, 'roomwatch_commit_seconds_total');
      const checked0 = await metric(hub.httpPort, 'roomwatch_commit_rows_checked_total');
      const rows0 = await storedRows(hub.httpPort);
      const hubCpu0 = cpuSeconds(hub.child.pid!);
      const threads0 = cpuByThread(hub.child.pid!);
      const brokerCpu0 = cpuSeconds(broker.pid!);
      const sample0 = queue.samples.length;
      const t0 = performance.now();
      const gen = startGenerator(port, total, rate);
      const published = await gen.done;
      // Polled on health (cheap), not /metrics (which renders a gauge per series): each message is 6 new rows.
      await until(`${total} messages committed`, async () => (await storedRows(hub.httpPort)) - rows0 >= total * FIELDS, 600_000);
      const elapsedMs = performance.now() - t0;
      const stored = (await metric(hub.httpPort, 'roomwatch_mqtt_messages_total', '{outcome="stored"}')) - stored0;
      const seen = queue.samples.slice(sample0);
      runs.push({
        label,
        published: published.published,
        stored,
        elapsedMs,
        messagesPerS: (stored / elapsedMs) * 1000,
        queueMax: Math.max(0, ...seen),
        queueEnd: seen.at(-1) ?? 0,
        hubCpuS: cpuSeconds(hub.child.pid!) - hubCpu0,
        brokerCpuS: cpuSeconds(broker.pid!) - brokerCpu0,
        generatorCpuS: published.cpuS,
        hubPeakRssBytes: peakRssBytes(hub.child.pid!),
        commits: (await metric(hub.httpPort, 'roomwatch_commits_total')) - commits0,
        commitS: (await metric(hub.httpPort, 'roomwatch_commit_seconds_total')) - commitS0,
        checked: (await metric(hub.httpPort, 'roomwatch_commit_rows_checked_total')) - checked0,
      });
      const r = runs.at(-1)!;
      const threads = cpuByThread(hub.child.pid!);
      for (const [name, s] of threads0) threads.set(name, (threads.get(name) ?? 0) - s);
      // Beside the table (main.ts prints it): how the commits went, the store's share of each round trip.
      process.stderr.write(
        `mqtt: ${label}: ${r.commits} commits, ${r.commitS.toFixed(2)} s in commits ` +
          `(${((r.commitS * 1000) / Math.max(1, r.commits)).toFixed(1)} ms and ${Math.round(r.stored / Math.max(1, r.commits))} messages each), ` +
          `${r.checked.toLocaleString('en-US')} of ${(r.stored * FIELDS).toLocaleString('en-US')} rows checked against the store; ` +
          `hub CPU by thread: ${shownThreads(threads)}; load ${loadavg()[0]!.toFixed(1)}\n`,
      );
    }
    queue.stop();
    await hub.stop();
  } finally {
    process.kill(-broker.pid!, 'SIGTERM');
    // Mosquitto writes its persistence file as it stops: its folder is removed after that.
    await Promise.race([brokerExited, new Promise((resolve) => setTimeout(resolve, 10_000))]);
    process.off('exit', reap);
    rmSync(dir, { recursive: true, force: true });
    rmSync(hubDir, { recursive: true, force: true });
    o.progress('');
  }
  return runs;
}
