/** error from a sensor (PROTOCOL.md §1 "Sensor to hub"): a command it could not carry out, for the request waiting on it. */
import type { SensorMessage } from '../../../protocol/messages.ts';
import type { SensorSession } from '../sensor-session.ts';

export function handleSensorError(s: SensorSession, m: Extract<SensorMessage, { type: 'error' }>): boolean {
  if (s.sensorId) s.ctx.commands.onSensorError(s.sensorId, m);
  return true;
}
