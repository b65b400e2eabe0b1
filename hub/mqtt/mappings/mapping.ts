/**
 * What a built-in mapping (one file each beside this one) or a topic of the mapping file makes
 * of one MQTT message: the device's own names and units, before hub/mqtt/message-mapper.ts makes
 * the names valid and applies the mapping file's renames and rooms. Mappings are pure: a topic
 * and a payload in, readings out, so each is tested against the payloads its project documents.
 */

/** One value as the device names it. */
export interface DeviceReading {
  /** the device's own field name (`temperature`, `Temperature`, `tC` mapped to `temperature`) */
  metric: string;
  value: number;
  /** absent: the hub's default for the metric (the well-known unit, else empty) */
  unit?: string;
}

/** The readings of one message: one device, one moment. */
export interface DeviceMessage {
  /** the device's own name (a friendly name, a Tasmota topic, a Shelly id, an ESPHome node) */
  sensor: string;
  /** the device's own time of the values, ms; absent: the hub stamps the time it received them */
  ts?: number;
  /** the room a mapping-file topic puts its sensors in */
  room?: string;
  readings: DeviceReading[];
}

/**
 * Why a message was refused: a short fixed vocabulary, used as the `reason` label in /metrics
 * (never the device's text, so the label set stays small).
 */
export type MqttRefusal =
  /** not the JSON (or number) its topic carries, or not the shape its project documents */
  | 'malformed'
  /** a value that is not a finite number where a number belongs (ESPHome's `nan`) */
  | 'not_numeric'
  /** a sensor or metric name with nothing valid left in it (see hub/ingest/foreign-names.ts) */
  | 'invalid_name'
  /** more readings than a sensor batch may hold (PROTOCOL.md: 10,000) */
  | 'too_many_readings';

export type MapOutcome =
  | { kind: 'readings'; message: DeviceMessage }
  /** a topic of this mapping that carries no readings: a command, availability, a state without numbers */
  | { kind: 'ignored' }
  | { kind: 'refused'; reason: MqttRefusal; detail: string };

export interface TopicMapping {
  /** for logs and docs: `zigbee2mqtt`, `tasmota`, `shelly`, `esphome`, `map file topic 2` */
  readonly name: string;
  /** the MQTT topic filters this mapping needs subscribed */
  readonly filters: readonly string[];
  /** What the message means, or null when the topic is not this mapping's. */
  map(topic: string, payload: Buffer): MapOutcome | null;
}

export const IGNORED: MapOutcome = { kind: 'ignored' };

export function refused(reason: MqttRefusal, detail: string): MapOutcome {
  return { kind: 'refused', reason, detail };
}

export function readingsOf(message: DeviceMessage): MapOutcome {
  return message.readings.length === 0 ? IGNORED : { kind: 'readings', message };
}

/** The payload as a JSON object, or null (not JSON, or JSON but not an object). */
export function jsonObject(payload: Buffer): Record<string, unknown> | null {
  let value: unknown;
  try {
    value = JSON.parse(payload.toString('utf8'));
  } catch {
    return null;
  }
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
}

export function isFiniteNumber(v: unknown): v is number {
  return typeof v === 'number' && Number.isFinite(v);
}

/** What a payload shows in a log line: short, and never more than 80 characters of it. */
export function clip(payload: Buffer | string): string {
  const text = typeof payload === 'string' ? payload : payload.toString('utf8', 0, Math.min(payload.length, 100));
  return JSON.stringify(text.length > 80 ? `${text.slice(0, 77)}...` : text);
}
