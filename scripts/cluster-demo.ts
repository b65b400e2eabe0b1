/**
 * The cluster demo (`npm run cluster-demo`): cluster mode on one machine, from Debian's packages
 * (nats-server, postgresql). Starts 3 nats-servers with JetStream, PostgreSQL in a temp folder,
 * 2 hubs (`--cluster`, `--history`, `--hub-id a|b`), 1 writer and a fleet of simulated sensors
 * spread over both hubs (`--host a,b`), everything on free loopback ports; then shows the latest
 * readings as read from hub b (`latest --refresh`, as `npm run demo` does), which holds only half
 * the sensors' connections and shows them all. Ctrl-C stops everything (sensors, hubs, writer,
 * servers) and removes the temp folders. Progress goes to stderr on a terminal; piped, only the
 * table and errors are printed.
 *
 *   npm run cluster-demo
 *   npm run cluster-demo -- --sensors 200 --seconds 60
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { parseArgs } from 'node:util';
import { natsInstalled, startNatsCluster } from '../test/support/nats-cluster.ts';
import { postgresInstalled, startPostgres } from '../test/support/postgres-server.ts';
import { tempDataDir } from '../test/support/hub-process.ts';
import { Teardown } from '../test/support/teardown.ts';

const root = join(import.meta.dirname, '..');
const tty = process.stderr.isTTY;
const say = (s: string) => {
  if (tty) process.stderr.write(`cluster-demo: ${s}\n`);
};
const fail = (s: string): never => {
  process.stderr.write(`cluster-demo: ${s}\n`);
  process.exit(1);
};
const USAGE = 'usage: npm run cluster-demo -- [--sensors N] [--seconds S] [--interval MS]';

let values;
try {
  ({ values } = parseArgs({
    options: {
      sensors: { type: 'string', default: '40' },
      seconds: { type: 'string' },
      interval: { type: 'string', default: '1000' },
      help: { type: 'boolean', short: 'h' },
    },
  }));
} catch (err) {
  process.stderr.write(`cluster-demo: ${(err as Error).message}\n${USAGE}\n`);
  process.exit(2);
}
if (values.help) {
  process.stdout.write(`${USAGE}\n`);
  process.exit(0);
}
const sensors = Number(values.sensors);
const seconds = values.seconds === undefined ? undefined : Number(values.seconds);
const interval = Number(values.interval);
if (!Number.isInteger(sensors) || sensors < 2 || (seconds !== undefined && (!Number.isInteger(seconds) || seconds < 1))) {
  process.stderr.write(`cluster-demo: --sensors must be a whole number of at least 2, --seconds a positive whole number\n${USAGE}\n`);
  process.exit(2);
}
if (!Number.isInteger(interval) || interval < 10) {
  process.stderr.write(`cluster-demo: --interval must be a whole number of ms, at least 10\n${USAGE}\n`);
  process.exit(2);
}
// Both checks print their `[skip] ` line with the apt-get command; here it is the reason to stop.
if (![natsInstalled('cluster-demo'), postgresInstalled('cluster-demo')].every(Boolean)) {
  fail("cluster mode on one machine needs Debian's nats-server and postgresql (the install commands are above)");
}

/** Everything the demo started or made, undone newest first: processes, then servers, then folders. */
const scope = new Teardown();
const children: { name: string; child: ChildProcess }[] = [];

function node(name: string, args: string[], stdout: 'inherit' | 'pipe'): ChildProcess {
  // Each child but the table in its own process group: a Ctrl-C on the terminal reaches only the
  // demo, which stops them in order (sensors first, so they say bye and get their last acks), and
  // the table, which puts the terminal back as it found it.
  const child = spawn(process.execPath, ['--import', 'tsx', ...args], {
    cwd: root,
    stdio: ['ignore', stdout, 'pipe'],
    detached: name !== 'table',
  });
  let err = '';
  child.stderr!.on('data', (d: Buffer) => {
    err = (err + d.toString()).slice(-4000);
    if (stdout === 'inherit') process.stderr.write(d);
  });
  child.on('exit', (code, signal) => {
    if (!stopping && name !== 'table') void stop(1, `${name} exited (${code ?? signal}) unexpectedly:\n${err}`);
  });
  children.push({ name, child });
  return child;
}

let stopping = false;
async function stop(code: number, why?: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  if (why) process.stderr.write(`cluster-demo: ${why}\n`);
  say('stopping: sensors, hubs, writer, then nats-servers and PostgreSQL; removing the temp folders...');
  for (const { child } of [...children].reverse()) {
    if (child.exitCode !== null || child.signalCode !== null) continue;
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    await once(child, 'exit');
    clearTimeout(timer);
  }
  await scope.run();
  process.exit(code);
}
process.on('SIGINT', () => void stop(0));
process.on('SIGTERM', () => void stop(0));

/** The first line of `child`'s stdout that `pick` accepts. */
function firstLine<T>(child: ChildProcess, what: string, pick: (line: string) => T | undefined): Promise<T> {
  return new Promise((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const v = pick(line);
      if (v !== undefined) resolve(v);
    });
    child.once('exit', () => reject(new Error(`${what}: the process exited first`)));
  });
}

function logEntry(line: string): Record<string, unknown> | undefined {
  try {
    return JSON.parse(line) as Record<string, unknown>;
  } catch {
    return undefined;
  }
}

try {
  say('starting 3 nats-servers (JetStream) and PostgreSQL in temp folders...');
  const [nats, pg] = await Promise.all([startNatsCluster({ scope }), startPostgres({ scope })]);
  const cluster = nats.urls.join(',');
  say(`nats-servers on ${nats.urls.join(' ')}; PostgreSQL on ${pg.url}`);

  const hubs: { id: string; tcpPort: number; httpPort: number }[] = [];
  await Promise.all(
    ['a', 'b'].map(async (id) => {
      const data = (await tempDataDir(scope)).path;
      const args = ['hub/main.ts', '--tcp-port', '0', '--http-port', '0', '--data', data, '--log-file', 'none', '--log-level', 'warn'];
      const hub = node(`hub ${id}`, [...args, '--cluster', cluster, '--history', pg.url, '--hub-id', id], 'pipe');
      const ports = await firstLine(hub, `hub ${id}`, (line) => {
        const m = logEntry(line);
        return m?.msg === 'hub listening' ? { tcpPort: Number(m.tcpPort), httpPort: Number(m.httpPort) } : undefined;
      });
      hubs.push({ id, ...ports });
    }),
  );
  hubs.sort((x, y) => x.id.localeCompare(y.id));
  for (const h of hubs) say(`hub ${h.id}: sensors on 127.0.0.1:${h.tcpPort}, API on http://127.0.0.1:${h.httpPort}`);

  const writer = node('writer', ['hub/writer/main.ts', '--cluster', cluster, '--history', pg.url, '--name', 'demo-writer'], 'pipe');
  await firstLine(writer, 'the writer', (line) => (logEntry(line)?.msg === 'writer started' ? true : undefined));
  say('writer running: JetStream -> PostgreSQL');

  // One simulator with both hubs in its list: sensor i starts on hub i mod 2 (demo-001 on a,
  // demo-002 on b, ...) and moves to the other if its hub goes away.
  const hubList = hubs.map((h) => `127.0.0.1:${h.tcpPort}`).join(',');
  const fleet = node(
    'sensors',
    ['sensors/main.ts', '--count', String(sensors), '--host', hubList, '--prefix', 'demo', '--interval', String(interval)],
    'pipe',
  );
  await firstLine(fleet, 'the sensors', (line) => (line.startsWith('fleet started') ? true : undefined));
  const [a, b] = hubs as [(typeof hubs)[0], (typeof hubs)[0]];
  say(`${sensors} sensors over both hubs (--host ${hubList}). The table below is read from hub b (http://127.0.0.1:${b.httpPort}).`);
  say(`try: npm run cli -- --hub http://127.0.0.1:${a.httpPort} history --sensor demo-002   (a sensor on hub b, read on hub a)`);

  const tableArgs = ['dashboard-cli/main.ts', 'latest', '--hub', `http://127.0.0.1:${b.httpPort}`, '--refresh', '1000'];
  const table = node('table', seconds === undefined ? tableArgs : [...tableArgs, '--times', String(seconds)], 'inherit');
  const [code] = (await once(table, 'exit')) as [number | null];
  await stop(code === 0 || code === 130 || code === null ? 0 : code);
} catch (err) {
  await stop(1, (err as Error).message);
}
