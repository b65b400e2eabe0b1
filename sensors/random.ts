/**
 * Seeded random sources for the simulator. Everything random in a simulated sensor (its
 * readings, its first-tick offset, its reconnect jitter) comes from one of these, so a run
 * is reproducible from its seed.
 */

/** A source of numbers in [0, 1), like Math.random. */
export type Random = () => number;

/** mulberry32: small, fast and good enough for simulated weather; not for anything secret. */
export function seededRandom(seed: number): Random {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/**
 * A 32-bit seed from several parts (FNV-1a over their text), so each sensor and each purpose
 * gets its own stream: `deriveSeed(fleetSeed, 'sim-007', 'model')`.
 */
export function deriveSeed(...parts: (string | number)[]): number {
  let h = 0x811c9dc5;
  const text = parts.join('\u0000');
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** A standard normal sample (Box-Muller); noise on real sensors is roughly Gaussian. */
export function gaussian(random: Random): number {
  // 1 - random() is in (0, 1], so the log never sees 0.
  const u = 1 - random();
  const v = random();
  return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v);
}
