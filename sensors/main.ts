/**
 * Runs a fleet of simulated sensors against a hub.
 *
 *   npm run sensors -- --count 50                      # 50 sensors -> 127.0.0.1:7777, one batch a second each
 *   npm run sensors -- --count 10000 --interval 5000   # a big fleet; connects in waves of 100
 *   npm run sensors -- --help                          # every flag and its environment variable
 *
 * On a terminal a status line shows progress on stderr; piped, it prints one line when the
 * fleet has started and one summary line on exit. Ctrl-C (SIGINT) or SIGTERM says bye,
 * waits (at most ~2 s) for the final acks and exits 0; a second Ctrl-C exits at once with 1.
 */
import { parseSensorCli, usage } from './cli-options.ts';
import { SensorFleet, type FleetStats } from './fleet.ts';
import { StatusLine } from './status-line.ts';

const count = new Intl.NumberFormat('en-US');

function summary(s: FleetStats): string {
  const ended = Object.entries(s.stoppedByCode).map(([code, n]) => `${code}×${n}`);
  return (
    `fleet stopped: ${count.format(s.sensors)} sensors, sent ${count.format(s.sentReadings)} readings, ` +
    `acked ${count.format(s.ackedReadings)}, unacked ${count.format(s.bufferedReadings)}, dropped ${count.format(s.droppedReadings)}, ` +
    `reconnects ${count.format(s.reconnects)}` +
    (s.rejectedReadings > 0 ? `, rejected by hub ${count.format(s.rejectedReadings)}` : '') +
    (ended.length > 0 ? `, ended by hub ${ended.join(' ')}` : '')
  );
}

const parsed = parseSensorCli(process.argv.slice(2), process.env);
if (parsed.kind === 'help') {
  process.stdout.write(usage + '\n');
} else if (parsed.kind === 'usage-error') {
  process.stderr.write(`sensors: ${parsed.message}\nRun with --help for usage.\n`);
  process.exitCode = 2;
} else {
  const o = parsed.options;
  let endedByHub = 0;
  const fleet = new SensorFleet({
    count: o.count,
    host: o.host,
    port: o.port,
    intervalMs: o.intervalMs,
    rooms: o.rooms,
    idPrefix: o.idPrefix,
    seed: o.seed,
    maxUnackedMessages: o.maxUnackedMessages,
    ...(o.token !== undefined && { token: o.token }),
    onSensorEvent: (_id, event) => {
      if (event.type !== 'stopped' || event.code === null) return;
      // A fleet the hub refuses entirely (bad token, wrong version) has nothing left to do.
      if (++endedByHub === o.count) void shutDown(1, `every sensor was ended by the hub (last: ${fleet.stats.lastError ?? 'unknown'})`);
    },
  });
  const status = new StatusLine({ stream: process.stderr, stats: () => fleet.stats });
  let durationTimer: NodeJS.Timeout | null = null;
  let stopping = false;

  async function shutDown(exitCode: number, reason?: string): Promise<void> {
    if (stopping) return;
    stopping = true;
    if (durationTimer !== null) clearTimeout(durationTimer);
    await fleet.stop();
    status.stop();
    if (reason !== undefined) process.stderr.write(`sensors: ${reason}\n`);
    process.stdout.write(summary(fleet.stats) + '\n', () => process.exit(exitCode));
  }

  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      // A second signal means "now": stop() is bounded, but the user need not wait for it.
      if (stopping) process.exit(1);
      void shutDown(0);
    });
  }

  if (o.durationMs !== null) durationTimer = setTimeout(() => void shutDown(0), o.durationMs);
  const starting = fleet.start();
  status.start();
  await starting;
  if (!stopping) {
    status.clear();
    process.stdout.write(`fleet started: ${count.format(o.count)} sensors -> ${o.host}:${o.port}\n`);
  }
}
