/** A token's sensor id pattern: `*` any run of characters, `?` exactly one; the rest literal. */

const PATTERN_RULE = /^[A-Za-z0-9._:*?-]{1,64}$/;

export function sensorPatternProblem(pattern: unknown): string | null {
  if (typeof pattern !== 'string' || !PATTERN_RULE.test(pattern))
    return 'sensor must be a sensor id pattern: the characters of a sensor id, with * for any run and ? for one character (e.g. "rack*")';
  return null;
}

export function compileSensorPattern(pattern: string): RegExp {
  const body = pattern.replace(/[.*?]/g, (c) => (c === '*' ? '.*' : c === '?' ? '.' : '\\.'));
  return new RegExp(`^(?:${body})$`);
}
