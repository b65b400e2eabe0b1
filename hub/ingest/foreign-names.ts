/**
 * Names from other systems (MQTT devices' topics and fields, InfluxDB measurements and fields,
 * Prometheus metric names and labels) made valid by the contract's patterns (protocol/names.ts),
 * by one rule for every way in, the same way every time, so a device keeps one sensor id and
 * its fields keep one metric each (docs/INTEGRATIONS.md "Names"):
 *
 * - sensor id: every character outside `A-Z a-z 0-9 . _ : -` (a space, `/`, `ä`) becomes `_`;
 *   leading characters that are not a letter or digit are dropped;
 * - metric: a lowercase letter followed by an uppercase one gets `_` between them (`DewPoint` →
 *   `dew_point`, `DS18B20` stays `ds18b20`), then lowercase;
 *   anything outside `a-z 0-9 _` becomes `_`, runs of `_` become one, `_` at either end goes;
 *   a metric that would start with a digit gets `m_` in front;
 * - either longer than 64 characters keeps its first 55, then `-` (sensor) or `_` (metric) and 8
 *   hex digits of a hash of the whole name: two long names that share a beginning stay apart.
 *
 * A name with nothing left (empty, or only punctuation) cannot be made valid: null, and the
 * caller refuses it (the MQTT bridge with the reason `invalid_name`; metricName leaves it as it
 * is, for the contract's check to refuse with its reason).
 */
import { isMetric, SENSOR_ID_PATTERN } from '../../protocol/names.ts';

const MAX_CHARS = 64;
const KEPT_WHEN_LONG = 55;

/** by raw name: names repeat on every message, so each is worked out once (bounded) */
const sensorCache = new Map<string, string | null>();
const metricCache = new Map<string, string | null>();
const MAX_CACHED = 50_000;
/**
 * Longer raw names are worked out each time, not kept: a publisher's field or friendly name can
 * be as long as a packet (256 KiB), and 50,000 of those would be gigabytes held for good.
 */
const MAX_CACHED_RAW_CHARS = 256;

/** For tests: the raw names held and their characters, over both caches. */
export function nameCacheSize(): { entries: number; chars: number } {
  let chars = 0;
  for (const k of sensorCache.keys()) chars += k.length;
  for (const k of metricCache.keys()) chars += k.length;
  return { entries: sensorCache.size + metricCache.size, chars };
}

export function toSensorId(raw: string): string | null {
  if (SENSOR_ID_PATTERN.test(raw)) return raw;
  return cached(sensorCache, raw, () => {
    const cleaned = raw.replace(/[^A-Za-z0-9._:-]/g, '_').replace(/^[^A-Za-z0-9]+/, '');
    if (cleaned.length === 0) return null;
    return fit(cleaned, raw, '-');
  });
}

export function toMetric(raw: string): string | null {
  // isMetric keeps the valid names it has seen: a field's name repeats on every message.
  const valid: boolean = isMetric(raw);
  if (valid) return raw;
  return cached(metricCache, raw, () => {
    let m = raw
      .replace(/([a-z])([A-Z])/g, '$1_$2')
      .toLowerCase()
      .replace(/[^a-z0-9_]+/g, '_')
      .replace(/_+/g, '_')
      .replace(/^_|_$/g, '');
    if (m.length === 0) return null;
    if (!/^[a-z]/.test(m)) m = `m_${m}`;
    return fit(m, raw, '_');
  });
}

/** A metric name by the rule above; a name with nothing valid in it is left as it is (and refused later by the contract's check). */
export function metricName(raw: string): string {
  return toMetric(raw) ?? raw;
}

function fit(name: string, raw: string, joiner: string): string {
  if (name.length <= MAX_CHARS) return name;
  return `${name.slice(0, KEPT_WHEN_LONG)}${joiner}${fnv1a(raw)}`;
}

/** FNV-1a, 32 bits, as 8 hex digits: short, stable across versions and machines. */
function fnv1a(s: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h.toString(16).padStart(8, '0');
}

function cached(cache: Map<string, string | null>, raw: string, make: () => string | null): string | null {
  const hit = cache.get(raw);
  if (hit !== undefined) return hit;
  const made = make();
  if (cache.size < MAX_CACHED && raw.length <= MAX_CACHED_RAW_CHARS) cache.set(raw, made);
  return made;
}
