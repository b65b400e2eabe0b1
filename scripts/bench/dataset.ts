/**
 * The standard benchmark dataset: S sensors x 3 metrics x T seconds of 1 Hz data, every
 * reading with ts, values rounded like real sensors. Deterministic (seeded).
 */
import { seededRandom } from '../../sensors/random.ts';

export const METRICS = [
  { metric: 'temperature', unit: 'C', base: 22, swing: 3, decimals: 2 },
  { metric: 'humidity', unit: '%', base: 45, swing: 8, decimals: 1 },
  { metric: 'cpu_load', unit: '%', base: 30, swing: 25, decimals: 1 },
] as const;

export interface Dataset {
  sensors: number;
  seconds: number;
  startTs: number;
}

export function sensorId(i: number): string {
  return `bench-${String(i).padStart(4, '0')}`;
}

/** Calls `emit` for each reading of sensor `s`, in time order. */
export function forEachReading(d: Dataset, s: number, emit: (metric: string, value: number, ts: number) => void): void {
  const rand = seededRandom(1000 + s);
  for (let sec = 0; sec < d.seconds; sec++) {
    const ts = d.startTs + sec * 1000 + (s % 1000);
    for (const m of METRICS) {
      const raw = m.base + m.swing * Math.sin((sec + s * 7) / 300) + (rand() - 0.5);
      const f = 10 ** m.decimals;
      emit(m.metric, Math.round(raw * f) / f, ts);
    }
  }
}
