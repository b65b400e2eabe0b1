/**
 * report (PROTOCOL.md §1 "Sensor to hub"): the answer to a report-now command this hub sent. Its
 * readings are stored like a batch's and handed, as stored, to the command's waiting request.
 */
import { ErrorCode } from '../../../protocol/codes.ts';
import type { SensorMessage } from '../../../protocol/messages.ts';
import type { SensorSession, StoredReading } from '../sensor-session.ts';

export function handleReport(s: SensorSession, m: Extract<SensorMessage, { type: 'report' }>, now: number): boolean {
  const commands = s.ctx.commands;
  if (!commands.isKnown(m.id)) {
    if (m.seq !== undefined) s.noteSeq(m.seq);
    return s.reject(
      {
        code: ErrorCode.UnknownCommand,
        message: `no command with id "${m.id}" was sent`,
        id: m.id,
        ...(m.seq !== undefined ? { seq: m.seq } : {}),
      },
      now,
    );
  }
  if (!s.takeSeq(m.seq, now)) return !s.isClosed;
  const series = s.series;
  const over = series.mayGrowPastLimit(m.readings.length) ? series.pastLimit(m.readings) : null;
  if (over !== null) {
    s.ctx.growth.refused('tcp', 'series_limit', over.message);
    if (m.seq !== undefined) s.noteSeq(m.seq);
    return s.reject(
      { code: ErrorCode.InvalidValue, message: over.message, index: over.index, id: m.id, ...(m.seq !== undefined ? { seq: m.seq } : {}) },
      now,
    );
  }
  const stored: StoredReading[] = [];
  for (const r of m.readings) stored.push({ metric: r.metric, value: r.value, unit: series.add(r, now), ts: r.ts ?? now });
  commands.onReport(m.id, s.sensorId!, s.currentRoom, stored);
  s.endMessage(m.seq);
  return true;
}
