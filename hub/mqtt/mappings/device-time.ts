/**
 * A device's own timestamp, in the forms the built-in projects send it, as integer ms. Nothing
 * here judges whether the time is plausible: the contract's ts rule (PROTOCOL.md §1) is applied
 * where every reading is checked, and a reading outside it is refused and counted there.
 */

/** ISO 8601. Without a zone (`2019-01-01T00:00:00`, Tasmota's default) it is the hub's local time, as JavaScript reads it. */
export function isoTime(s: unknown): number | undefined {
  if (typeof s !== 'string' || !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/.test(s)) return undefined;
  const ms = Date.parse(s);
  return Number.isFinite(ms) ? Math.round(ms) : undefined;
}

/** Seconds since the epoch, fractions allowed (Shelly's `params.ts`). */
export function epochSeconds(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? Math.round(v * 1000) : undefined;
}

/** Milliseconds since the epoch (Zigbee2MQTT's `last_seen: epoch`). */
export function epochMs(v: unknown): number | undefined {
  return typeof v === 'number' && Number.isFinite(v) ? Math.round(v) : undefined;
}
