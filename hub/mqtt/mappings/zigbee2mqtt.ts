/**
 * Zigbee2MQTT: `<base>/<friendly name>` carries a device's state as a JSON object
 * (https://www.zigbee2mqtt.io/guide/usage/mqtt_topics_and_messages.html), for example
 * `{"temperature":22.75,"linkquality":97,"humidity":55.43,"pressure":1000.6,"battery":86,"voltage":2985}`.
 *
 * - the friendly name (which may hold `/`) is the sensor; each top-level numeric field is a
 *   metric; text, booleans and nested objects (`"state":"ON"`, `"occupancy":true`, `"color":{}`)
 *   are not readings and are left out;
 * - units are Zigbee2MQTT's for its fields: `temperature` C, `humidity` %, `pressure` hPa,
 *   `battery` %, `voltage` mV (a battery's; V on a device that also reports `power`, `current`
 *   or `energy`: a plug measuring the mains), ...;
 * - `last_seen` (when `advanced.last_seen` is `ISO_8601`, `ISO_8601_local` or `epoch`) is the
 *   device's time of the message, and not a metric;
 * - `<base>/bridge/...`, and the command and availability topics (`.../set`, `.../get`,
 *   `.../availability`) carry no readings.
 */
import { epochMs, isoTime } from './device-time.ts';
import {
  IGNORED,
  clip,
  isFiniteNumber,
  jsonObject,
  readingsOf,
  refused,
  type DeviceReading,
  type MapOutcome,
  type TopicMapping,
} from './mapping.ts';

/** by field: Zigbee2MQTT's unit for it; a field not listed gets the hub's default (the well-known unit, else none) */
const UNITS: ReadonlyMap<string, string> = new Map([
  ['temperature', 'C'],
  ['device_temperature', 'C'],
  ['local_temperature', 'C'],
  ['humidity', '%'],
  ['soil_moisture', '%'],
  ['pressure', 'hPa'],
  ['battery', '%'],
  ['voltage', 'mV'],
  ['linkquality', 'lqi'],
  ['illuminance', 'lx'],
  ['illuminance_lux', 'lx'],
  ['co2', 'ppm'],
  ['voc', 'ppb'],
  ['pm25', 'µg/m³'],
  ['pm10', 'µg/m³'],
  ['power', 'W'],
  ['current', 'A'],
  ['energy', 'kWh'],
  ['noise', 'dB'],
]);

const NOT_STATE = new Set(['set', 'get', 'availability']);

export interface Zigbee2MqttOptions {
  /** Zigbee2MQTT's `mqtt.base_topic` */
  baseTopic: string;
}

export function zigbee2mqttMapping(options: Zigbee2MqttOptions = { baseTopic: 'zigbee2mqtt' }): TopicMapping {
  const prefix = `${options.baseTopic}/`;
  return {
    name: 'zigbee2mqtt',
    filters: [`${options.baseTopic}/#`],
    map(topic, payload) {
      if (!topic.startsWith(prefix)) return null;
      return mapZigbee2mqtt(topic.slice(prefix.length), payload);
    },
  };
}

/** `name`: the topic after the base topic. */
export function mapZigbee2mqtt(name: string, payload: Buffer): MapOutcome {
  const levels = name.split('/');
  if (levels[0] === 'bridge' || levels.some((l, i) => i > 0 && NOT_STATE.has(l))) return IGNORED;
  const state = jsonObject(payload);
  if (state === null) return refused('malformed', `zigbee2mqtt/${name}: the state must be a JSON object, got ${clip(payload)}`);
  const mains = isFiniteNumber(state.power) || isFiniteNumber(state.current) || isFiniteNumber(state.energy);
  const readings: DeviceReading[] = [];
  for (const field in state) {
    const value = state[field];
    if (field === 'last_seen' || !isFiniteNumber(value)) continue;
    const unit = field === 'voltage' && mains ? 'V' : UNITS.get(field);
    readings.push(unit === undefined ? { metric: field, value } : { metric: field, value, unit });
  }
  const lastSeen = state.last_seen;
  const ts = typeof lastSeen === 'number' ? epochMs(lastSeen) : isoTime(lastSeen);
  return readingsOf(ts === undefined ? { sensor: name, readings } : { sensor: name, ts, readings });
}
