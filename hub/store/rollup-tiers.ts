/**
 * Retention and rollup tiers as the hub is told them (`--retention 30d`, `--rollups
 * 1m:365d,1h:forever`; docs/ADMIN.md "Retention and rollups"), checked once at start, and the
 * arithmetic of horizons shared by the store worker (what it drops) and the export (what it reads).
 *
 * A tier is a bucket width and how long its buckets are kept. Tier 1 is computed from the raw
 * readings, every later tier from the tier before it (so each width must be a whole multiple of
 * the one before), and the export recomputes the part no tier covers yet through the same chain:
 * the same rows come out whichever way a bucket was made.
 */
import { formatDuration as formatMs, parseDuration, DURATION_FORMS } from '../../protocol/duration.ts';

export interface RollupTier {
  widthMs: number;
  /** how long its buckets are kept; null: forever */
  keepMs: number | null;
}

export interface RetentionConfig {
  /** how long raw readings are kept; null: forever */
  retentionMs: number | null;
  /** finest first; empty: no rollups */
  tiers: RollupTier[];
}

export const DEFAULT_ROLLUPS = '1m:365d,1h:forever';
export const DEFAULT_TIERS: readonly RollupTier[] = [
  { widthMs: 60_000, keepMs: 365 * 86_400_000 },
  { widthMs: 3_600_000, keepMs: null },
];
/** the shortest retention: late readings of the last hour always find their raw data */
export const MIN_RETENTION_MS = 3_600_000;
const MAX_TIERS = 6;
/** as long as the longest `every` the export takes */
const MAX_WIDTH_MS = 366 * 86_400_000;

export type SpecParse<T> = { ok: true; value: T } | { ok: false; problem: string };

/** `30d`, or `forever` for none. */
export function parseRetention(text: string): SpecParse<number | null> {
  if (text === 'forever') return { ok: true, value: null };
  const d = parseDuration(text);
  if (!d.ok) return { ok: false, problem: `${d.problem} (or "forever"), e.g. --retention 30d` };
  if (d.ms < MIN_RETENTION_MS)
    return { ok: false, problem: `"${text}" is shorter than 1h, the least the hub keeps raw readings: e.g. 30d` };
  return { ok: true, value: d.ms };
}

/** `1m:365d,1h:forever`, or `none` for no rollups. */
export function parseRollups(text: string): SpecParse<RollupTier[]> {
  if (text === 'none') return { ok: true, value: [] };
  const example = `e.g. --rollups ${DEFAULT_ROLLUPS} (WIDTH:KEEP, finest first; KEEP a duration or forever)`;
  const tiers: RollupTier[] = [];
  for (const item of text.split(',')) {
    const [width, keep, extra] = item.split(':');
    if (width === undefined || keep === undefined || extra !== undefined || width === '')
      return { ok: false, problem: `"${item}" is not a tier: write WIDTH:KEEP, ${example}` };
    const w = parseDuration(width);
    if (!w.ok) return { ok: false, problem: `the width of "${item}": ${w.problem}` };
    if (w.ms % 1000 !== 0 || w.ms > MAX_WIDTH_MS)
      return { ok: false, problem: `the width of "${item}" must be whole seconds, at most 366d` };
    let keepMs: number | null = null;
    if (keep !== 'forever') {
      const k = parseDuration(keep);
      if (!k.ok) return { ok: false, problem: `how long "${item}" is kept: ${k.problem}, or forever; ${example}` };
      if (k.ms < w.ms) return { ok: false, problem: `"${item}" keeps its buckets for less than one bucket: keep them longer, ${example}` };
      keepMs = k.ms;
    }
    const before = tiers.at(-1);
    if (before && (w.ms <= before.widthMs || w.ms % before.widthMs !== 0))
      return {
        ok: false,
        problem: `"${item}": each tier's width must be a whole multiple of the one before it, and larger (1m,1h,1d), since each is made from the one before; ${example}`,
      };
    tiers.push({ widthMs: w.ms, keepMs });
  }
  if (tiers.length > MAX_TIERS) return { ok: false, problem: `at most ${MAX_TIERS} tiers, got ${tiers.length}` };
  return { ok: true, value: tiers };
}

/** Problems with a configuration given as options (not as text): each names the option. */
export function retentionProblems(c: RetentionConfig): string[] {
  const problems: string[] = [];
  if (c.retentionMs !== null && (!Number.isSafeInteger(c.retentionMs) || c.retentionMs < MIN_RETENTION_MS))
    problems.push(`retentionMs must be at least ${MIN_RETENTION_MS} (1h), or null for forever, got ${String(c.retentionMs)}`);
  if (!Array.isArray(c.tiers)) return [...problems, `rollupTiers must be a list of tiers, ${DURATION_FORMS}`];
  const text = c.tiers.map((t) => `${t.widthMs}ms:${t.keepMs === null ? 'forever' : `${t.keepMs}ms`}`).join(',');
  const parsed = c.tiers.length === 0 ? ({ ok: true } as const) : parseRollups(text);
  if (!parsed.ok) problems.push(`rollupTiers: ${parsed.problem}`);
  return problems;
}

/** The table of a tier's buckets: by width, so a tier keeps its table whatever else changes. */
export function tierTable(widthMs: number): string {
  return `rollup_${Math.trunc(widthMs)}ms`;
}

export function alignDown(ms: number, width: number): number {
  return Math.floor(ms / width) * width;
}

export function alignUp(ms: number, width: number): number {
  return Math.ceil(ms / width) * width;
}

/**
 * Readings with a ts below this are refused (sensors: acked, not stored; uploads: counted as
 * expired): their raw data may be dropped already, so the identity rule cannot be checked. It
 * is aligned to the coarsest tier, so a tier bucket is either wholly retained or wholly dropped,
 * and a late reading's buckets can always be recomputed from raw readings. Null: no retention.
 */
export function acceptHorizon(c: RetentionConfig, nowMs: number): number | null {
  if (c.retentionMs === null) return null;
  const coarsest = c.tiers.at(-1)?.widthMs ?? 1;
  return alignDown(nowMs - c.retentionMs, coarsest);
}

/** `90000` -> `90s`, `3600000` -> `1h`: the largest unit that divides it. */
export function formatDuration(ms: number | null): string {
  return ms === null ? 'forever' : formatMs(ms);
}
