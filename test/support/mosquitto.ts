/**
 * A real Mosquitto 2 for the MQTT tests: its own process group, on a free loopback port, in a
 * temp folder with the config of /work/shared/PEERS.md (persistence on, a deep queue), stopped
 * by that group's id; `mosquitto_pub` as the devices. Skips (a `[skip] ` line with the install
 * command) when either is missing.
 *
 *   if (!mosquittoInstalled('mqtt bridge')) return;
 *   const broker = await startMosquitto();
 *   await broker.publish('zigbee2mqtt/kitchen', ['{"temperature":21.5}'], { qos: 1 });
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from '../../scripts/bench/free-port.ts';
import { mosquittoConfig } from '../../scripts/bench/mosquitto-config.ts';
import { tempDataDir, withTimeout } from './hub-process.ts';
import { perTest, type Teardown } from './teardown.ts';

export const MOSQUITTO = '/usr/sbin/mosquitto';
export const MOSQUITTO_PUB = '/usr/bin/mosquitto_pub';
export const MOSQUITTO_SUB = '/usr/bin/mosquitto_sub';
export const MOSQUITTO_INSTALL = 'apt-get update && apt-get install -y --no-install-recommends mosquitto mosquitto-clients';

/** Whether the broker and its clients are here; prints the `[skip] ` line for `what` when not. */
export function mosquittoInstalled(what: string): boolean {
  if ([MOSQUITTO, MOSQUITTO_PUB, MOSQUITTO_SUB].every((f) => existsSync(f))) return true;
  process.stdout.write(`[skip] ${what}: mosquitto or mosquitto-clients is missing; install them with: ${MOSQUITTO_INSTALL}\n`);
  return false;
}

export interface PublishOptions {
  qos?: 0 | 1 | 2;
  retain?: boolean;
  /** for a broker that asks for a login */
  user?: string;
  password?: string;
}

export interface Mosquitto {
  port: number;
  url: string;
  dir: string;
  /** Publishes each payload as one message with `mosquitto_pub`; resolves once it exited 0 (QoS 1: all acknowledged by the broker). */
  publish(topic: string, payloads: string[], options?: PublishOptions): Promise<void>;
  /** Publishes an empty retained message: the broker forgets what it retained for `topic`. */
  clearRetained(topic: string): Promise<void>;
  /** One value of the broker's `$SYS/broker/...` tree, read with `mosquitto_sub`. */
  sys(path: string): Promise<string>;
  /** What the broker logged so far. */
  log(): string;
  stop(): Promise<void>;
}

const START_TIMEOUT_MS = 15_000;
const CLIENT_TIMEOUT_MS = 60_000;

export async function startMosquitto(extraConfig: string[] = [], scope: Teardown = perTest): Promise<Mosquitto> {
  const dir = (await tempDataDir(scope)).path;
  const port = await freePort();
  const conf = join(dir, 'mosquitto.conf');
  writeFileSync(
    conf,
    mosquittoConfig(port, dir, [
      'log_dest stderr',
      ...['error', 'warning', 'notice', 'information'].map((t) => `log_type ${t}`),
      ...extraConfig,
    ]),
  );
  const broker = spawn(MOSQUITTO, ['-c', conf], { stdio: ['ignore', 'ignore', 'pipe'], detached: true });
  let log = '';
  const running = new Promise<void>((resolve, reject) => {
    broker.stderr.on('data', (d: Buffer) => {
      log += d.toString();
      if (/mosquitto version \S+ running/.test(log)) resolve();
    });
    broker.once('exit', (code) => reject(new Error(`mosquitto exited (code ${code}) before it ran:\n${log}`)));
  });
  const exited = new Promise<void>((resolve) => broker.once('exit', () => resolve()));
  const stop = async (): Promise<void> => {
    if (broker.exitCode !== null || broker.signalCode !== null) return;
    process.kill(-broker.pid!, 'SIGTERM');
    await withTimeout(exited, 10_000, 'mosquitto stopping');
  };
  scope.add(`mosquitto on ${port}`, stop);
  await withTimeout(running, START_TIMEOUT_MS, 'mosquitto starting');
  const base = ['-h', '127.0.0.1', '-p', String(port)];
  return {
    port,
    url: `mqtt://127.0.0.1:${port}`,
    dir,
    publish: (topic, payloads, options = {}) => {
      const login =
        options.user === undefined ? [] : ['-u', options.user, ...(options.password === undefined ? [] : ['-P', options.password])];
      const args = [...base, ...login, '-q', String(options.qos ?? 1), '-t', topic, ...(options.retain ? ['-r'] : [])];
      // -l: one message per line of stdin, on one connection
      return runClient(
        MOSQUITTO_PUB,
        payloads.length === 1 ? [...args, '-m', payloads[0]!] : [...args, '-l'],
        payloads.length === 1 ? '' : payloads.join('\n') + '\n',
      );
    },
    clearRetained: (topic) => runClient(MOSQUITTO_PUB, [...base, '-q', '1', '-r', '-n', '-t', topic], ''),
    sys: (path) => runClient(MOSQUITTO_SUB, [...base, '-C', '1', '-t', `$SYS/broker/${path}`], '', true).then((out) => out.trim()),
    log: () => log,
    stop,
  };
}

function runClient(bin: string, args: string[], stdin: string, keepOutput?: false): Promise<void>;
function runClient(bin: string, args: string[], stdin: string, keepOutput: true): Promise<string>;
function runClient(bin: string, args: string[], stdin: string, keepOutput = false): Promise<string | void> {
  const child: ChildProcess = spawn(bin, args, { stdio: [stdin === '' ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  if (child.stdin) {
    child.stdin.on('error', (e: Error) => (err += `stdin: ${e.message}`)); // its exit code says whether it published
    child.stdin.end(stdin);
  }
  const done = new Promise<string | void>((resolve, reject) => {
    child.once('exit', (code) => {
      if (code === 0) resolve(keepOutput ? out : undefined);
      else reject(new Error(`${bin} ${args.join(' ')} exited with ${code}: ${err}`));
    });
  });
  return withTimeout(done, CLIENT_TIMEOUT_MS, `${bin} ${args.slice(4).join(' ')}`).catch((e: Error) => {
    child.kill('SIGKILL');
    throw e;
  });
}
