/**
 * The benchmark (`npm run bench`). Starts real hub processes on temp data folders and
 * drives them over loopback from this process.
 *
 *   npm run bench                          # the standard 3M-reading workload
 *   npm run bench -- --sensors 100 --seconds 100   # a quick run
 *   npm run bench -- --only ingest-batch
 *   npm run bench -- --only ingest-batch,peer-ingest --ingest-rounds 5   # hub and bare server alternated 5 times, median ratio (ingest-rounds.ts)
 *   npm run bench -- --only ingest-line,ingest-batch,export,peer-ingest,peer-export
 *   npm run bench -- --only upload-memory      # generated files of 1M and 10M rows (--upload-rows to change)
 *   npm run bench -- --only dashboard [--dashboard-days 7]   # the dashboard in Chromium (dashboard.ts)
 *   npm run bench -- --only dashboard-ingest   # its ingest with 10 dashboards open, alone (dashboard-ingest.ts)
 *   npm run bench -- --only startup [--startup-rounds 7]   # start to healthy, compiled against tsx (startup.ts)
 *   npm run bench -- --only mqtt [--mqtt-messages 300000 --mqtt-rate 50000 --mqtt-seconds 15]   # MQTT bridge (mqtt.ts)
 *   npm run bench -- --only line-protocol   # the dataset over HTTP as line protocol, hub and InfluxDB (line-protocol.ts)
 *   npm run bench -- --only retention [--retention-sensors 1000 --retention-seconds 300 --retention-parts ingest,bytes,year]   # rollups and retention (retention.ts)
 *   npm run bench -- --only cluster   # cluster mode against a single hub, same run (cluster.ts; nats-server, postgresql)
 *
 * Peers run in the same run, on the same data, next to the Roomwatch row they are measured
 * against (their --only names: peer-ingest, peer-export, peer-report-now, peer-influxdb); a peer that is not
 * installed is skipped with the command that installs it.
 *
 * Prints a Markdown table; docs/BENCHMARKS.md records the results.
 */
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { cpus, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { DATABASE_FILE } from '../../hub/store/schema.ts';
import { type Dataset } from './dataset.ts';
import { runExport } from './export.ts';
import { runUpload, runUploadMemory } from './upload.ts';
import { subscribe } from './stream.ts';
import type { LatestClientResult } from './latest-client.ts';
import { bareLatestLatencies, latestLatencies, percentile, reportNowLatencies, withFleet } from './live.ts';
import { cpuSeconds, peakRssBytes, startHub, type RunningHub } from './hub-process.ts';
import { buildPayloads, runIngest, type IngestMode } from './ingest.ts';
import { alternate, freshHubIngest, medianRound, roundsNote, type Side } from './ingest-rounds.ts';
import { startBareNodePeer } from './peer-bare-node.ts';
import { runDuckDbCopy } from './peer-duckdb-copy.ts';
import { INFLUXDB_INSTALL, influxDbInstalled, runInfluxDb } from './peer-influxdb.ts';
import { MOSQUITTO_INSTALL, mosquittoInstalled, mosquittoReportNow } from './peer-mosquitto.ts';
import { peerRow, PEER_TABLE_HEAD } from './peer-table.ts';
import { compactionCaughtUp } from './compaction.ts';
import { cpuByThread } from './hub-metrics.ts';
import { runDashboardBench } from './dashboard.ts';
import { runMqttBench } from './mqtt.ts';
import { runLineProtocol } from './line-protocol.ts';
import { idleSensorMemory } from './idle-sensors.ts';
import { runStartupBench } from './startup.ts';

const { values } = parseArgs({
  options: {
    sensors: { type: 'string', default: '1000' },
    seconds: { type: 'string', default: '1000' },
    only: { type: 'string' },
    'batch-size': { type: 'string', default: '100' },
    /** each ingest row against its reference: hub and reference alternated this many times, the median ratio (ingest-rounds.ts) */
    'ingest-rounds': { type: 'string', default: '3' },
    'upload-rows': { type: 'string', default: '1000000,10000000' },
    'dashboard-days': { type: 'string', default: '7' },
    'mqtt-messages': { type: 'string', default: '300000' },
    'mqtt-rate': { type: 'string', default: '50000' },
    'mqtt-seconds': { type: 'string', default: '15' },
    'mqtt-connections': { type: 'string', default: '4' },
    'startup-rounds': { type: 'string', default: '7' },
    'retention-sensors': { type: 'string', default: '2000' },
    'retention-seconds': { type: 'string', default: '300' },
    'retention-parts': { type: 'string', default: 'ingest,bytes,year' },
  },
});
const d: Dataset = { sensors: Number(values.sensors), seconds: Number(values.seconds), startTs: Date.now() - 2 * 86_400_000 };
const batchSize = Number(values['batch-size']);
const ingestRounds = Number(values['ingest-rounds']);
for (const [k, v] of [
  ['--sensors', d.sensors],
  ['--seconds', d.seconds],
  ['--batch-size', batchSize],
  ['--ingest-rounds', ingestRounds],
] as const) {
  if (!Number.isInteger(v) || v <= 0) {
    process.stderr.write(`bench: ${k} must be a positive whole number\n`);
    process.exit(2);
  }
}

const rows: string[][] = [];
const mb = (b: number) => (b / 1024 / 1024).toFixed(0);
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');
const want = (name: string) => !values.only || values.only.split(',').includes(name);
const progress = (s: string) => {
  if (process.stderr.isTTY) process.stderr.write(`\r\x1b[K${s}`);
};

const extraRows: string[] = [];
const peerRows: string[] = [];
/** Roomwatch's ingest readings/s, by workload name */
const ingestRates = new Map<string, number>();
/** the Roomwatch export's rows/s and RSS growth, for the export peer's row */
let roomwatchExport: { rowsPerS: number; rssGrowthBytes: number } | null = null;

async function ingest(
  name: string,
  mode: IngestMode,
  after?: (hub: RunningHub, dataDir: string) => Promise<void>,
  before?: (hub: RunningHub) => Promise<() => Promise<string>>,
  peer = false,
): Promise<string> {
  progress(`${name}: building payloads`);
  const { payloads, lastSeqs, readings } = buildPayloads(d, mode);
  const dataDir = mkdtempSync(join(tmpdir(), 'roomwatch-bench-'));
  const hub = await startHub(dataDir, ['--log-level', process.env.ROOMWATCH_BENCH_LOG_LEVEL ?? 'info']);
  const pid = hub.child.pid!;
  const finishBefore = before ? await before(hub) : null;
  const cpu0 = cpuSeconds(pid);
  const main0 = cpuByThread(pid).get('main') ?? 0;
  const gen0 = process.cpuUsage();
  progress(`${name}: sending ${fmt(readings)} readings over ${d.sensors} connections`);
  const { elapsedMs } = await runIngest(hub.tcpPort, d, payloads, lastSeqs);
  const cpu = cpuSeconds(pid) - cpu0;
  const mainCpu = (cpuByThread(pid).get('main') ?? 0) - main0;
  const genUsage = process.cpuUsage(gen0);
  const genCpu = (genUsage.user + genUsage.system) / 1e6;
  const peak = peakRssBytes(pid);
  if (finishBefore) name += await finishBefore();
  // Bytes per reading are those of the store once its compaction has sorted the cold readings.
  progress(`${name}: waiting for the compaction`);
  const compactedAfterS = await compactionCaughtUp(hub.httpPort, Date.now());
  if (after) await after(hub, dataDir);
  await hub.stop();
  const bytes = statSync(join(dataDir, DATABASE_FILE)).size;
  const rate = (readings / elapsedMs) * 1000;
  ingestRates.set(name, rate);
  if (peer) {
    // Hub and bare server alternated, each round on fresh processes; the median round's ratio.
    const bareRound = async (): Promise<Side> => {
      progress(`${name}: the same readings to the bare Node server`);
      const bare = await startBareNodePeer();
      const bareCpu0 = cpuSeconds(bare.pid);
      const b = await runIngest(bare.tcpPort, d, payloads, lastSeqs);
      const side = { rate: (readings / b.elapsedMs) * 1000, cpuS: cpuSeconds(bare.pid) - bareCpu0, note: mb(peakRssBytes(bare.pid)) };
      await bare.stop();
      return side;
    };
    const hubRound = () => {
      progress(`${name}: another round on a fresh hub`);
      return freshHubIngest(d, payloads, lastSeqs, readings);
    };
    const first: Side = { rate, cpuS: cpu, mainCpuS: mainCpu, note: mb(peak) };
    const rounds = await alternate(ingestRounds, hubRound, bareRound, first, name);
    const m = medianRound(rounds);
    const main = m.ours.mainCpuS === undefined ? '' : `, main thread ${m.ours.mainCpuS.toFixed(1)} s`;
    peerRows.push(
      peerRow(
        `${name}, ${fmt(readings)} readings, ${fmt(d.sensors)} connections`,
        `${fmt(m.ours.rate)} readings/s (hub CPU ${m.ours.cpuS.toFixed(1)} s${main}${m === rounds[0] ? `, peak RSS ${mb(peak)} MB` : ''})`,
        `bare Node TCP server: ${fmt(m.ref.rate)} readings/s (CPU ${m.ref.cpuS.toFixed(1)} s, peak RSS ${m.ref.note} MB)`,
        m.ours.rate / m.ref.rate,
        `rate, median round${roundsNote(rounds)}`,
      ),
    );
  }
  rows.push([
    name,
    fmt(readings),
    fmt(rate),
    (elapsedMs / 1000).toFixed(2),
    cpu.toFixed(1),
    genCpu.toFixed(1),
    mb(peak),
    (bytes / readings).toFixed(2),
    compactedAfterS.toFixed(1),
  ]);
  progress('');
  return dataDir;
}

async function restartToHealthy(dataDir: string): Promise<number> {
  const started = performance.now();
  const hub = await startHub(dataDir, ['--log-level', process.env.ROOMWATCH_BENCH_LOG_LEVEL ?? 'info']);
  for (;;) {
    const res = await fetch(`http://127.0.0.1:${hub.httpPort}/api/v1/health`).catch(() => null);
    if (res?.status === 200) break;
    await new Promise((r) => setTimeout(r, 5));
  }
  const ms = performance.now() - started;
  await hub.stop();
  return ms;
}

process.stdout.write(
  `Roomwatch bench: ${d.sensors} sensors x 3 metrics x ${d.seconds} s = ${fmt(d.sensors * 3 * d.seconds)} readings; ` +
    `${cpus().length} cores (${cpus()[0]?.model ?? '?'}), ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}\n\n`,
);
const keep: string[] = [];
if (want('ingest-line'))
  keep.push(await ingest('ingest, one reading per line', { kind: 'line' }, undefined, undefined, want('peer-ingest')));
if (want('ingest-batch')) {
  keep.push(
    await ingest(
      `ingest, batches of ${batchSize}`,
      { kind: 'batch', size: batchSize },
      async (hub, dataDir) => {
        const file = join(dataDir, 'export.csv');
        if (want('export') || want('upload')) {
          progress('export: downloading history.csv');
          const e = await runExport(hub.httpPort, hub.child.pid!, file);
          roomwatchExport = { rowsPerS: (e.rows / e.elapsedMs) * 1000, rssGrowthBytes: e.rssGrowthBytes };
          extraRows.push(
            `| history export, all rows, over HTTP | ${fmt(e.rows)} rows, ${mb(e.bytes)} MB | ${fmt((e.rows / e.elapsedMs) * 1000)} rows/s | ` +
              `first byte after ${e.firstByteMs.toFixed(0)} ms | hub RSS growth ${mb(e.rssGrowthBytes)} MB |`,
          );
          progress('');
        }
        if (want('latest')) {
          progress('latest: 2,000 requests each plain, gzip and unchanged (304)');
          const l = await latestLatencies(hub.httpPort, hub.child.pid!, 2000);
          const what = { plain: 'plain JSON', gzip: 'Accept-Encoding: gzip', etag: 'If-None-Match, unchanged: 304' };
          for (const r of l.runs)
            extraRows.push(
              `| GET /api/v1/latest, ${fmt(l.readings)} series, 2,000 requests one after another, ${what[r.variant]} (client process of its own, keep-alive) | ` +
                `${fmt(r.bytes)} bytes each | hub CPU ${r.hubCpuMsPerRequest.toFixed(3)} ms a request | ` +
                `p50 ${percentile(r.sortedMs, 50).toFixed(2)} ms, p99 ${percentile(r.sortedMs, 99).toFixed(2)} ms | |`,
            );
          progress('latest peer: a bare Node server with the same bodies');
          const bare = await bareLatestLatencies(hub.httpPort, 2000, dataDir);
          for (const [i, r] of l.runs.entries()) {
            const b = bare[i]!;
            const p = (x: LatestClientResult) =>
              `p50 ${percentile(x.sortedMs, 50).toFixed(2)} ms, p99 ${percentile(x.sortedMs, 99).toFixed(2)} ms`;
            peerRows.push(
              peerRow(
                `GET /api/v1/latest, ${fmt(l.readings)} series, 2,000 requests one after another, ${what[r.variant]}`,
                p(r),
                `bare Node HTTP server, the same bodies from memory: ${p(b)}`,
                percentile(r.sortedMs, 99) / percentile(b.sortedMs, 99),
                'p99',
              ),
            );
          }
        }
        if (want('report-now')) {
          for (const count of [1000, 10000]) {
            progress(`report-now: ${count} sensors connecting`);
            const r = await withFleet(hub.tcpPort, hub.httpPort, count, () => reportNowLatencies(hub.httpPort, 20));
            extraRows.push(
              `| report-now round trip, ${fmt(count)} simulated sensors connected, 20 rounds | ${fmt(r.responded)} of ${fmt(r.requested)} answered | | ` +
                `p50 ${percentile(r.sortedMs, 50).toFixed(0)} ms, p95 ${percentile(r.sortedMs, 95).toFixed(0)} ms | |`,
            );
            if (want('peer-report-now')) {
              const workload = `report-now to ${fmt(count)} sensors each answering at once, 20 rounds`;
              const rw = `p50 ${percentile(r.sortedMs, 50).toFixed(0)} ms, p95 ${percentile(r.sortedMs, 95).toFixed(0)} ms (${fmt(r.responded)} of ${fmt(r.requested)} answered)`;
              if (!mosquittoInstalled()) {
                process.stderr.write(`bench: Mosquitto skipped, not installed; to install: ${MOSQUITTO_INSTALL}\n`);
                peerRows.push(peerRow(workload, rw, `Mosquitto not installed (${MOSQUITTO_INSTALL})`, null));
              } else {
                progress(`report-now peer: Mosquitto with ${count} MQTT subscribers`);
                const m = await mosquittoReportNow(count, 20);
                const mp50 = percentile(m.sortedMs, 50);
                peerRows.push(
                  peerRow(
                    workload,
                    rw,
                    `Mosquitto 2, QoS 1: p50 ${mp50.toFixed(0)} ms, p95 ${percentile(m.sortedMs, 95).toFixed(0)} ms (${fmt(m.responded)} of ${fmt(m.requested)} answered)`,
                    percentile(r.sortedMs, 50) / mp50,
                    'p50',
                  ),
                );
              }
            }
          }
        }
        if (!want('upload')) return;
        progress('upload: posting the export to a fresh hub');
        const uploadDir = mkdtempSync(join(tmpdir(), 'roomwatch-bench-upload-'));
        const fresh = await startHub(uploadDir, ['--log-level', process.env.ROOMWATCH_BENCH_LOG_LEVEL ?? 'info']);
        const u = await runUpload(fresh.httpPort, fresh.child.pid!, file);
        extraRows.push(
          `| upload of that export as one CSV, into an empty hub | ${fmt(u.accepted)} rows accepted, ${mb(u.bytes)} MB | ${fmt((u.accepted / u.elapsedMs) * 1000)} rows/s | ` +
            `${(u.elapsedMs / 1000).toFixed(2)} s | hub RSS growth ${mb(u.rssGrowthBytes)} MB |`,
        );
        const again = await runUpload(fresh.httpPort, fresh.child.pid!, file);
        extraRows.push(
          `| the same upload again (every row a duplicate) | ${fmt(again.duplicates)} duplicates | ${fmt((again.duplicates / again.elapsedMs) * 1000)} rows/s | ` +
            `${(again.elapsedMs / 1000).toFixed(2)} s | hub RSS growth ${mb(again.rssGrowthBytes)} MB |`,
        );
        await fresh.stop();
        rmSync(uploadDir, { recursive: true, force: true });
        progress('');
      },
      undefined,
      want('peer-ingest'),
    ),
  );
  if (want('peer-export')) {
    progress('export peer: DuckDB COPY ... TO CSV of the same rows');
    const dataDir = keep.at(-1)!;
    const c = await runDuckDbCopy(join(dataDir, DATABASE_FILE), join(dataDir, 'duckdb-copy.csv'));
    const copyRate = (c.rows / c.elapsedMs) * 1000;
    const rw = roomwatchExport as { rowsPerS: number; rssGrowthBytes: number } | null;
    peerRows.push(
      peerRow(
        `history export, all ${fmt(c.rows)} rows as CSV`,
        rw ? `${fmt(rw.rowsPerS)} rows/s over HTTP, hub RSS growth ${mb(rw.rssGrowthBytes)} MB` : 'not run (add export to --only)',
        `DuckDB COPY ... TO file: ${fmt(copyRate)} rows/s, RSS growth ${mb(c.rssGrowthBytes)} MB`,
        rw ? rw.rowsPerS / copyRate : null,
      ),
    );
    progress('');
  }
  if (want('peer-influxdb')) {
    const batchRate = ingestRates.get(`ingest, batches of ${batchSize}`);
    const rw = roomwatchExport as { rowsPerS: number; rssGrowthBytes: number } | null;
    if (!influxDbInstalled()) {
      process.stderr.write(`bench: InfluxDB skipped, not installed; to install: ${INFLUXDB_INSTALL}\n`);
      peerRows.push(peerRow('ingest and export, InfluxDB 1.6.7', '', `InfluxDB not installed (${INFLUXDB_INSTALL})`, null));
    } else {
      progress('InfluxDB peer: writing the dataset, 4 writers, batches of 5,000');
      const f = await runInfluxDb(d, cpuSeconds);
      const writeRate = (f.points / f.writeMs) * 1000;
      const exportRate = (f.exportRows / f.exportMs) * 1000;
      peerRows.push(
        peerRow(
          `ingest, ${fmt(f.points)} readings (InfluxDB: HTTP, 4 writers, batches of 5,000)`,
          batchRate ? `batches of ${batchSize}: ${fmt(batchRate)} readings/s` : 'not run',
          `InfluxDB 1.6.7: ${fmt(writeRate)} points/s (server CPU ${f.serverCpuS.toFixed(1)} s)`,
          batchRate ? batchRate / writeRate : null,
        ),
        peerRow(
          `history export, all ${fmt(f.exportRows)} rows as CSV (InfluxDB: its CLI)`,
          rw ? `${fmt(rw.rowsPerS)} rows/s, hub RSS growth ${mb(rw.rssGrowthBytes)} MB` : 'not run (add export to --only)',
          `influx -format csv: ${fmt(exportRate)} rows/s, CLI peak RSS ${mb(f.exportPeakRssBytes)} MB`,
          rw ? rw.rowsPerS / exportRate : null,
        ),
      );
      progress('');
    }
  }
}
if (want('upload-memory')) {
  // The contract: an upload's memory does not grow with the file. Same generator, growing sizes.
  for (const n of values['upload-rows'].split(',').map(Number)) {
    progress(`upload-memory: ${fmt(n)} rows`);
    const u = await runUploadMemory(n);
    extraRows.push(
      `| upload of a generated file, ${fmt(n)} rows of 500 series, into a fresh hub, one live sensor acked meanwhile | ${fmt(u.accepted)} rows accepted, ${mb(u.bytes)} MB | ` +
        `${fmt((u.accepted / u.elapsedMs) * 1000)} rows/s | ${(u.elapsedMs / 1000).toFixed(2)} s; sensor's longest ack wait ${fmt(u.worstAckMs)} ms (median before ${fmt(u.medianAckBeforeMs)} ms) | hub RSS growth ${mb(u.rssGrowthBytes)} MB |`,
    );
    progress('');
  }
}
if (want('idle-sensors')) {
  // Memory per quiet sensor connection, from the hub's heap and RSS after a full GC.
  progress('idle-sensors: 10,000 connections, with and without hello');
  const m = await idleSensorMemory(10_000);
  const kb = (b: number) => `${(b / 1024).toFixed(2)} KB`;
  extraRows.push(
    `| ${fmt(m.count)} idle sensor connections, each said hello and sent one batch of 3 readings (acked) | ${fmt(m.count)} connections | | | ` +
      `per connection, after GC: heap ${kb(m.greeted.heap)}, RSS ${kb(m.greeted.rss)} |`,
    `| ${fmt(m.count)} idle connections that never said hello | ${fmt(m.count)} connections | | | ` +
      `per connection, after GC: heap ${kb(m.silent.heap)}, RSS ${kb(m.silent.rss)} |`,
  );
  progress('');
}
if (want('stream')) {
  // Each row against the same ingest without a subscriber, alternated round by round (ingest-rounds.ts).
  progress('stream: building payloads');
  const { payloads, lastSeqs, readings } = buildPayloads(d, { kind: 'batch', size: batchSize });
  for (const [count, room] of [
    [1, null],
    [4, null],
    [16, null],
    [16, 'room-3'],
    [64, 'room-3'],
  ] as const) {
    const label = `ingest, batches of ${batchSize}, ${count} stream subscriber${count > 1 ? 's' : ''} to ${room ? 'one room of 20' : 'every reading'}`;
    const withSubscribers = () => {
      progress(`${label}: a round`);
      return freshHubIngest(d, payloads, lastSeqs, readings, async (hub) => {
        const subs = await subscribe(hub.httpPort, count, room);
        return async () => {
          const received = await subs.received();
          await subs.close();
          return fmt(received);
        };
      });
    };
    const without = () => {
      progress(`${label}: the same without a subscriber`);
      return freshHubIngest(d, payloads, lastSeqs, readings);
    };
    const rounds = await alternate(ingestRounds, withSubscribers, without, undefined, label);
    const m = medianRound(rounds);
    const cpu = (s: Side) => `hub CPU ${s.cpuS.toFixed(1)} s, main thread ${(s.mainCpuS ?? 0).toFixed(1)} s`;
    peerRows.push(
      peerRow(
        `${label}, ${fmt(readings)} readings`,
        `${fmt(m.ours.rate)} readings/s (subscribers got ${m.ours.note} messages; ${cpu(m.ours)})`,
        `no subscriber: ${fmt(m.ref.rate)} readings/s (${cpu(m.ref)})`,
        m.ours.rate / m.ref.rate,
        `rate, median round${roundsNote(rounds)}`,
      ),
    );
  }
}
if (want('line-protocol')) {
  // The same bodies to the hub's /write and to InfluxDB's, in this run.
  const lp = await runLineProtocol(d, progress);
  const rate = (ms: number) => (lp.points / ms) * 1000;
  const retried = (n: number) => (n > 0 ? `, ${fmt(n)} batches sent again after 503` : '');
  peerRows.push(
    peerRow(
      `line protocol, ${fmt(lp.points)} points (${mb(lp.bodyBytes)} MB) over HTTP, 4 writers, batches of 5,000`,
      `POST /write: ${fmt(rate(lp.hub.writeMs))} points/s (hub CPU ${lp.hub.cpuS.toFixed(1)} s, peak RSS ${mb(lp.hub.peakRssBytes)} MB${retried(lp.hub.retries)})`,
      lp.influx
        ? `InfluxDB 1.6.7: ${fmt(rate(lp.influx.writeMs))} points/s (server CPU ${lp.influx.cpuS.toFixed(1)} s${retried(lp.influx.retries)})`
        : 'InfluxDB not installed (apt-get install influxdb influxdb-client)',
      lp.influx ? lp.influx.writeMs / lp.hub.writeMs : null,
    ),
  );
}
const mqttRuns = want('mqtt')
  ? await runMqttBench({
      messages: Number(values['mqtt-messages']),
      rate: Number(values['mqtt-rate']),
      seconds: Number(values['mqtt-seconds']),
      connections: Number(values['mqtt-connections']),
      progress,
    })
  : [];
const dashboardRows = want('dashboard')
  ? await runDashboardBench({ days: Number(values['dashboard-days']), progress })
  : want('dashboard-ingest') // the ingest with dashboards open alone
    ? await runDashboardBench({ days: 0, progress, ingestOnly: true })
    : [];
process.stdout.write(
  '| workload | readings | readings/s | wall s | hub CPU s | load generator CPU s | hub peak RSS MB | bytes/reading | compacted after s |\n|---|---|---|---|---|---|---|---|---|\n',
);
for (const r of rows) process.stdout.write(`| ${r.join(' | ')} |\n`);
if (extraRows.length > 0) {
  process.stdout.write('\n| workload | size | rate | latency | memory |\n|---|---|---|---|---|\n');
  for (const r of extraRows) process.stdout.write(r + '\n');
}
if (typeof mqttRuns === 'string') process.stdout.write(`\nMQTT bridge: skipped (${mqttRuns})\n`);
else if (mqttRuns.length > 0) {
  process.stdout.write(
    `\nMQTT bridge (${values['mqtt-connections']} links), 1,000 devices publishing Zigbee2MQTT state at QoS 1 through Mosquitto\n\n` +
      '| run | messages committed | messages/s | readings/s | wall s | broker queue max / end | hub CPU s | broker CPU s | generator CPU s | hub peak RSS MB |\n|---|---|---|---|---|---|---|---|---|---|\n',
  );
  for (const r of mqttRuns)
    process.stdout.write(
      `| ${r.label} | ${fmt(r.stored)} | ${fmt(r.messagesPerS)} | ${fmt(r.messagesPerS * 6)} | ${(r.elapsedMs / 1000).toFixed(2)} | ${fmt(r.queueMax)} / ${fmt(r.queueEnd)} | ` +
        `${r.hubCpuS.toFixed(1)} | ${r.brokerCpuS.toFixed(1)} | ${r.generatorCpuS.toFixed(1)} | ${mb(r.hubPeakRssBytes)} |\n`,
    );
}
if (dashboardRows.length > 0) {
  process.stdout.write('\nDashboard (docs/DASHBOARD.md), in Chromium\n\n| workload | size | result | detail |\n|---|---|---|---|\n');
  for (const r of dashboardRows) process.stdout.write(r + '\n');
}
if (peerRows.length > 0) {
  process.stdout.write(`\nAgainst peers, same run\n\n${PEER_TABLE_HEAD}`);
  for (const r of peerRows) process.stdout.write(r + '\n');
}
if (want('startup')) {
  const r = await runStartupBench(Number(values['startup-rounds']), progress);
  process.stdout.write(
    `\nstart to healthy, empty data folder, median of ${r.rounds}: compiled ${r.compiledMs.toFixed(0)} ms, tsx ${r.tsxMs.toFixed(0)} ms, ` +
      `compiled/tsx ${(r.compiledMs / r.tsxMs).toFixed(2)} (process spawn included)\n`,
  );
}
if (want('retention')) {
  const { runRetentionBench } = await import('./retention.ts');
  const [sensors, seconds] = [Number(values['retention-sensors']), Number(values['retention-seconds'])];
  process.stdout.write('\nRetention and rollups (retention.ts)\n\n');
  const parts = values['retention-parts'].split(',');
  await runRetentionBench({ sensors, seconds, parts, progress, write: (text) => process.stdout.write(text + '\n') });
}
if (want('cluster')) {
  // 300,000 readings: the cluster's extra processes share the same 2 cores (cluster.ts)
  const { runClusterBench } = await import('./cluster.ts');
  process.stdout.write(`\nCluster mode (docs/CLUSTER.md)\n\n${await runClusterBench({ sensors: 500, seconds: 200, progress })}`);
}
const last = keep.at(-1);
if (last && want('restart')) {
  const ms = await restartToHealthy(last);
  process.stdout.write(
    `\nstart to healthy with ${fmt(d.sensors * 3 * d.seconds)} readings stored: ${ms.toFixed(0)} ms (process spawn included)\n`,
  );
}
for (const dir of keep) rmSync(dir, { recursive: true, force: true });
