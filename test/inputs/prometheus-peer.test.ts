// Debian's Prometheus in agent mode, scraping prometheus-node-exporter and remote-writing to the
// hub (docs/INTEGRATIONS.md "Prometheus"): node metrics appear as readings of the exporter's
// instance, in the room its scrape config gives, and in /metrics' count of what Prometheus sent.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { request, waitFor } from '../support/api-client.ts';
import { startHub } from '../support/hub-process.ts';
import { latest, sensors } from '../support/http.ts';
import { parseExposition } from '../support/prometheus.ts';
import { perTest } from '../support/teardown.ts';
import { installed, NODE_EXPORTER, PROMETHEUS, PROMETHEUS_INSTALL, startPrometheusAgent } from './peers.ts';

test.after.each(() => perTest.run());

test('a Prometheus agent scraping node_exporter: node metrics become readings of its instance, in the room of its labels', async () => {
  if (!installed('Prometheus remote write', [PROMETHEUS, NODE_EXPORTER], PROMETHEUS_INSTALL)) return;
  const hub = await startHub();
  const agent = await startPrometheusAgent(`http://127.0.0.1:${hub.httpPort}/api/v1/write`, { room: 'server-room' });
  const instance = `127.0.0.1:${agent.nodeExporterPort}`;
  const rows = await waitFor(
    `node metrics of ${instance} in latest`,
    async () => {
      const r = await latest(hub.httpPort, { sensor: instance });
      return r.some((x) => x.metric === 'node_load1') && r.some((x) => x.metric === 'node_cpu_seconds_total_cpu_0_mode_idle')
        ? r
        : undefined;
    },
    60_000,
    200,
  ).catch((err: Error) => {
    throw new Error(`${err.message}\n${agent.log().slice(-3000)}`);
  });
  const load = rows.find((r) => r.metric === 'node_load1')!;
  assert.is(load.room, 'server-room');
  assert.ok(load.value >= 0);
  assert.ok(Math.abs(load.ts - Date.now()) < 60_000, 'the scrape time, in ms');
  assert.ok(rows.some((r) => r.metric === 'node_memory_mem_total_bytes' && r.value > 0));
  // `up` comes from the scrape itself: 1 while node_exporter answers.
  assert.ok(rows.some((r) => r.metric === 'up' && r.value === 1));
  const sensor = (await sensors(hub.httpPort)).find((s) => s.sensor === instance);
  assert.is((sensor as { source?: string } | undefined)?.source, 'prometheus');
  const page = parseExposition((await request(hub.httpPort, '/metrics')).text);
  const taken = page.samples.find((s) => s.name === 'roomwatch_input_readings_total' && s.labels.source === 'prometheus')?.value ?? 0;
  assert.ok(taken >= rows.length, `taken ${taken}`);
});

test.run();
