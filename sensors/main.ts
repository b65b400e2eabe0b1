#!/usr/bin/env node
/**
 * Runs a fleet of simulated sensors against a hub.
 *
 *   npm run sensors -- --count 50                      # 50 sensors -> 127.0.0.1:7777, one batch a second each
 *   npm run sensors -- --count 10000 --interval 5000   # a big fleet; connects in waves of 100
 *   npm run sensors -- --tls --ca hub-ca.crt           # to a hub that serves TLS, trusting its CA
 *   npm run sensors -- --host a:7777,b:7777            # a cluster's hubs: spread over them, moving on when one is lost
 *   npm run sensors -- --help                          # every flag and its environment variable
 *
 * On a terminal a status line shows progress on stderr; piped, it prints one line when the
 * fleet has started and one summary line on exit. While no sensor can connect, stderr says why
 * (connection refused, and to where). Ctrl-C (SIGINT), SIGTERM or the end of --duration says
 * bye, waits (at most ~2 s) for the final acks and exits 0, or 1 if readings were lost (not
 * acknowledged, dropped, refused) or a --duration run never connected (run-outcome.ts); a
 * second Ctrl-C exits at once with 1.
 */
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parseSensorCli, usage } from './cli-options.ts';
import { SensorFleet, type FleetStats } from './fleet.ts';
import { hubListText } from './hub-list.ts';
import { connectFailure, runVerdict } from './run-outcome.ts';
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
  const ca = o.caFile === null ? undefined : readCa(o.caFile);
  let endedByHub = 0;
  let tlsWarned = false;
  /** by sensor id: those with a welcome on their current connection */
  const connected = new Set<string>();
  let everConnected = false;
  /** Said on stderr that no sensor can connect, and not yet that one did. */
  let outageSaid = false;
  const fleet = new SensorFleet({
    count: o.count,
    host: o.host,
    port: o.port,
    ...(o.hubs.length > 1 && { hubs: o.hubs }),
    intervalMs: o.intervalMs,
    rooms: o.rooms,
    idPrefix: o.idPrefix,
    seed: o.seed,
    maxUnackedMessages: o.maxUnackedMessages,
    ...(o.token !== undefined && { token: o.token }),
    ...(o.tls && { tls: ca === undefined ? {} : { ca } }),
    onSensorEvent: (id, event) => {
      if (event.type === 'welcome') {
        connected.add(id);
        everConnected = true;
        if (outageSaid) say(`connected to the hub at ${hubListText(o.hubs)}`);
        outageSaid = false;
      }
      if (event.type === 'closed') {
        connected.delete(id);
        // Once per outage, and only while no sensor is connected: one sensor's bad luck is no news.
        if (event.hadError && connected.size === 0 && !outageSaid && !tlsWarned && !stopping) {
          outageSaid = true;
          say(`${connectFailure(fleet.stats.lastError, o.host, o.port)}; retrying with backoff`);
        }
      }
      if (event.type === 'tls-error' && !tlsWarned) {
        // Sensors keep retrying (the hub's certificate may be fixed), but people should know why nothing connects.
        tlsWarned = true;
        status.clear();
        process.stderr.write(
          `sensors: TLS handshake with ${o.host}:${o.port} failed: ${event.message}${tlsHint(event.code, ca !== undefined)}; retrying with backoff\n`,
        );
      }
      if (event.type !== 'stopped' || event.code === null) return;
      // A fleet the hub refuses entirely (bad token, wrong version) has nothing left to do.
      if (++endedByHub === o.count) void shutDown(`every sensor was ended by the hub (last: ${fleet.stats.lastError ?? 'unknown'})`);
    },
  });
  const status = new StatusLine({ stream: process.stderr, stats: () => fleet.stats });
  let durationTimer: NodeJS.Timeout | null = null;
  let stopping = false;

  function say(text: string): void {
    status.clear();
    process.stderr.write(`sensors: ${text}\n`);
  }

  /** Stops the fleet; exits 1 with `failure`, else as the run's outcome says (readings lost: 1). */
  async function shutDown(failure?: string): Promise<void> {
    if (stopping) return;
    stopping = true;
    if (durationTimer !== null) clearTimeout(durationTimer);
    await fleet.stop();
    status.stop();
    const stats = fleet.stats;
    const verdict =
      failure !== undefined
        ? { code: 1, message: failure }
        : runVerdict({
            stats,
            everConnected,
            limited: o.durationMs !== null,
            reasonSaid: outageSaid || tlsWarned,
            host: o.host,
            port: o.port,
          });
    if (verdict.message !== undefined) process.stderr.write(`sensors: ${verdict.message}\n`);
    process.stdout.write(summary(stats) + '\n', () => process.exit(verdict.code));
  }

  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, () => {
      // A second signal means "now": stop() is bounded, but the user need not wait for it.
      if (stopping) process.exit(1);
      void shutDown();
    });
  }

  if (o.durationMs !== null) durationTimer = setTimeout(() => void shutDown(), o.durationMs);
  const starting = fleet.start();
  status.start();
  await starting;
  if (!stopping) {
    status.clear();
    process.stdout.write(`fleet started: ${count.format(o.count)} sensors -> ${hubListText(o.hubs)}${o.tls ? ' (TLS)' : ''}\n`);
  }
}

/** The CA file of --ca, checked to hold a certificate; a bad one is a usage error (exit 2). */
function readCa(file: string): Buffer {
  let pem: Buffer;
  try {
    pem = readFileSync(file);
  } catch (err) {
    process.stderr.write(`sensors: cannot read the CA file "${file}" (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})\n`);
    process.exit(2);
  }
  try {
    new X509Certificate(pem);
  } catch {
    process.stderr.write(`sensors: the CA file "${file}" holds no PEM certificate (-----BEGIN CERTIFICATE-----)\n`);
    process.exit(2);
  }
  return pem;
}

function tlsHint(code: string | undefined, caGiven: boolean): string {
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') return ' (the certificate is not for this --host: use a name it lists)';
  if (code === 'CERT_HAS_EXPIRED' || code === 'CERT_NOT_YET_VALID') return " (check the hub's certificate dates and this machine's clock)";
  if (code !== undefined && /CERT|SIGNATURE|ISSUER|SELF_SIGNED/.test(code)) {
    return caGiven
      ? " (the hub's certificate is not trusted: the CA in --ca did not sign it)"
      : " (the hub's certificate is not trusted: pass --ca FILE with the CA that signed it)";
  }
  if (code !== undefined && /WRONG_VERSION|EPROTO|PACKET_LENGTH/.test(code)) return ' (does the hub serve TLS on this port?)';
  return '';
}
