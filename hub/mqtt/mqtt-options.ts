/**
 * The MQTT bridge's part of the hub's options (hub/setup/options.ts): their defaults, their
 * checks at start, and the bridge's configuration made from them (files read, mapping file
 * checked). docs/ADMIN.md "MQTT" lists the flags and environment variables.
 */
import { accessSync, constants as fsConstants } from 'node:fs';
import { brokerAddress, brokerUrlProblem } from './broker-address.ts';
import { DEFAULT_MAP, loadMapFile } from './map-file.ts';
import type { MqttBridgeConfig } from './mqtt-bridge.ts';

export interface MqttOptions {
  /** the user's broker, `mqtt://[user[:password]@]host[:port]` or `mqtts://...`; null: no bridge */
  mqttUrl: string | null;
  /** overrides the URL's user */
  mqttUser: string | null;
  /** a file holding the password (one line), so it is not on the command line */
  mqttPasswordFile: string | null;
  /** PEM CA certificate(s) the broker's TLS certificate must chain to (mqtts:// only) */
  mqttCaFile: string | null;
  /** the mapping file (JSON, hub/mqtt/map-file.ts); null: the built-in mappings alone */
  mqttMapFile: string | null;
  /** the bridge's MQTT client ids start with it, and it names its shared subscription's group: one per hub on a broker */
  mqttClientId: string;
  /** connections sharing the subscription (1: a plain subscription, for brokers without shared subscriptions) */
  mqttConnections: number;
  /** messages each connection holds unacknowledged at most (MQTT 5 Receive Maximum): the bridge's memory bound */
  mqttReceiveMaximum: number;
}

export const defaultMqttOptions = {
  mqttUrl: null,
  mqttUser: null,
  mqttPasswordFile: null,
  mqttCaFile: null,
  mqttMapFile: null,
  mqttClientId: 'roomwatch',
  mqttConnections: 4,
  mqttReceiveMaximum: 2_000,
} satisfies MqttOptions;

/** payload bytes one link holds unacknowledged before it stops reading (beside the Receive Maximum) */
const MAX_HELD_BYTES_PER_LINK = 8 * 1024 * 1024;
const KEEPALIVE_S = 30;

/** What is wrong with the MQTT options, each naming the option. */
export function mqttOptionProblems(o: MqttOptions): string[] {
  const problems: string[] = [];
  const files = ['mqttPasswordFile', 'mqttCaFile', 'mqttMapFile'] as const;
  if (o.mqttUrl === null) {
    for (const k of ['mqttUser', ...files] as const)
      if (o[k] !== null) problems.push(`${k} is for the MQTT bridge: give the broker with mqttUrl (--mqtt mqtt://host:1883) too`);
    return problems;
  }
  const url = brokerUrlProblem(o.mqttUrl);
  if (url !== null) problems.push(url);
  for (const k of files) {
    const file = o[k];
    if (file === null) continue;
    try {
      accessSync(file, fsConstants.R_OK);
    } catch (err) {
      problems.push(`${k} "${file}" cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
    }
  }
  if (typeof o.mqttClientId !== 'string' || !/^[A-Za-z0-9_-]{1,40}$/.test(o.mqttClientId))
    problems.push(`mqttClientId must be 1 to 40 letters, digits, _ or -, got ${JSON.stringify(o.mqttClientId)}`);
  if (!Number.isInteger(o.mqttConnections) || o.mqttConnections < 1 || o.mqttConnections > 64)
    problems.push(`mqttConnections must be a whole number from 1 to 64, got ${String(o.mqttConnections)}`);
  if (!Number.isInteger(o.mqttReceiveMaximum) || o.mqttReceiveMaximum < 1 || o.mqttReceiveMaximum > 65_535)
    problems.push(`mqttReceiveMaximum must be a whole number from 1 to 65535, got ${String(o.mqttReceiveMaximum)}`);
  return problems;
}

/** The bridge's configuration, or null without mqttUrl. Reads the files; throws an Error naming what is wrong. */
export function mqttBridgeConfig(o: MqttOptions): MqttBridgeConfig | null {
  if (o.mqttUrl === null) return null;
  return {
    broker: brokerAddress(o.mqttUrl, { user: o.mqttUser, passwordFile: o.mqttPasswordFile, caFile: o.mqttCaFile }),
    clientId: o.mqttClientId,
    connections: o.mqttConnections,
    map: o.mqttMapFile === null ? DEFAULT_MAP : loadMapFile(o.mqttMapFile),
    receiveMaximum: o.mqttReceiveMaximum,
    maxHeldBytes: MAX_HELD_BYTES_PER_LINK,
    keepaliveS: KEEPALIVE_S,
  };
}
