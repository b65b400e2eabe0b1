/**
 * Shelly Gen2 (Plus, Pro, Gen3): with "RPC status notifications over MQTT" on, a device
 * publishes `NotifyStatus` (and `NotifyFullStatus` after it connects) on `<prefix>/events/rpc`
 * (https://shelly-api-docs.shelly.cloud/gen2/General/Notifications), the prefix being its id
 * unless set otherwise, for example
 * `{"src":"shellyplusht-08b61fd9aef4","dst":"shellyplusht-08b61fd9aef4/events","method":"NotifyStatus",
 *   "params":{"ts":1671184011.42,"temperature:0":{"id":0,"tC":22.4,"tF":72.3}}}`.
 *
 * - the prefix is the sensor; `params.ts` (seconds) is the device's time of the values;
 * - the components that measure something: `temperature:N` (`tC`, C), `humidity:N` (`rh`, %),
 *   `devicepower:N` (`battery.percent` %, `battery.V` V), `illuminance:N` (`lux`, lx),
 *   `voltmeter:N` (`voltage`, V), and the outputs `switch:N`, `pm1:N`, `cover:N`
 *   (`apower` W, `voltage` V, `current` A, `freq` Hz, `aenergy.total` Wh, `temperature.tC` as
 *   `device_temperature`); component N > 0 gives metrics with `_N` (`temperature_1`).
 *   Everything else (`sys`, `wifi`, `tF`, events) carries no reading.
 */
import { epochSeconds } from './device-time.ts';
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

/** A value of a component's status: its path in the status object, the metric it becomes, its unit. */
type Pick = [path: readonly string[], metric: string, unit: string];

const OUTPUT: readonly Pick[] = [
  [['apower'], 'power', 'W'],
  [['voltage'], 'voltage', 'V'],
  [['current'], 'current', 'A'],
  [['freq'], 'frequency', 'Hz'],
  [['aenergy', 'total'], 'energy', 'Wh'],
  [['temperature', 'tC'], 'device_temperature', 'C'],
];

/** by component type */
const COMPONENTS: ReadonlyMap<string, readonly Pick[]> = new Map<string, readonly Pick[]>([
  ['temperature', [[['tC'], 'temperature', 'C']]],
  ['humidity', [[['rh'], 'humidity', '%']]],
  [
    'devicepower',
    [
      [['battery', 'percent'], 'battery', '%'],
      [['battery', 'V'], 'battery_voltage', 'V'],
    ],
  ],
  ['illuminance', [[['lux'], 'illuminance', 'lx']]],
  ['voltmeter', [[['voltage'], 'voltage', 'V']]],
  ['switch', OUTPUT],
  ['pm1', OUTPUT],
  ['cover', OUTPUT],
]);

const STATUS_METHODS = new Set(['NotifyStatus', 'NotifyFullStatus']);
const SUFFIX = '/events/rpc';

export function shellyMapping(): TopicMapping {
  return {
    name: 'shelly',
    filters: [`+${SUFFIX}`],
    map(topic, payload) {
      if (!topic.endsWith(SUFFIX) || topic.length === SUFFIX.length) return null;
      return mapShelly(topic.slice(0, -SUFFIX.length), payload);
    },
  };
}

export function mapShelly(device: string, payload: Buffer): MapOutcome {
  const frame = jsonObject(payload);
  if (frame === null) return refused('malformed', `${device}${SUFFIX} must be a JSON-RPC frame, got ${clip(payload)}`);
  if (typeof frame.method !== 'string' || !STATUS_METHODS.has(frame.method)) return IGNORED; // NotifyEvent, answers
  const params = frame.params;
  if (typeof params !== 'object' || params === null || Array.isArray(params))
    return refused('malformed', `${device}${SUFFIX}: ${frame.method} must carry params as an object`);
  const readings: DeviceReading[] = [];
  for (const [key, status] of Object.entries(params as Record<string, unknown>)) {
    const [type, id] = key.split(':');
    const picks = COMPONENTS.get(type!);
    if (picks === undefined || typeof status !== 'object' || status === null) continue;
    const suffix = id === undefined || id === '0' ? '' : `_${id}`;
    for (const [path, metric, unit] of picks) {
      const value = at(status, path);
      if (isFiniteNumber(value)) readings.push({ metric: metric + suffix, value, unit });
    }
  }
  const ts = epochSeconds((params as Record<string, unknown>).ts);
  return readingsOf(ts === undefined ? { sensor: device, readings } : { sensor: device, ts, readings });
}

function at(value: unknown, path: readonly string[]): unknown {
  let v = value;
  for (const key of path) {
    if (typeof v !== 'object' || v === null || !Object.hasOwn(v, key)) return undefined;
    v = (v as Record<string, unknown>)[key];
  }
  return v;
}
