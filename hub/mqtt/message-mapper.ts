/**
 * From an MQTT message to the readings the hub stores: the first mapping that knows the topic
 * (the mapping file's own topics first, then Zigbee2MQTT, Tasmota, Shelly, ESPHome) reads the
 * payload; then the mapping file renames the sensor and its metrics and gives the room, and
 * names that break the contract's patterns are made valid (hub/ingest/foreign-names.ts).
 * Pure but for the discovery index, which the bridge feeds.
 */
import { MAX_BATCH_READINGS } from '../../protocol/names.ts';
import type { ExternalReading } from '../ingest/batch-ingest.ts';
import type { FieldRule, MqttMap } from './map-file.ts';
import { customTopicMapping } from './mappings/custom-topic.ts';
import { esphomeMapping } from './mappings/esphome.ts';
import { DiscoveryIndex } from './mappings/ha-discovery.ts';
import type { DeviceMessage, MqttRefusal, TopicMapping } from './mappings/mapping.ts';
import { shellyMapping } from './mappings/shelly.ts';
import { tasmotaMapping } from './mappings/tasmota.ts';
import { zigbee2mqttMapping } from './mappings/zigbee2mqtt.ts';
import { toMetric, toSensorId } from '../ingest/foreign-names.ts';

export type Routed =
  | {
      kind: 'readings';
      mapping: string;
      readings: ExternalReading[];
      /** fields left out because no valid metric name could be made of them */
      badNames: readonly string[];
    }
  /** a topic of a mapping that carries no readings, or whose readings the mapping file leaves out */
  | { kind: 'ignored'; mapping: string }
  /** no mapping knows the topic (a subscription left from an earlier mapping file, say) */
  | { kind: 'unmapped' }
  | { kind: 'refused'; mapping: string; reason: MqttRefusal; detail: string };

export class MessageMapper {
  readonly discovery: DiscoveryIndex | null;
  /** in the order they are asked */
  readonly mappings: readonly TopicMapping[];

  constructor(private readonly map: MqttMap) {
    const b = map.builtins;
    this.discovery = b.esphome ? new DiscoveryIndex(b.esphome.discoveryPrefix) : null;
    const all: TopicMapping[] = map.topics.map((t, i) => customTopicMapping(t, i));
    if (b.zigbee2mqtt) all.push(zigbee2mqttMapping(b.zigbee2mqtt));
    if (b.tasmota) all.push(tasmotaMapping(b.tasmota));
    if (b.shelly) all.push(shellyMapping());
    if (this.discovery) all.push(esphomeMapping(this.discovery));
    this.mappings = all;
  }

  /** The filters whose messages carry readings, each once. */
  get filters(): string[] {
    return [...new Set(this.mappings.flatMap((m) => m.filters))];
  }

  route(topic: string, payload: Buffer): Routed {
    for (const m of this.mappings) {
      const outcome = m.map(topic, payload);
      if (outcome === null) continue;
      if (outcome.kind === 'ignored') return { kind: 'ignored', mapping: m.name };
      if (outcome.kind === 'refused') return { ...outcome, mapping: m.name };
      return this.finish(m.name, outcome.message);
    }
    return { kind: 'unmapped' };
  }

  /** The mapping file's renames and rooms, and valid names. */
  private finish(mapping: string, msg: DeviceMessage): Routed {
    const fixed = toSensorId(msg.sensor);
    const rule = this.map.sensors.get(msg.sensor) ?? (fixed === null ? undefined : this.map.sensors.get(fixed));
    const sensor = rule?.id ?? fixed;
    if (sensor === null)
      return {
        kind: 'refused',
        mapping,
        reason: 'invalid_name',
        detail: `no valid sensor id can be made of ${JSON.stringify(msg.sensor)}`,
      };
    if (msg.readings.length > MAX_BATCH_READINGS)
      return {
        kind: 'refused',
        mapping,
        reason: 'too_many_readings',
        detail: `${sensor}: ${msg.readings.length} readings in one message, more than ${MAX_BATCH_READINGS}`,
      };
    const room = rule?.room ?? msg.room ?? this.map.defaultRoom;
    const readings: ExternalReading[] = [];
    let badNames: string[] | null = null;
    // The hot path (every message): no closure, nothing allocated but the readings.
    const own = rule !== undefined && rule.metrics.size > 0 ? rule.metrics : undefined;
    const all = this.map.metrics.size > 0 ? this.map.metrics : undefined;
    for (const r of msg.readings) {
      const made = toMetric(r.metric);
      const field = own || all ? (fieldRule(own, r.metric, made) ?? fieldRule(all, r.metric, made)) : undefined;
      if (field?.drop) continue;
      const metric = field?.metric ?? made;
      if (metric === null) {
        (badNames ??= []).push(r.metric);
        continue;
      }
      // Every reading with the same six fields (some undefined): one shape for the hot path downstream.
      readings.push({ sensor, room, metric, value: r.value, unit: field?.unit ?? r.unit, ts: msg.ts });
    }
    if (readings.length === 0 && badNames === null) return { kind: 'ignored', mapping };
    return { kind: 'readings', mapping, readings, badNames: badNames ?? NONE };
  }
}

const NONE: readonly string[] = [];

/** The rule for a device's field, by its own name or by the metric made of it. */
function fieldRule(rules: ReadonlyMap<string, FieldRule> | undefined, raw: string, made: string | null): FieldRule | undefined {
  if (rules === undefined) return undefined;
  return rules.get(raw) ?? (made === null ? undefined : rules.get(made));
}
