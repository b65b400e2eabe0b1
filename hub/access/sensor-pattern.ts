/** A token's sensor id pattern: `*` any run of characters, `?` exactly one; the rest literal. */

const PATTERN_RULE = /^[A-Za-z0-9._:*?-]{1,64}$/;

export function sensorPatternProblem(pattern: unknown): string | null {
  if (typeof pattern !== 'string' || !PATTERN_RULE.test(pattern))
    return 'sensor must be a sensor id pattern: the characters of a sensor id, with * for any run and ? for one character (e.g. "rack*")';
  return null;
}

export interface SensorPattern {
  readonly source: string;
  test(sensor: string): boolean;
}

export function compileSensorPattern(pattern: string): SensorPattern {
  const p = pattern.replace(/\*+/g, '*'); // a run of stars means what one star means
  return { source: pattern, test: (sensor) => globMatch(p, sensor).matched };
}

/**
 * The classic wildcard match with one remembered star: on a mismatch it retries from the last
 * `*`, one character further, and never goes back further than that star. At most
 * (pattern length + 1) x (id length + 1) steps, so a pattern such as `*a*a*a*a*a*a*ac` costs
 * microseconds, where a translation to a backtracking RegExp took seconds for a 64-character id
 * (every way to split the id among the stars was tried). `steps` is there for the tests.
 */
export function globMatch(pattern: string, text: string): { matched: boolean; steps: number } {
  let p = 0;
  let t = 0;
  let star = -1; // the pattern index of the last `*` seen
  let resume = 0; // the text index that star matched up to
  let steps = 0;
  while (t < text.length) {
    steps++;
    const c = pattern[p];
    if (c === '*') {
      star = p++;
      resume = t;
    } else if (c !== undefined && (c === '?' || c === text[t])) {
      p++;
      t++;
    } else if (star >= 0) {
      p = star + 1;
      t = ++resume;
    } else {
      return { matched: false, steps };
    }
  }
  while (pattern[p] === '*') p++;
  return { matched: p === pattern.length, steps };
}
