/**
 * A topic of the mapping file's own (`topics` in hub/mqtt/map-file.ts): its filter, which of
 * the filter's `+` levels make the sensor id (`"sensor": "soil-{1}"`), and a payload that is a
 * JSON object (every numeric field a metric, or only those `fields` lists) or one number.
 */
import type { TopicRule } from '../map-file.ts';
import { matchFilter } from '../topic-filter.ts';
import { epochMs, epochSeconds, isoTime } from './device-time.ts';
import { plainNumber } from './ha-discovery.ts';
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

export function customTopicMapping(rule: TopicRule, index: number): TopicMapping {
  const levels = rule.filter.split('/');
  return {
    name: `topics[${index}]`,
    filters: [rule.filter],
    map(topic, payload) {
      const captured = matchFilter(levels, topic);
      if (captured === null) return null;
      return mapCustom(rule, captured, topic, payload);
    },
  };
}

export function mapCustom(rule: TopicRule, captured: readonly string[], topic: string, payload: Buffer): MapOutcome {
  const sensor = rule.sensor.replace(/\{(\d+)\}/g, (_, n: string) => captured[Number(n) - 1] ?? '');
  const room = rule.room === undefined ? {} : { room: rule.room };
  if (rule.payload === 'number') {
    const value = plainNumber(payload);
    if (value === null) return refused('not_numeric', `${topic} must carry a number, got ${clip(payload)}`);
    return readingsOf({
      sensor,
      ...room,
      readings: [{ metric: rule.metric!, value, ...(rule.unit !== undefined && { unit: rule.unit }) }],
    });
  }
  const msg = jsonObject(payload);
  if (msg === null) return refused('malformed', `${topic} must carry a JSON object, got ${clip(payload)}`);
  const readings: DeviceReading[] = [];
  for (const [field, value] of Object.entries(msg)) {
    if (field === rule.tsField || !isFiniteNumber(value)) continue;
    const r = rule.fields?.get(field);
    if (rule.fields !== undefined && r === undefined) continue;
    if (r?.drop) continue;
    const unit = r?.unit ?? rule.unit;
    readings.push({ metric: r?.metric ?? field, value, ...(unit !== undefined && { unit }) });
  }
  const raw = rule.tsField !== undefined && Object.hasOwn(msg, rule.tsField) ? msg[rule.tsField] : undefined;
  const ts = typeof raw === 'string' ? isoTime(raw) : rule.tsUnit === 's' ? epochSeconds(raw) : epochMs(raw);
  return readingsOf({ sensor, ...room, ...(ts !== undefined && { ts }), readings });
}
