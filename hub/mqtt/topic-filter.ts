/**
 * MQTT topic filters (MQTT 5 §4.7): `+` stands for one level, `#` (last) for any number of
 * levels. Used for the mapping file's own topics, whose filters the operator writes.
 */

/** Why `filter` is not a filter the bridge can subscribe to, or null. */
export function filterProblem(filter: string): string | null {
  if (filter.length === 0) return 'must not be empty';
  if (Buffer.byteLength(filter) > 65_535) return 'must be at most 65535 bytes';
  if (filter.startsWith('$')) return "must not start with $ (the broker's own topics; the bridge makes the shared subscription itself)";
  const levels = filter.split('/');
  for (let i = 0; i < levels.length; i++) {
    const l = levels[i]!;
    if (l.includes('#') && (l !== '#' || i !== levels.length - 1)) return '# must be a whole level and the last one';
    if (l.includes('+') && l !== '+') return '+ must be a whole level';
  }
  if (filter.includes('\0')) return 'must not contain a NUL character';
  return null;
}

/**
 * The levels the `+` wildcards of `filter` matched in `topic` (in order), or null when the topic
 * does not match. A `#` matches the rest, also nothing (`a/#` matches `a`).
 */
export function matchFilter(filterLevels: readonly string[], topic: string): string[] | null {
  const levels = topic.split('/');
  const captured: string[] = [];
  for (let i = 0; i < filterLevels.length; i++) {
    const f = filterLevels[i]!;
    if (f === '#') return captured;
    if (i >= levels.length) return null;
    if (f === '+') captured.push(levels[i]!);
    else if (f !== levels[i]) return null;
  }
  return levels.length === filterLevels.length ? captured : null;
}

/** How many `+` levels a filter has. */
export function plusCount(filter: string): number {
  return filter.split('/').filter((l) => l === '+').length;
}
