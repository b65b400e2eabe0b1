/**
 * Home Assistant MQTT discovery (https://www.home-assistant.io/integrations/mqtt/#mqtt-discovery):
 * devices such as ESPHome publish, retained, one config per sensor on
 * `<prefix>/sensor/[<node>/]<object>/config`, for example (ESPHome, abbreviated keys)
 * `{"unit_of_meas":"°C","dev_cla":"temperature","stat_cla":"measurement","name":"Garage Temperature",
 *   "stat_t":"garagedoor1/sensor/garage_temperature/state","uniq_id":"ESPsensorgarage_temperature"}`.
 *
 * The index keeps, by state topic, what the hub needs to read that topic's values: the unit
 * (`unit_of_measurement`; `°C`/`°F` become the contract's `C`/`F`; else the usual unit of the
 * `device_class`), and the field to read when `value_template` is `{{ value_json.X }}`
 * (`X` may be a dotted path). Abbreviated keys and the `~` base topic are understood. An empty
 * config payload removes the entry, as in Home Assistant; when two configs name one state topic,
 * the later one's entry holds. Bounded: at most `maxEntries` configs (config topics); beyond, new
 * ones are not kept (and counted); topics longer than 1,024 characters are not kept.
 */
import { isFiniteNumber, jsonObject } from './mapping.ts';

export interface DiscoveredSensor {
  unit?: string;
  deviceClass?: string;
  /** the path inside a JSON state to the value (`value_json.a.b` → ['a', 'b']); absent: the payload is the value */
  valuePath?: string[];
}

/** by device_class: the unit Home Assistant expects when the config names none */
const CLASS_UNITS: ReadonlyMap<string, string> = new Map([
  ['temperature', 'C'],
  ['humidity', '%'],
  ['moisture', '%'],
  ['battery', '%'],
  ['pressure', 'hPa'],
  ['atmospheric_pressure', 'hPa'],
  ['illuminance', 'lx'],
  ['voltage', 'V'],
  ['current', 'A'],
  ['power', 'W'],
  ['energy', 'kWh'],
  ['frequency', 'Hz'],
  ['carbon_dioxide', 'ppm'],
  ['carbon_monoxide', 'ppm'],
  ['pm25', 'µg/m³'],
  ['pm10', 'µg/m³'],
  ['signal_strength', 'dBm'],
]);

const UNIT_SPELLINGS: ReadonlyMap<string, string> = new Map([
  ['°C', 'C'],
  ['°F', 'F'],
  ['ºC', 'C'],
  ['ºF', 'F'],
]);

const VALUE_TEMPLATE = /^\{\{\s*value_json((?:\.[A-Za-z_][A-Za-z0-9_]*)+)\s*\}\}$/;

/** A config or state topic longer than this is not kept: ESPHome's are a few dozen characters. */
export const MAX_DISCOVERY_TOPIC_CHARS = 1_024;

export class DiscoveryIndex {
  /** by state topic: what the last config naming it says, and that config's topic */
  private readonly byStateTopic = new Map<string, { sensor: DiscoveredSensor; configTopic: string }>();
  /**
   * by config topic: the state topic its config named, so an empty config can remove it. Bounded
   * with the other (every state topic is a config's): many configs may name one state topic.
   */
  private readonly stateTopicOf = new Map<string, string>();
  /** configs not kept because the index was full */
  dropped = 0;

  constructor(
    private readonly prefix = 'homeassistant',
    private readonly maxEntries = 10_000,
  ) {}

  /** The filters whose messages are configs. */
  get filters(): string[] {
    return [`${this.prefix}/sensor/+/config`, `${this.prefix}/sensor/+/+/config`];
  }

  isConfigTopic(topic: string): boolean {
    return topic.startsWith(`${this.prefix}/sensor/`) && topic.endsWith('/config');
  }

  get(stateTopic: string): DiscoveredSensor | undefined {
    return this.byStateTopic.get(stateTopic)?.sensor;
  }

  get size(): number {
    return this.byStateTopic.size;
  }

  /** Takes one config message; false when it is not a usable sensor config (nothing changes then). */
  accept(configTopic: string, payload: Buffer): boolean {
    const previous = this.stateTopicOf.get(configTopic);
    if (payload.length === 0) {
      if (previous !== undefined) this.forget(configTopic, previous);
      return true;
    }
    if (configTopic.length > MAX_DISCOVERY_TOPIC_CHARS) return false;
    const config = jsonObject(payload);
    if (config === null) return false;
    const parsed = parseConfig(config);
    if (parsed === null || parsed.stateTopic.length > MAX_DISCOVERY_TOPIC_CHARS) return false;
    if (previous === undefined && this.stateTopicOf.size >= this.maxEntries) {
      this.dropped++;
      return false;
    }
    if (previous !== undefined && previous !== parsed.stateTopic) this.forget(configTopic, previous);
    this.byStateTopic.set(parsed.stateTopic, { sensor: parsed.sensor, configTopic });
    this.stateTopicOf.set(configTopic, parsed.stateTopic);
    return true;
  }

  /** The config at `configTopic` no longer names `stateTopic`; the entry goes unless a later config of another topic made it. */
  private forget(configTopic: string, stateTopic: string): void {
    this.stateTopicOf.delete(configTopic);
    if (this.byStateTopic.get(stateTopic)?.configTopic === configTopic) this.byStateTopic.delete(stateTopic);
  }
}

function parseConfig(config: Record<string, unknown>): { stateTopic: string; sensor: DiscoveredSensor } | null {
  const field = (long: string, short: string): unknown => (Object.hasOwn(config, long) ? config[long] : config[short]);
  const base = typeof config['~'] === 'string' ? config['~'] : null;
  let stateTopic = field('state_topic', 'stat_t');
  if (typeof stateTopic !== 'string' || stateTopic.length === 0) return null;
  // Home Assistant expands `~` at the start or the end of a topic into the base topic.
  if (base !== null) stateTopic = stateTopic.replace(/^~/, base).replace(/~$/, base);
  const sensor: DiscoveredSensor = {};
  const deviceClass = field('device_class', 'dev_cla');
  if (typeof deviceClass === 'string') sensor.deviceClass = deviceClass;
  const unit = field('unit_of_measurement', 'unit_of_meas');
  if (typeof unit === 'string') sensor.unit = UNIT_SPELLINGS.get(unit) ?? unit;
  else if (sensor.deviceClass !== undefined && CLASS_UNITS.has(sensor.deviceClass)) sensor.unit = CLASS_UNITS.get(sensor.deviceClass)!;
  const template = field('value_template', 'val_tpl');
  const m = typeof template === 'string' ? VALUE_TEMPLATE.exec(template.trim()) : null;
  if (m) sensor.valuePath = m[1]!.slice(1).split('.');
  return { stateTopic: stateTopic as string, sensor };
}

/** The value a state payload holds for `sensor`: the plain number, or the field its template names. */
export function discoveredValue(payload: Buffer, sensor: DiscoveredSensor | undefined): number | null {
  if (sensor?.valuePath === undefined) return plainNumber(payload);
  let v: unknown = jsonObject(payload);
  for (const key of sensor.valuePath) {
    if (typeof v !== 'object' || v === null || !Object.hasOwn(v, key)) return null;
    v = (v as Record<string, unknown>)[key];
  }
  return isFiniteNumber(v) ? v : null;
}

/** a plain number's payload, white space included, is at most this long: no device sends more */
export const MAX_NUMBER_PAYLOAD_BYTES = 64;

/**
 * Digits, one optional fraction, one optional exponent. Each digit can belong to one part only:
 * a pattern where it could belong to two (`\d+\.?\d*`) backtracks over every split, quadratic in
 * the payload's length (a 40 kB payload of digits took 13 s).
 */
const PLAIN_NUMBER = /^[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?$/;

/** `22.5`, ` 22.5\n`: a number and nothing else (`nan`, `22.5 C`, `` and anything longer than 64 bytes are not). */
export function plainNumber(payload: Buffer): number | null {
  if (payload.length > MAX_NUMBER_PAYLOAD_BYTES) return null;
  const text = payload.toString('utf8').trim();
  if (!PLAIN_NUMBER.test(text)) return null;
  const n = Number(text);
  return Number.isFinite(n) ? n : null;
}
