/**
 * The report-now peer: Mosquitto 2 with N MQTT subscribers (npm `mqtt`, in a process of their
 * own like the Roomwatch fleet), each answering a "report now" request at once with one reading.
 * A round trip is from publishing the request until every subscriber's answer has arrived, the
 * answers at QoS 1 as Roomwatch's are stored before it answers. The broker runs on a free
 * loopback port in a temp folder with the config of /work/shared/PEERS.md, in its own process
 * group, stopped by that group's id.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { freePort } from './free-port.ts';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import mqtt from 'mqtt';

const MOSQUITTO = '/usr/sbin/mosquitto';
export const MOSQUITTO_INSTALL = 'apt-get update && apt-get install -y --no-install-recommends mosquitto';
const REQUEST_TOPIC = 'roomwatch/report-now';
const ANSWER_TOPIC = 'roomwatch/report';

export function mosquittoInstalled(): boolean {
  return existsSync(MOSQUITTO);
}

async function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.on('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.on('error', () => resolve(false));
  });
}

function stopGroup(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  process.kill(-child.pid!, 'SIGTERM');
  return exited;
}

/** Starts `count` subscribers in a child process; resolves once all have subscribed. */
async function startFleet(port: number, count: number): Promise<ChildProcess> {
  const fleet = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), String(port), String(count)], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, ROOMWATCH_MQTT_FLEET: 'run' },
    detached: true,
  });
  const reap = () => process.kill(-fleet.pid!, 'SIGKILL');
  process.once('exit', reap);
  fleet.once('exit', () => process.off('exit', reap));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the MQTT fleet of ${count} did not subscribe within 3 min`)), 180_000);
    createInterface({ input: fleet.stdout }).on('line', (line) => {
      if (line === 'ready') {
        clearTimeout(timer);
        resolve();
      }
    });
    fleet.on('exit', () => reject(new Error('the MQTT fleet exited before it was ready')));
  });
  return fleet;
}

/** Mosquitto with `count` answering subscribers: `rounds` round trips (after 3 warm-up), sorted ms. */
export async function mosquittoReportNow(
  count: number,
  rounds: number,
): Promise<{ sortedMs: number[]; requested: number; responded: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'roomwatch-bench-mosquitto-'));
  const port = await freePort();
  const conf = join(dir, 'mosquitto.conf');
  writeFileSync(
    conf,
    [
      'per_listener_settings false',
      `listener ${port} 127.0.0.1`,
      'allow_anonymous true',
      'persistence true',
      `persistence_location ${dir}/`,
      'max_queued_messages 100000',
      'user root',
      'log_dest none',
      '',
    ].join('\n'),
  );
  // Its stderr is dropped: as root it always warns so, and a broker that fails shows as not listening.
  const broker = spawn(MOSQUITTO, ['-c', conf], { stdio: 'ignore', detached: true });
  const reap = () => process.kill(-broker.pid!, 'SIGKILL');
  process.once('exit', reap);
  broker.once('exit', () => process.off('exit', reap));
  let fleet: ChildProcess | null = null;
  let client: mqtt.MqttClient | null = null;
  try {
    const deadline = Date.now() + 10_000;
    while (!(await accepts(port))) {
      if (Date.now() > deadline) throw new Error('mosquitto did not listen within 10 s');
      await new Promise((r) => setTimeout(r, 20));
    }
    fleet = await startFleet(port, count);
    client = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { reconnectPeriod: 0, clientId: 'bench-requester' });
    await client.subscribeAsync(`${ANSWER_TOPIC}/+`, { qos: 1 });
    let answered = 0;
    let roundDone: () => void = () => {};
    client.on('message', () => {
      if (++answered === count) roundDone();
    });
    const out: number[] = [];
    let responded = 0;
    for (let i = 0; i < rounds + 3; i++) {
      answered = 0;
      const t = performance.now();
      const done = new Promise<void>((resolve) => (roundDone = resolve));
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<void>((resolve) => (timer = setTimeout(resolve, 5000)));
      await client.publishAsync(REQUEST_TOPIC, String(i), { qos: 1 });
      await Promise.race([done, timeout]);
      clearTimeout(timer);
      responded = answered;
      if (i >= 3) out.push(performance.now() - t); // the first rounds warm up every side
      // Late answers of a timed-out round must not count in the next one.
      if (answered < count) await new Promise((r) => setTimeout(r, 1000));
    }
    return { sortedMs: out.sort((a, b) => a - b), requested: count, responded };
  } finally {
    await client?.endAsync(true);
    if (fleet) await stopGroup(fleet);
    await stopGroup(broker);
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The fleet process: `count` clients, each answering every request with one reading. */
async function runFleet(port: number, count: number): Promise<void> {
  const clients: mqtt.MqttClient[] = [];
  // Connect in waves of 100, as the Roomwatch fleet does.
  for (let base = 0; base < count; base += 100) {
    const wave: Promise<void>[] = [];
    for (let i = base; i < Math.min(count, base + 100); i++) {
      wave.push(
        (async () => {
          const id = `rn${count}-${String(i).padStart(5, '0')}`;
          const c = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { reconnectPeriod: 0, clientId: id, keepalive: 600 });
          c.on('message', () => {
            c.publish(`${ANSWER_TOPIC}/${id}`, `{"metric":"temperature","value":22.5,"ts":${Date.now()}}`, { qos: 1 });
          });
          await c.subscribeAsync(REQUEST_TOPIC, { qos: 1 });
          clients.push(c);
        })(),
      );
    }
    await Promise.all(wave);
  }
  process.stdout.write('ready\n');
  process.on('SIGTERM', () => process.exit(0));
}

if (process.env.ROOMWATCH_MQTT_FLEET === 'run') {
  await runFleet(Number(process.argv[2]), Number(process.argv[3]));
}
