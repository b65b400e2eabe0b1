/**
 * History as the simulator would have reported it (sensors/models.ts: a room's temperature,
 * humidity and CPU load on a daily cycle with drift and noise), for a past span, as CSV an
 * upload takes (`ts,sensor,room,metric,value,unit`, ts in ms). Deterministic from the seed. The
 * dashboard's bench fills a room with it; the dashboard's tests give their screenshots a past.
 */
import { createRoomModel } from '../../sensors/models.ts';
import { deriveSeed, seededRandom } from '../../sensors/random.ts';

export interface HistorySpec {
  /** sensor ids and their room */
  sensors: readonly { sensor: string; room: string }[];
  fromMs: number;
  toMs: number;
  intervalMs: number;
  seed?: number;
}

export const HISTORY_HEADER = 'ts,sensor,room,metric,value,unit\n';

/**
 * The CSV in chunks of about `chunkRows` rows (header first, then rows in ts order), so a week
 * of a room (36M rows) is never one string.
 */
export function* historyCsvChunks(spec: HistorySpec, chunkRows = 100_000): Generator<string> {
  let clock = spec.fromMs;
  const models = spec.sensors.map(({ sensor, room }) => ({
    sensor,
    room,
    model: createRoomModel({ room, random: seededRandom(deriveSeed(spec.seed ?? 1, sensor, 'history')), now: () => clock }),
  }));
  yield HISTORY_HEADER;
  let out: string[] = [];
  for (let t = spec.fromMs; t < spec.toMs; t += spec.intervalMs) {
    clock = t;
    for (const { sensor, room, model } of models) {
      for (const r of model.read()) out.push(`${t},${sensor},${room},${r.metric},${r.value},${r.unit ?? ''}\n`);
    }
    if (out.length >= chunkRows) {
      yield out.join('');
      out = [];
    }
  }
  if (out.length > 0) yield out.join('');
}

/** The whole CSV as one string: for small spans (tests). */
export function historyCsv(spec: HistorySpec): string {
  return [...historyCsvChunks(spec)].join('');
}
