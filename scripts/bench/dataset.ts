/**
 * The standard benchmark dataset: S sensors x 3 metrics x T seconds of 1 Hz data, every
 * reading with ts, values rounded like real sensors. Deterministic (seeded).
 */
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

/** A small fast PRNG (mulberry32), so runs are repeatable. */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Calls `emit` for each reading of sensor `s`, in time order. */
export function forEachReading(d: Dataset, s: number, emit: (metric: string, value: number, ts: number) => void): void {
  const rand = prng(1000 + s);
  for (let sec = 0; sec < d.seconds; sec++) {
    const ts = d.startTs + sec * 1000 + (s % 1000);
    for (const m of METRICS) {
      const raw = m.base + m.swing * Math.sin((sec + s * 7) / 300) + (rand() - 0.5);
      const f = 10 ** m.decimals;
      emit(m.metric, Math.round(raw * f) / f, ts);
    }
  }
}
