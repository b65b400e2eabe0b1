/**
 * ESPHome with its MQTT component: `<node>/sensor/<object id>/state` carries one value as plain
 * text (`22.5`), the node's topic prefix being its name unless set otherwise
 * (https://esphome.io/components/mqtt.html). The node is the sensor, the object id the metric.
 *
 * The unit comes from the Home Assistant discovery config the node publishes for that state
 * topic (hub/mqtt/mappings/ha-discovery.ts) when there is one; without it, the hub's default
 * for the metric. A config whose `value_template` is `{{ value_json.X }}` makes the state a
 * JSON object whose field X is the value. `nan` (a sensor that failed to read) is refused as
 * `not_numeric`.
 */
import { discoveredValue, type DiscoveryIndex } from './ha-discovery.ts';
import { clip, readingsOf, refused, type MapOutcome, type TopicMapping } from './mapping.ts';

export function esphomeMapping(discovery: DiscoveryIndex): TopicMapping {
  return {
    name: 'esphome',
    filters: ['+/sensor/+/state'],
    map(topic, payload) {
      const levels = topic.split('/');
      if (levels.length !== 4 || levels[1] !== 'sensor' || levels[3] !== 'state') return null;
      return mapEsphome(levels[0]!, levels[2]!, topic, payload, discovery);
    },
  };
}

export function mapEsphome(node: string, object: string, topic: string, payload: Buffer, discovery: DiscoveryIndex): MapOutcome {
  const found = discovery.get(topic);
  const value = discoveredValue(payload, found);
  if (value === null) return refused('not_numeric', `${topic} must carry a number, got ${clip(payload)}`);
  const reading = found?.unit === undefined ? { metric: object, value } : { metric: object, value, unit: found.unit };
  return readingsOf({ sensor: node, readings: [reading] });
}
