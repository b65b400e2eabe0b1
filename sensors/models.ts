/**
 * What a simulated sensor measures: a room's temperature, humidity and CPU load, shaped like
 * the real thing. Deterministic from the random source and the injected clock: the same seed
 * and the same clock readings give the same series, whatever the wall time.
 */
import type { MetricDeclaration, ReadingInput } from '../protocol/messages.ts';
import { defaultUnit } from '../protocol/names.ts';
import { gaussian, type Random } from './random.ts';

export type SimulatedMetric = 'temperature' | 'humidity' | 'cpu_load';

function declare(metric: SimulatedMetric): MetricDeclaration {
  return { metric, unit: defaultUnit(metric) };
}

/** Every simulated sensor reports all of these, in this order, and declares them in hello. */
export const SIMULATED_METRICS: readonly MetricDeclaration[] = Object.freeze([
  declare('temperature'),
  declare('humidity'),
  declare('cpu_load'),
]);

export interface RoomProfile {
  baselineC: number;
  /** Half the peak-to-peak daily swing. */
  dailySwingC: number;
  /** Relative humidity at the baseline temperature. */
  humidityPct: number;
  /** How far relative humidity falls per degree above baseline (same water, warmer air). */
  humidityPctPerC: number;
  cpuBaselinePct: number;
  cpuBurstsPerHour: number;
}

const livingSpace: RoomProfile = {
  baselineC: 21,
  dailySwingC: 1.5,
  humidityPct: 45,
  humidityPctPerC: 3,
  cpuBaselinePct: 8,
  cpuBurstsPerHour: 20,
};

/** by room name, as given with --rooms: a Map, so a room named `constructor` finds no profile, not a function. */
export const ROOM_PROFILES: ReadonlyMap<string, RoomProfile> = new Map([
  ['living-room', livingSpace],
  ['bedroom', { ...livingSpace, dailySwingC: 1.2, humidityPct: 50, cpuBurstsPerHour: 10 }],
  ['kitchen', { ...livingSpace, dailySwingC: 2, humidityPct: 55 }],
  // Air-conditioned: warm from the machines but held steady, dry, and the CPUs are busy.
  ['server-room', { baselineC: 24, dailySwingC: 0.4, humidityPct: 35, humidityPctPerC: 2, cpuBaselinePct: 30, cpuBurstsPerHour: 40 }],
  // Glass and sun: a large daily swing and moist air.
  ['greenhouse', { baselineC: 25, dailySwingC: 7, humidityPct: 70, humidityPctPerC: 3.5, cpuBaselinePct: 5, cpuBurstsPerHour: 6 }],
]);

/** Rooms the simulator has no profile for behave like a living room. */
export function roomProfile(room: string): RoomProfile {
  return ROOM_PROFILES.get(room) ?? livingSpace;
}

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;
/** Rooms peak mid-afternoon and bottom out before dawn, as buildings lag the sun. */
export const WARMEST_HOUR_UTC = 15;

/** 1 at the warmest time of day (15:00 UTC), -1 twelve hours later (03:00 UTC, before dawn). */
export function dailyCycle(tsMs: number): number {
  const msOfDay = ((tsMs % DAY_MS) + DAY_MS) % DAY_MS;
  return Math.cos((2 * Math.PI * (msOfDay - WARMEST_HOUR_UTC * HOUR_MS)) / DAY_MS);
}

/**
 * A bounded random walk: Ornstein-Uhlenbeck, stepped exactly for any gap between readings,
 * so the drift's size does not depend on how often the sensor reads.
 */
class Drift {
  value: number;

  constructor(
    private readonly random: Random,
    private readonly sd: number,
    private readonly bound: number,
    private readonly relaxMs: number,
  ) {
    this.value = clamp(gaussian(random) * sd, -bound, bound);
  }

  step(dtMs: number): number {
    if (dtMs > 0) {
      const keep = Math.exp(-dtMs / this.relaxMs);
      const fresh = this.sd * Math.sqrt(1 - keep * keep);
      this.value = clamp(this.value * keep + fresh * gaussian(this.random), -this.bound, this.bound);
    }
    return this.value;
  }
}

export interface SensorModel {
  readonly metrics: readonly MetricDeclaration[];
  /** One reading of every metric, all stamped with the clock read now. */
  read(): ReadingInput[];
}

export interface RoomModelOptions {
  room: string;
  random: Random;
  now: () => number;
}

const CPU_BURST_MIN_MS = 3_000;
const CPU_BURST_MAX_MS = 15_000;

/** Temperature, humidity and cpu_load of one sensor in one room. */
export function createRoomModel(options: RoomModelOptions): SensorModel {
  const { random, now } = options;
  const profile = roomProfile(options.room);
  // No two thermometers agree exactly, even in the same room.
  const baselineC = profile.baselineC + (random() - 0.5);
  const humidityPct = profile.humidityPct + (random() - 0.5) * 6;
  const cpuBaselinePct = profile.cpuBaselinePct * (0.7 + random() * 0.6);
  const temperatureDrift = new Drift(random, 0.5, 1.5, 30 * 60_000);
  const humidityDrift = new Drift(random, 3, 8, 45 * 60_000);
  const cpuDrift = new Drift(random, profile.cpuBaselinePct * 0.3, profile.cpuBaselinePct * 0.8, 5 * 60_000);
  let lastMs: number | undefined;
  let burstEndMs = -Infinity;
  let burstLevelPct = 0;

  function read(): ReadingInput[] {
    const ts = now();
    // A clock that stands still or steps back moves nothing; the model never goes back in time.
    const dtMs = lastMs === undefined ? 0 : Math.max(0, ts - lastMs);
    lastMs = Math.max(lastMs ?? ts, ts);

    const airC = baselineC + profile.dailySwingC * dailyCycle(ts) + temperatureDrift.step(dtMs);
    const temperature = round(airC + gaussian(random) * 0.05, 2);

    // Relative humidity answers the air, not the thermometer's own noise.
    const humidity = round(
      clamp(humidityPct - profile.humidityPctPerC * (airC - baselineC) + humidityDrift.step(dtMs) + gaussian(random) * 0.4, 0, 100),
      1,
    );

    // Only a burst that started within the longest burst's length can still be running now,
    // so a slow sensor sees bursts as often as the CPU has them, not once per reading.
    const windowMs = Math.min(dtMs, CPU_BURST_MAX_MS);
    const burstChance = 1 - Math.exp((-windowMs * profile.cpuBurstsPerHour) / HOUR_MS);
    if (ts >= burstEndMs && random() < burstChance) {
      const startMs = ts - random() * windowMs;
      burstEndMs = startMs + CPU_BURST_MIN_MS + random() * (CPU_BURST_MAX_MS - CPU_BURST_MIN_MS);
      burstLevelPct = 70 + random() * 30;
    }
    const cpuRaw = ts < burstEndMs ? burstLevelPct + gaussian(random) * 3 : cpuBaselinePct + cpuDrift.step(dtMs) + gaussian(random) * 2;
    const cpuLoad = round(clamp(cpuRaw, 0, 100), 1);

    return [
      { metric: 'temperature', value: temperature, unit: defaultUnit('temperature'), ts },
      { metric: 'humidity', value: humidity, unit: defaultUnit('humidity'), ts },
      { metric: 'cpu_load', value: cpuLoad, unit: defaultUnit('cpu_load'), ts },
    ];
  }

  return { metrics: SIMULATED_METRICS, read };
}

function clamp(x: number, lo: number, hi: number): number {
  return x < lo ? lo : x > hi ? hi : x;
}

/** Rounds like a sensor's display: to a fixed number of decimals, never "-0". */
function round(x: number, decimals: number): number {
  const f = 10 ** decimals;
  return Math.round(x * f) / f + 0;
}
