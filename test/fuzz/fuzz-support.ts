/**
 * Shared pieces of the property-based fuzz tests: a seeded, bounded `check` around fast-check
 * that prints how to replay a failure, and the hostile names every name field is tried with.
 *
 * Replaying: each failure prints its seed (and fast-check's path). Run it again with
 *   ROOMWATCH_FUZZ_SEED=<seed> npm test -- test/fuzz/<file>
 * ROOMWATCH_FUZZ_RUNS=<factor> multiplies every run count (a longer hunt), and
 * ROOMWATCH_FUZZ_SHRINK=1 shrinks failures also where a file turns shrinking off (the end-to-end
 * session fuzz, where each run is slow).
 */
import fc from 'fast-check';

/** Each property has its own fixed seed, so a failure reproduces; the environment overrides it. */
export function fuzzSeed(fixed: number): number {
  const env = process.env.ROOMWATCH_FUZZ_SEED;
  if (env === undefined || env === '') return fixed;
  const seed = Number(env);
  if (!Number.isInteger(seed)) throw new Error(`ROOMWATCH_FUZZ_SEED must be an integer, got "${env}"`);
  return seed;
}

function runFactor(): number {
  const env = process.env.ROOMWATCH_FUZZ_RUNS;
  const factor = env === undefined || env === '' ? 1 : Number(env);
  if (!(factor > 0)) throw new Error(`ROOMWATCH_FUZZ_RUNS must be a positive number, got "${env}"`);
  return factor;
}

export interface CheckOptions {
  seed: number;
  numRuns: number;
  /** shrink a failure to a smaller counterexample (default: yes; set false where one run is slow) */
  shrink?: boolean;
}

/**
 * fc.assert with a fixed seed and run count. On failure it throws an error that starts with the
 * seed and the command that replays it, followed by fast-check's report (counterexample, path).
 */
export async function check<Ts extends [unknown, ...unknown[]]>(
  what: string,
  property: fc.IProperty<Ts> | fc.IAsyncProperty<Ts>,
  options: CheckOptions,
): Promise<void> {
  const seed = fuzzSeed(options.seed);
  const numRuns = Math.max(1, Math.round(options.numRuns * runFactor()));
  const shrink = process.env.ROOMWATCH_FUZZ_SHRINK === '1' || (options.shrink ?? true);
  try {
    await fc.assert(property as fc.IAsyncProperty<Ts>, { seed, numRuns, endOnFailure: !shrink, includeErrorInReport: true });
  } catch (err) {
    const replay = `ROOMWATCH_FUZZ_SEED=${seed} npm test -- ${process.argv[1]?.split('/').slice(-3).join('/') ?? 'test/fuzz'}`;
    const message = `${what}: property failed with seed ${seed} (replay: ${replay})\n${(err as Error).message}`;
    process.stderr.write(`[fuzz] ${message.split('\n')[0]}\n`);
    throw new Error(message, { cause: err });
  }
}

// ---------------------------------------------------------------- hostile names

/** Every own name of Object.prototype, and the two other names that reach prototypes. */
export const PROTOTYPE_NAMES: readonly string[] = [...Object.getOwnPropertyNames(Object.prototype), '__proto__', 'prototype'].filter(
  (n, i, all) => all.indexOf(n) === i,
);

/** snake_case forms (`to_string`, `has_own_property`): valid metric names that look like prototype members. */
export const SNAKE_PROTOTYPE_NAMES: readonly string[] = PROTOTYPE_NAMES.map((n) =>
  n.replace(/([a-z])([A-Z])/g, '$1_$2').toLowerCase(),
).filter((n) => !PROTOTYPE_NAMES.includes(n));

/** Every hostile name, raw and snake_cased. */
export const HOSTILE_NAMES: readonly string[] = [...PROTOTYPE_NAMES, ...SNAKE_PROTOTYPE_NAMES];

// The contract's patterns (PROTOCOL.md §1 "Names and values"), written out here rather than
// imported, so the fuzz checks the hub against the contract and not against itself.
export const CONTRACT_SENSOR_ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$/;
export const CONTRACT_METRIC = /^[a-z][a-z0-9_]{0,63}$/;
export const CONTRACT_MIN_TS = 946_684_800_000;
export const CONTRACT_MAX_FUTURE_MS = 24 * 3600 * 1000;
export const CONTRACT_MAX_SEQ = 2 ** 53 - 1;
export const CONTRACT_MAX_UNIT_CHARS = 16;
/**
 * docs/API.md "Units", stricter than the contract: a unit may not begin with what makes a
 * spreadsheet run a cell as a formula (OWASP CSV injection), full-width forms included.
 */
export const FORMULA_FIRST_CHARS = new Set(['=', '+', '-', '@', '\t', '\r', '＝', '＋', '－', '＠']);

/** A unit by the contract's length rule and the documented formula rule. */
export function unitAllowed(unit: string): boolean {
  return [...unit].length <= CONTRACT_MAX_UNIT_CHARS && !FORMULA_FIRST_CHARS.has([...unit][0] ?? '');
}

/** A name that is valid by the given contract pattern, or a hostile one, or near-miss garbage. */
export function nameArb(pattern: RegExp, valid: readonly string[]): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 3, arbitrary: fc.constantFrom(...valid) },
    { weight: 3, arbitrary: fc.constantFrom(...HOSTILE_NAMES) },
    { weight: 2, arbitrary: fc.stringMatching(pattern) },
    { weight: 1, arbitrary: fc.string({ maxLength: 70, unit: 'binary' }) },
  );
}
