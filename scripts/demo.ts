/**
 * The demo (`npm run demo`): starts the hub on its defaults, a fleet of 50 simulated sensors
 * in five rooms, and shows the latest readings as a table that refreshes every second (`latest
 * --refresh`, which fits the terminal: one line per room and metric when every reading does not).
 * Ctrl-C stops everything cleanly.
 *
 *   npm run demo
 *   npm run demo -- --sensors 200 --seconds 120 --data ./demo-data
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { DEFAULT_ROOMS } from '../sensors/fleet.ts';

const root = join(import.meta.dirname, '..');
const tty = process.stderr.isTTY;
const say = (s: string) => process.stderr.write(`demo: ${s}\n`);

let values;
try {
  ({ values } = parseArgs({
    options: {
      sensors: { type: 'string', default: '50' },
      seconds: { type: 'string', default: '60' },
      data: { type: 'string' },
      'tcp-port': { type: 'string' },
      'http-port': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  }));
} catch (err) {
  process.stderr.write(
    `demo: ${(err as Error).message}\nusage: npm run demo -- [--sensors N] [--seconds S] [--data DIR] [--tcp-port P] [--http-port Q]\n`,
  );
  process.exit(2);
}
if (values.help) {
  process.stdout.write('usage: npm run demo -- [--sensors N] [--seconds S] [--data DIR] [--tcp-port P] [--http-port Q]\n');
  process.exit(0);
}
const sensors = Number(values.sensors);
const seconds = Number(values.seconds);
if (!Number.isInteger(sensors) || sensors < 1 || !Number.isInteger(seconds) || seconds < 1) {
  process.stderr.write('demo: --sensors and --seconds must be positive whole numbers\n');
  process.exit(2);
}

const children: ChildProcess[] = [];
function run(args: string[], stdio: 'inherit' | 'pipe'): ChildProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', ...args], { cwd: root, stdio: ['ignore', stdio, 'inherit'] });
  children.push(child);
  return child;
}

async function stopAll(): Promise<void> {
  // Sensors first (they say bye and get their last acks), then the hub.
  for (const child of [...children].reverse()) {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill('SIGTERM');
      await once(child, 'exit');
    }
  }
}

let stopping = false;
process.on('SIGINT', () => {
  if (stopping) return;
  stopping = true;
  if (tty) say('stopping (sensors say bye, the hub commits and closes)...');
  void stopAll().then(() => process.exit(0));
});

const hubArgs = ['hub/main.ts'];
if (values.data) hubArgs.push('--data', values.data);
if (values['tcp-port']) hubArgs.push('--tcp-port', values['tcp-port']);
if (values['http-port']) hubArgs.push('--http-port', values['http-port']);
if (tty) say('starting the hub...');
const hub = run(hubArgs, 'pipe');
const ports = await new Promise<{ tcpPort: number; httpPort: number; host: string }>((resolve, reject) => {
  createInterface({ input: hub.stdout! }).on('line', (line) => {
    try {
      const m = JSON.parse(line) as { msg?: string; tcpPort: number; httpPort: number; host: string };
      if (m.msg === 'hub listening') resolve(m);
    } catch {
      /* not JSON */
    }
  });
  hub.on('exit', (code) => reject(new Error(`the hub exited (code ${code}) before it was ready; see its message above`)));
}).catch((err: Error) => {
  say(err.message);
  process.exit(1);
});
const hubUrl = `http://${ports.host}:${ports.httpPort}`;
// A data folder whose hub has users or sensor tokens (docs/ADMIN.md) is not open: the demo's
// simulated sensors have no token and its table no login. Say so, rather than show 401s.
const auth = ((await (await fetch(`${hubUrl}/api/v1/health`)).json()) as { auth?: { users: string; sensors: string } }).auth;
if (auth && (auth.users === 'required' || auth.sensors === 'required')) {
  say(
    `the hub's data folder (${values.data ?? './data'}) has ${auth.users === 'required' ? 'users' : 'sensor tokens'}, so it asks for credentials ` +
      'and the demo runs only on an open hub: run it on a folder of its own, e.g. npm run demo -- --data ./demo-data',
  );
  stopping = true;
  await stopAll();
  process.exit(1);
}
if (tty) say(`hub ready: sensors on ${ports.host}:${ports.tcpPort}, API on ${hubUrl}; starting ${sensors} sensors...`);

const fleet = run(
  [
    'sensors/main.ts',
    '--count',
    String(sensors),
    '--host',
    ports.host,
    '--port',
    String(ports.tcpPort),
    '--rooms',
    // The simulator's own rooms, named here all the same: a ROOMWATCH_SENSOR_ROOMS of the user's must
    // not change the demo, whose rooms fixtures/demo-users.json is written for.
    DEFAULT_ROOMS.join(','),
  ],
  'pipe',
);
await new Promise<void>((resolve) => {
  createInterface({ input: fleet.stdout! }).on('line', (line) => {
    if (line.startsWith('fleet started')) resolve();
  });
  fleet.on('exit', () => resolve());
});

const cli = run(['dashboard-cli/main.ts', 'latest', '--hub', hubUrl, '--refresh', '1000', '--times', String(seconds)], 'inherit');
const [code] = (await once(cli, 'exit')) as [number | null];
if (!stopping) {
  stopping = true;
  if (tty)
    say(`done. The data stays in ${values.data ?? './data'}; start the hub again with npm start and look with npm run cli -- latest`);
  await stopAll();
  process.exit(code === 0 || code === 130 ? 0 : (code ?? 1));
}
