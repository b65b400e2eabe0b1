/**
 * Names from other systems made into the contract's metric names (`^[a-z][a-z0-9_]{0,63}$`,
 * PROTOCOL.md §1), one documented rule for every input (docs/INTEGRATIONS.md "Names"):
 *
 * 1. upper-case ASCII letters become lower-case;
 * 2. every other character outside `a-z`, `0-9` and `_` becomes `_`;
 * 3. a name that does not then start with a letter gets the prefix `m_`;
 * 4. the name is cut to 64 characters.
 *
 * So `node_cpu_seconds_total` stays, `sensor.living_room` is `sensor_living_room`, `CPU-Load`
 * is `cpu_load`, `°C` is `m__c`, and `2xx` is `m_2xx`. Two names can become one (`a.b`, `a_b`):
 * their readings then share the metric. An empty name stays empty, and is refused later.
 */
import { isMetric } from '../../protocol/names.ts';

const MAX_METRIC_CHARS = 64;

export function metricName(raw: string): string {
  // Most names already are metric names (the set in isMetric remembers them): nothing to do.
  if (raw.length === 0 || alreadyMetric(raw)) return raw;
  let name = raw.replace(/[A-Z]/g, (c) => c.toLowerCase()).replace(/[^a-z0-9_]/g, '_');
  if (!/^[a-z]/.test(name)) name = `m_${name}`;
  return name.slice(0, MAX_METRIC_CHARS);
}

/** isMetric without its type guard: on a string, its false branch would leave `never`. */
function alreadyMetric(name: string): boolean {
  return isMetric(name);
}
