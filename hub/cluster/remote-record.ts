/**
 * A registry record for a sensor this hub knows only from other hubs (their bundles, the
 * owners bucket). Made directly in the registry's map, not through connect() or seenInData():
 * those mark the row for writing, and the hub that holds the sensor has it written already.
 */
import { declaredTable, type SensorRecord, type SensorRegistry } from '../sensors/sensor-registry.ts';

export function remoteRecord(registry: SensorRegistry, sensor: string, room: string, firstSeen = 0): SensorRecord {
  const known = registry.records.get(sensor);
  if (known) return known;
  const rec: SensorRecord = {
    sensor,
    room,
    firstSeen,
    lastSeen: firstSeen,
    address: null,
    declaredMetrics: declaredTable(new Map()),
    metrics: [],
    connected: false,
    connectionId: 0,
    persistedSeen: firstSeen,
    source: null,
  };
  registry.records.set(sensor, rec);
  return rec;
}
