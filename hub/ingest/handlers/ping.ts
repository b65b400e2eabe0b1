/** ping (PROTOCOL.md §1 "Sensor to hub"): answered at once with the hub's time, also before hello. */
import type { SensorMessage } from '../../../protocol/messages.ts';
import type { SensorSession } from '../sensor-session.ts';

export function handlePing(s: SensorSession, m: Extract<SensorMessage, { type: 'ping' }>, now: number): boolean {
  s.send(m.id !== undefined ? { type: 'pong', time: now, id: m.id } : { type: 'pong', time: now });
  return true;
}
