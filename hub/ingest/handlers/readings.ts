/**
 * reading and batch (PROTOCOL.md §1 "Sensor to hub", "Session rules"): in seq order, every reading into the group
 * commit; the ack comes once the commit that holds them returns. The per-reading path.
 */
import { ErrorCode } from '../../../protocol/codes.ts';
import type { ReadingInput, SensorMessage } from '../../../protocol/messages.ts';
import type { SensorSession } from '../sensor-session.ts';

export function handleReading(s: SensorSession, m: Extract<SensorMessage, { type: 'reading' }>, now: number): boolean {
  if (!s.takeSeq(m.seq, now)) return !s.isClosed;
  if (s.series.mayGrowPastLimit(1)) return refuseNewSeries(s, [m], m.seq, false, now);
  s.series.add(m, now);
  s.endMessage(m.seq);
  return true;
}

export function handleBatch(s: SensorSession, m: Extract<SensorMessage, { type: 'batch' }>, now: number): boolean {
  if (!s.takeSeq(m.seq, now)) return !s.isClosed;
  const series = s.series;
  if (series.mayGrowPastLimit(m.readings.length)) return refuseNewSeries(s, m.readings, m.seq, true, now);
  for (const r of m.readings) series.add(r, now);
  s.endMessage(m.seq);
  return true;
}

/**
 * Near the hub's series limit (growth-limits.ts): a message with a reading that would make one
 * series too many is answered 422 (with its index in a batch) and stored not at all, as a batch
 * with an invalid reading; the others are stored. Returns whether to keep reading.
 */
export function refuseNewSeries(
  s: SensorSession,
  readings: readonly ReadingInput[],
  seq: number | undefined,
  indexed: boolean,
  now: number,
): boolean {
  const over = s.series.pastLimit(readings);
  if (over === null) {
    for (const r of readings) s.series.add(r, now);
    s.endMessage(seq);
    return true;
  }
  s.ctx.growth.refused('tcp', 'series_limit', over.message, 1);
  if (seq !== undefined) s.noteSeq(seq);
  return s.reject(
    {
      code: ErrorCode.InvalidValue,
      message: over.message,
      ...(indexed ? { index: over.index } : {}),
      ...(seq !== undefined ? { seq } : {}),
    },
    now,
  );
}
