/**
 * `integrations`: where to point the tools that feed the hub (docs/INTEGRATIONS.md): the URLs of
 * this hub for Telegraf, Home Assistant, InfluxDB clients and Prometheus remote write, and the
 * hub flag for an MQTT broker. Prints only; it asks the hub nothing, so it works before the hub
 * runs. `--json` gives the same as an object.
 */
import type { CommandSpec } from '../command.ts';
import { ExitCode } from '../errors.ts';

/** The hub's URLs for each kind of writer, from the URL the CLI talks to. */
export function integrationUrls(hubUrl: string): Record<string, string> {
  const base = hubUrl.replace(/\/+$/, '');
  return {
    influxdb_v1: base,
    influxdb_v1_write: `${base}/write?db=roomwatch&precision=ms`,
    influxdb_v2: base,
    influxdb_v2_write: `${base}/api/v2/write?org=home&bucket=roomwatch&precision=ms`,
    prometheus_remote_write: `${base}/api/v1/write`,
  };
}

export const integrationsCommand: CommandSpec = {
  name: 'integrations',
  summary: 'print where to point Telegraf, Home Assistant, InfluxDB clients, Prometheus and MQTT at this hub',
  filterFlags: false,
  details: [
    'The config snippets for each tool are in docs/INTEGRATIONS.md.',
    'Where the hub asks sensors for a token, these writes need one too: an admin creates one with `tokens create`.',
  ],
  async run(ctx) {
    const urls = integrationUrls(ctx.hub.displayUrl);
    if (ctx.json) {
      ctx.stdout.write(`${JSON.stringify(urls)}\n`);
      return ExitCode.Done;
    }
    ctx.stdout.write(
      [
        `Telegraf [[outputs.influxdb]]      urls = ["${urls.influxdb_v1}"]   (password = a sensor token)`,
        `Telegraf [[outputs.influxdb_v2]]   urls = ["${urls.influxdb_v2}"]   (token = a sensor token)`,
        `Home Assistant influxdb:           host and port of ${urls.influxdb_v2}, api_version 1 or 2, tags: {host: <sensor id>}`,
        `InfluxDB clients, influx -import   ${urls.influxdb_v1} (1.x: POST ${urls.influxdb_v1_write})`,
        `Prometheus remote_write            url: ${urls.prometheus_remote_write}`,
        `MQTT (Zigbee2MQTT, Tasmota, ...)   start the hub with --mqtt mqtt://USER@BROKER:1883`,
        'Config snippets: docs/INTEGRATIONS.md. Sensor from the tag sensor or host (Prometheus: instance), room from room.',
        '',
      ].join('\n'),
    );
    return ExitCode.Done;
  },
};
