/**
 * reading and batch (PROTOCOL.md §1 "Sensor to hub", "Session rules"): in seq order, every reading into the group
 * commit; the ack comes once the commit that holds them returns. The per-reading path.
 */
import type { SensorMessage } from '../../../protocol/messages.ts';
import type { SensorSession } from '../sensor-session.ts';

export function handleReading(s: SensorSession, m: Extract<SensorMessage, { type: 'reading' }>, now: number): boolean {
  if (!s.takeSeq(m.seq, now)) return !s.isClosed;
  s.series.add(m, now);
  s.endMessage(m.seq);
  return true;
}

export function handleBatch(s: SensorSession, m: Extract<SensorMessage, { type: 'batch' }>, now: number): boolean {
  if (!s.takeSeq(m.seq, now)) return !s.isClosed;
  const series = s.series;
  for (const r of m.readings) series.add(r, now);
  s.endMessage(m.seq);
  return true;
}
