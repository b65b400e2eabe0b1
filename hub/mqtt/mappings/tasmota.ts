/**
 * Tasmota: `tele/<topic>/SENSOR` carries the sensors of one device every TelePeriod
 * (https://tasmota.github.io/docs/MQTT/), for example
 * `{"Time":"2018-03-02T18:25:03","AM2301":{"Temperature":22.6,"Humidity":32.4},"TempUnit":"C"}`.
 *
 * - the device's topic is the sensor; each numeric field of each sensor block is a metric
 *   (`Temperature` → `temperature`, `DewPoint` → `dew_point`); a field that more than one block
 *   of the message carries (two DS18B20s) is named after its block too: `ds18b20_1_temperature`;
 *   an array of numbers (multi-channel energy) gives one metric per element, `_1`, `_2`, ...;
 * - units: temperatures in `TempUnit`, pressures in `PressureUnit`, speeds in `SpeedUnit` (as
 *   the device says; `C`, `hPa`, `km/h` when it does not), and Tasmota's fixed units for the
 *   rest (`Humidity` %, `Power` W, `Voltage` V, `Total` kWh, ...);
 * - `Time` is the device's time of the readings. Tasmota sends its local time without a zone
 *   unless `SetOption52 1`: without one it is read as the hub's local time. A `Time` before
 *   2000 is a clock not yet set (no NTP since boot): the hub's time is used instead.
 */
import { MIN_TS_MS } from '../../../protocol/names.ts';
import { isoTime } from './device-time.ts';
import {
  clip,
  isFiniteNumber,
  jsonObject,
  readingsOf,
  refused,
  type DeviceReading,
  type MapOutcome,
  type TopicMapping,
} from './mapping.ts';

type UnitSource = 'TempUnit' | 'PressureUnit' | 'SpeedUnit';

/** by field: a fixed unit, or the payload field that names it */
const UNITS: ReadonlyMap<string, string | { from: UnitSource; otherwise: string }> = new Map<
  string,
  string | { from: UnitSource; otherwise: string }
>([
  ['Temperature', { from: 'TempUnit', otherwise: 'C' }],
  ['DewPoint', { from: 'TempUnit', otherwise: 'C' }],
  ['Pressure', { from: 'PressureUnit', otherwise: 'hPa' }],
  ['SeaPressure', { from: 'PressureUnit', otherwise: 'hPa' }],
  ['Speed', { from: 'SpeedUnit', otherwise: 'km/h' }],
  ['Humidity', '%'],
  ['Illuminance', 'lx'],
  ['CarbonDioxide', 'ppm'],
  ['eCO2', 'ppm'],
  ['TVOC', 'ppb'],
  ['Distance', 'cm'],
  ['Gas', 'kOhm'],
  ['Power', 'W'],
  ['ApparentPower', 'VA'],
  ['ReactivePower', 'VAr'],
  ['Voltage', 'V'],
  ['Current', 'A'],
  ['Frequency', 'Hz'],
  ['Total', 'kWh'],
  ['Today', 'kWh'],
  ['Yesterday', 'kWh'],
  ['PM2.5', 'µg/m³'],
  ['PM10', 'µg/m³'],
]);

export interface TasmotaOptions {
  /** Tasmota's telemetry prefix (`Prefix3`) */
  prefix: string;
}

export function tasmotaMapping(options: TasmotaOptions = { prefix: 'tele' }): TopicMapping {
  const head = `${options.prefix}/`;
  return {
    name: 'tasmota',
    filters: [`${options.prefix}/+/SENSOR`],
    map(topic, payload) {
      if (!topic.startsWith(head) || !topic.endsWith('/SENSOR')) return null;
      const device = topic.slice(head.length, -'/SENSOR'.length);
      if (device.length === 0 || device.includes('/')) return null;
      return mapTasmota(device, payload);
    },
  };
}

interface Field {
  block: string | null;
  field: string;
  value: number;
  index: number | null;
}

export function mapTasmota(device: string, payload: Buffer): MapOutcome {
  const msg = jsonObject(payload);
  if (msg === null) return refused('malformed', `tele/${device}/SENSOR must be a JSON object, got ${clip(payload)}`);
  const fields: Field[] = [];
  const take = (block: string | null, field: string, value: unknown) => {
    if (isFiniteNumber(value)) fields.push({ block, field, value, index: null });
    else if (Array.isArray(value))
      value.forEach((v, i) => {
        if (isFiniteNumber(v)) fields.push({ block, field, value: v, index: i + 1 });
      });
  };
  for (const [key, value] of Object.entries(msg)) {
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) {
      for (const [field, v] of Object.entries(value as Record<string, unknown>)) take(key, field, v);
    } else take(null, key, value);
  }
  /** by field name: how many blocks carry it */
  const blocksOf = new Map<string, number>();
  for (const f of fields) if (f.index === null || f.index === 1) blocksOf.set(f.field, (blocksOf.get(f.field) ?? 0) + 1);
  const readings: DeviceReading[] = fields.map((f) => {
    let metric = (blocksOf.get(f.field) ?? 0) > 1 && f.block !== null ? `${f.block}_${f.field}` : f.field;
    if (f.index !== null) metric += `_${f.index}`;
    const unit = unitOf(f.field, msg);
    return unit === undefined ? { metric, value: f.value } : { metric, value: f.value, unit };
  });
  const time = isoTime(msg.Time);
  const ts = time !== undefined && time >= MIN_TS_MS ? time : undefined;
  return readingsOf(ts === undefined ? { sensor: device, readings } : { sensor: device, ts, readings });
}

function unitOf(field: string, msg: Record<string, unknown>): string | undefined {
  const u = UNITS.get(field);
  if (u === undefined || typeof u === 'string') return u;
  const named = msg[u.from];
  return typeof named === 'string' && named.length > 0 ? named : u.otherwise;
}
