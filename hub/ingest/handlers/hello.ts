/**
 * hello (PROTOCOL.md §1 "Session rules"): the store must be able to take readings, and the token
 * must allow this sensor in this room; then the connection speaks for the sensor, replacing
 * an older one, and is welcomed. Every hello is in the activity log, admitted or not.
 */
import { ErrorCode } from '../../../protocol/codes.ts';
import type { SensorMessage } from '../../../protocol/messages.ts';
import { DEFAULT_ROOM, PROTOCOL_VERSION, defaultUnit } from '../../../protocol/names.ts';
import type { SensorSession } from '../sensor-session.ts';

const NOTHING_DECLARED: ReadonlyMap<string, string> = new Map();

export function handleHello(s: SensorSession, m: Extract<SensorMessage, { type: 'hello' }>, now: number): boolean {
  if (!s.isGreeting) return s.reject({ code: ErrorCode.BadMessage, message: 'hello was already received on this connection' }, now);
  const ctx = s.ctx;
  const storeProblem = ctx.storeUnavailable();
  if (storeProblem !== null) {
    // Nothing could be stored or acknowledged: the sensor keeps its readings and comes back later.
    s.closeWithError(ErrorCode.ShuttingDown, `the store is unavailable (${storeProblem}); reconnect later`);
    return false;
  }
  const room = m.room ?? DEFAULT_ROOM;
  const verdict = ctx.checkHello(m.token, m.sensor, room);
  // A sensor the hub does not know is one more kept for good: not past the hub's limit (growth-limits.ts).
  const full = verdict.ok && !ctx.registry.records.has(m.sensor) ? ctx.growth.newSensorRefusal(m.sensor, ctx.registry.records.size) : null;
  if (full !== null) {
    ctx.recordActivity({
      actor: m.sensor,
      address: s.address,
      action: 'sensor.connect',
      target: room,
      outcome: 'denied',
      code: 429,
      detail: full,
    });
    ctx.growth.refused('tcp', 'sensor_limit', full);
    s.deny(ErrorCode.TooManyErrors, full);
    return false;
  }
  ctx.recordActivity({
    actor: m.sensor,
    address: s.address,
    action: 'sensor.connect',
    target: room,
    outcome: verdict.ok ? 'ok' : 'denied',
    code: verdict.ok ? 200 : verdict.code,
    detail: verdict.ok ? (verdict.tokenId ? `token ${verdict.tokenId}` : 'no token needed') : verdict.message,
  });
  if (!verdict.ok) {
    s.deny(verdict.code, verdict.message);
    return false;
  }
  // A sensor that declares nothing shares one empty map: an empty Map of its own costs ~170 bytes.
  const declaredUnits = m.metrics?.length ? new Map(m.metrics.map((d) => [d.metric, d.unit ?? defaultUnit(d.metric)])) : NOTHING_DECLARED;
  s.admit({ sensor: m.sensor, room, tokenId: verdict.tokenId, declaredUnits }, now);
  s.send({ type: 'welcome', v: PROTOCOL_VERSION, sensor: m.sensor, time: now });
  return true;
}
