/**
 * Where compaction's slices are cut (compaction.ts): from the mark below which readings are
 * sorted (or the oldest reading) up to the newest cold reading, one after another with no gap (the mark
 * moves to each slice's end), each of at most `maxRows` readings as far as ts boundaries allow.
 * Cut from an equal-width histogram of ts, a bucket too full for one slice cut finer.
 */

export interface Slice {
  /** inclusive */
  lo: number;
  /** exclusive */
  hi: number;
}

/** slices planned at once; the rest is planned when these are done */
const MAX_PLANNED_SLICES = 64;
/** histogram buckets per query */
const BUCKETS = 1024;

type Query = (sql: string) => Promise<unknown[][]>;

interface Cutting {
  maxRows: number;
  slices: Slice[];
  /** the open slice's start and rows so far */
  lo: number;
  rows: number;
}

/** The cold readings at or above the mark, and the slices of the first of them. */
export async function planSlices(
  q: Query,
  mark: number | null,
  cold: number,
  maxRows: number,
): Promise<{ pending: number; slices: Slice[] }> {
  const [extent] = await q(`SELECT count(*), min(ts), max(ts) FROM readings WHERE ts >= ${mark ?? -9e15} AND ts < ${cold}`);
  const pending = Number(extent?.[0] ?? 0);
  if (pending === 0) return { pending, slices: [] };
  const start = mark ?? Number(extent![1]);
  const st: Cutting = { maxRows, slices: [], lo: start, rows: 0 };
  const full = await cut(q, start, Number(extent![2]) + 1, st);
  // Planned to the end: the last slice ends after the newest cold reading, not at the cold
  // limit, so readings that come later with a ts between the two are sorted next time.
  if (!full && st.rows > 0) close(st, Number(extent![2]) + 1);
  return { pending, slices: st.slices };
}

/** Cuts [lo, hi) into `st`; true once MAX_PLANNED_SLICES are planned. */
async function cut(q: Query, lo: number, hi: number, st: Cutting): Promise<boolean> {
  const width = Math.max(1, Math.ceil((hi - lo) / BUCKETS));
  const buckets = await q(
    `SELECT (ts - ${lo}) // ${width} AS b, count(*) FROM readings WHERE ts >= ${lo} AND ts < ${hi} GROUP BY b ORDER BY b`,
  );
  for (const [b, n] of buckets) {
    const bLo = lo + Number(b) * width;
    const bHi = Math.min(hi, bLo + width);
    const rows = Number(n);
    if (st.rows + rows > st.maxRows && st.rows > 0) {
      close(st, bLo);
      if (st.slices.length >= MAX_PLANNED_SLICES) return true;
    }
    if (rows > st.maxRows && width > 1) {
      // Too many for one slice: cut this bucket finer (a single ms of readings is one slice, however many).
      if (await cut(q, bLo, bHi, st)) return true;
      continue;
    }
    st.rows += rows;
  }
  return false;
}

function close(st: Cutting, at: number): void {
  st.slices.push({ lo: st.lo, hi: at });
  st.lo = at;
  st.rows = 0;
}
