/**
 * The MQTT mapping file (`--mqtt-map FILE`, JSON): which built-in mappings are on, topics of
 * one's own, sensor and metric renames, and each sensor's room. Checked once at start with
 * TypeBox and the contract's name rules; a mistake stops the hub with the path in the file and
 * what to write instead. docs/INTEGRATIONS.md "The mapping file" shows every field.
 *
 *     {
 *       "builtins": { "zigbee2mqtt": { "base_topic": "z2m" }, "tasmota": false },
 *       "topics": [{ "filter": "garden/+/soil", "sensor": "soil-{1}", "payload": "number", "metric": "soil_moisture", "unit": "%" }],
 *       "sensors": { "Living Room": { "id": "living-room-th", "room": "living-room", "metrics": { "linkquality": false } } },
 *       "metrics": { "linkquality": "link_quality" },
 *       "default_room": "home"
 *     }
 */
import { readFileSync } from 'node:fs';
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { SchemaCheck } from '../../protocol/schema-check.ts';
import { METRIC_PATTERN, ROOM_PATTERN, SENSOR_ID_PATTERN, unitProblem } from '../../protocol/names.ts';
import { filterProblem, plusCount } from './topic-filter.ts';

const Name = Type.String({ minLength: 1, maxLength: 200 });
const Prefix = Type.String({
  minLength: 1,
  maxLength: 200,
  pattern: '^[^+#/]+(/[^+#/]+)*$',
  errorMessage: 'must be a topic without + or # or an empty level',
});

/** What a field becomes: a metric name, `{ "metric", "unit" }`, or false to leave it out. */
const FieldTarget = Type.Union(
  [Type.String(), Type.Literal(false), closed({ metric: Type.Optional(Type.String()), unit: Type.Optional(Type.String()) })],
  { errorMessage: 'must be a metric name, {"metric": NAME, "unit": UNIT}, or false to leave the field out' },
);
const FieldTargets = Type.Record(Type.String(), FieldTarget);

function closed<T extends Record<string, TSchema>>(props: T) {
  return Type.Object(props, { additionalProperties: false });
}

function builtin<T extends Record<string, TSchema>>(props: T) {
  return Type.Union([Type.Boolean(), closed(props)], {
    errorMessage: `must be true, false or an object with ${Object.keys(props).join(', ') || 'nothing'}`,
  });
}

const TopicEntry = closed({
  filter: Name,
  sensor: Name,
  payload: Type.Optional(Type.Union([Type.Literal('json'), Type.Literal('number')], { errorMessage: 'must be "json" or "number"' })),
  metric: Type.Optional(Type.String()),
  unit: Type.Optional(Type.String()),
  fields: Type.Optional(FieldTargets),
  ts_field: Type.Optional(Name),
  ts_unit: Type.Optional(Type.Union([Type.Literal('ms'), Type.Literal('s')], { errorMessage: 'must be "ms" or "s"' })),
  room: Type.Optional(Type.String()),
});

const SensorEntry = closed({ id: Type.Optional(Type.String()), room: Type.Optional(Type.String()), metrics: Type.Optional(FieldTargets) });

export const MapFileSchema = closed({
  builtins: Type.Optional(
    closed({
      zigbee2mqtt: Type.Optional(builtin({ base_topic: Type.Optional(Prefix) })),
      tasmota: Type.Optional(builtin({ prefix: Type.Optional(Prefix) })),
      shelly: Type.Optional(builtin({})),
      esphome: Type.Optional(builtin({ discovery_prefix: Type.Optional(Prefix) })),
    }),
  ),
  topics: Type.Optional(Type.Array(TopicEntry, { maxItems: 1000 })),
  sensors: Type.Optional(Type.Record(Type.String(), SensorEntry)),
  metrics: Type.Optional(FieldTargets),
  default_room: Type.Optional(Type.String()),
});
export type MapFileJson = Static<typeof MapFileSchema>;

/** What a field of a device becomes. */
export type FieldRule = { drop: true } | { drop: false; metric?: string; unit?: string };

export interface TopicRule {
  filter: string;
  sensor: string;
  payload: 'json' | 'number';
  metric?: string;
  unit?: string;
  /** by field name; absent: every numeric field */
  fields?: ReadonlyMap<string, FieldRule>;
  tsField?: string;
  tsUnit: 'ms' | 's';
  room?: string;
}

export interface SensorRule {
  id?: string;
  room?: string;
  /** by the device's field name or the metric the hub made of it */
  metrics: ReadonlyMap<string, FieldRule>;
}

export interface MqttMap {
  builtins: {
    zigbee2mqtt: { baseTopic: string } | null;
    tasmota: { prefix: string } | null;
    shelly: boolean;
    esphome: { discoveryPrefix: string } | null;
  };
  topics: TopicRule[];
  /** by the device's own name or the sensor id the hub made of it */
  sensors: ReadonlyMap<string, SensorRule>;
  /** for every sensor, after its own rules */
  metrics: ReadonlyMap<string, FieldRule>;
  defaultRoom?: string;
}

/** Every built-in on, no topics of one's own, no renames: the bridge without --mqtt-map. */
export const DEFAULT_MAP: MqttMap = toMap({});

const check = new SchemaCheck(MapFileSchema, 'the mapping file');

export class MapFileError extends Error {}

/** Reads and checks `file`; throws MapFileError naming the file, the place in it and what to write. */
export function loadMapFile(file: string): MqttMap {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new MapFileError(`mqtt mapping file ${file} cannot be read (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new MapFileError(`mqtt mapping file ${file} is not JSON: ${(err as Error).message}`);
  }
  return parseMapFile(json, file);
}

export function parseMapFile(json: unknown, file = 'the mapping file'): MqttMap {
  const checked = check.check(json);
  if (!checked.ok) throw new MapFileError(`mqtt mapping file ${file}: ${checked.problem.message}`);
  const problems = nameProblems(checked.value);
  if (problems.length > 0) throw new MapFileError(`mqtt mapping file ${file}:\n  ${problems.join('\n  ')}`);
  return toMap(checked.value);
}

/** The rules TypeBox cannot say: the contract's name patterns, filters, and what a topic's sensor refers to. */
function nameProblems(f: MapFileJson): string[] {
  const out: string[] = [];
  const id = (where: string, v: string | undefined) => {
    if (v !== undefined && !SENSOR_ID_PATTERN.test(v)) out.push(`${where} "${v}" must be a sensor id: ^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$`);
  };
  const room = (where: string, v: string | undefined) => {
    if (v !== undefined && !ROOM_PATTERN.test(v)) out.push(`${where} "${v}" must be a room: ^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$`);
  };
  const metric = (where: string, v: string | undefined) => {
    if (v !== undefined && !METRIC_PATTERN.test(v)) out.push(`${where} "${v}" must be a metric: ^[a-z][a-z0-9_]{0,63}$ (lowercase)`);
  };
  const unit = (where: string, v: string | undefined) => {
    const p = v === undefined ? null : unitProblem(v);
    if (p !== null) out.push(`${where}: ${p}`);
  };
  const targets = (where: string, t: Record<string, Static<typeof FieldTarget>> | undefined) => {
    for (const [k, v] of Object.entries(t ?? {})) {
      if (typeof v === 'string') metric(`${where}["${k}"]`, v);
      else if (v !== false) {
        metric(`${where}["${k}"].metric`, v.metric);
        unit(`${where}["${k}"].unit`, v.unit);
      }
    }
  };
  room('default_room', f.default_room);
  targets('metrics', f.metrics);
  for (const [name, s] of Object.entries(f.sensors ?? {})) {
    id(`sensors["${name}"].id`, s.id);
    room(`sensors["${name}"].room`, s.room);
    targets(`sensors["${name}"].metrics`, s.metrics);
  }
  (f.topics ?? []).forEach((t, i) => {
    const at = `topics[${i}]`;
    const fp = filterProblem(t.filter);
    if (fp !== null) out.push(`${at}.filter "${t.filter}" ${fp}`);
    const pluses = plusCount(t.filter);
    for (const m of t.sensor.matchAll(/\{(\d+)\}/g)) {
      const n = Number(m[1]);
      if (n < 1 || n > pluses)
        out.push(`${at}.sensor "${t.sensor}": {${n}} stands for + level number ${n} of the filter, and "${t.filter}" has ${pluses}`);
    }
    if (!/\{\d+\}/.test(t.sensor)) id(`${at}.sensor`, t.sensor);
    room(`${at}.room`, t.room);
    metric(`${at}.metric`, t.metric);
    unit(`${at}.unit`, t.unit);
    targets(`${at}.fields`, t.fields);
    if ((t.payload ?? 'json') === 'number' && t.metric === undefined)
      out.push(`${at}: a "number" payload needs "metric", the name of its one value`);
    if ((t.payload ?? 'json') === 'number' && (t.fields !== undefined || t.ts_field !== undefined))
      out.push(`${at}: "fields" and "ts_field" are for "json" payloads; a "number" payload has one value`);
  });
  return out;
}

function toMap(f: MapFileJson): MqttMap {
  const b = f.builtins ?? {};
  const on = <T extends object>(v: boolean | T | undefined): T | null =>
    v === false ? null : v === true || v === undefined ? ({} as T) : v;
  const z = on(b.zigbee2mqtt);
  const t = on(b.tasmota);
  const e = on(b.esphome);
  const sensors = new Map<string, SensorRule>();
  for (const [name, s] of Object.entries(f.sensors ?? {}))
    sensors.set(name, {
      ...(s.id !== undefined && { id: s.id }),
      ...(s.room !== undefined && { room: s.room }),
      metrics: rules(s.metrics),
    });
  return {
    builtins: {
      zigbee2mqtt: z && { baseTopic: z.base_topic ?? 'zigbee2mqtt' },
      tasmota: t && { prefix: t.prefix ?? 'tele' },
      shelly: b.shelly !== false,
      esphome: e && { discoveryPrefix: e.discovery_prefix ?? 'homeassistant' },
    },
    topics: (f.topics ?? []).map((t) => ({
      filter: t.filter,
      sensor: t.sensor,
      payload: t.payload ?? 'json',
      ...(t.metric !== undefined && { metric: t.metric }),
      ...(t.unit !== undefined && { unit: t.unit }),
      ...(t.fields !== undefined && { fields: rules(t.fields) }),
      ...(t.ts_field !== undefined && { tsField: t.ts_field }),
      tsUnit: t.ts_unit ?? 'ms',
      ...(t.room !== undefined && { room: t.room }),
    })),
    sensors,
    metrics: rules(f.metrics),
    ...(f.default_room !== undefined && { defaultRoom: f.default_room }),
  };
}

function rules(t: Record<string, Static<typeof FieldTarget>> | undefined): Map<string, FieldRule> {
  const out = new Map<string, FieldRule>();
  for (const [k, v] of Object.entries(t ?? {})) {
    if (v === false) out.set(k, { drop: true });
    else if (typeof v === 'string') out.set(k, { drop: false, metric: v });
    else out.set(k, { drop: false, ...(v.metric !== undefined && { metric: v.metric }), ...(v.unit !== undefined && { unit: v.unit }) });
  }
  return out;
}
