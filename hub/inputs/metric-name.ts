/**
 * Names from other systems (InfluxDB measurements and fields, Prometheus metric names and
 * labels) made into the contract's metric names (`^[a-z][a-z0-9_]{0,63}$`, PROTOCOL.md §1) by
 * the one rule every input uses, the MQTT bridge's (hub/mqtt/mqtt-names.ts, docs/INTEGRATIONS.md
 * "Names"): `DewPoint` → `dew_point`, `Disk.IO` → `disk_io`, `°C` → `c`, `2xx` → `m_2xx`, and a
 * name over 64 characters keeps 55 and a hash of the whole. A name with nothing valid in it is
 * left as it is, and refused with the contract's reason.
 */
import { toMetric } from '../mqtt/mqtt-names.ts';

export function metricName(raw: string): string {
  return toMetric(raw) ?? raw;
}
