/**
 * A cluster hub's commit under retention: readings older than the horizon are acked and not
 * stored, as on the single hub (store-worker.ts): their day may be dropped already, so whether
 * they repeat a stored identity cannot be told. They are left out of what is published; the
 * result speaks of the request's rows, with the left-out ones marked not stored.
 */
import { StoreError } from '../store/hub-store.ts';
import type { Columns, CommitRequest, CommitResult } from '../store/store-messages.ts';

/** The rows of `cols` with a ts at or above `horizon`; `kept` null when every row is. */
export function keptRows(cols: Columns, horizon: number): { rows: Columns; kept: Uint8Array | null; expired: number } {
  let expired = 0;
  for (let i = 0; i < cols.n; i++) if (cols.ts[i]! < horizon) expired++;
  if (expired === 0) return { rows: cols, kept: null, expired };
  const n = cols.n - expired;
  const rows: Columns = { n, series: new Int32Array(n), ts: new Float64Array(n), value: new Float64Array(n) };
  const kept = new Uint8Array(cols.n);
  for (let i = 0, j = 0; i < cols.n; i++) {
    if (cols.ts[i]! < horizon) continue;
    kept[i] = 1;
    rows.series[j] = cols.series[i]!;
    rows.ts[j] = cols.ts[i]!;
    rows.value[j++] = cols.value[i]!;
  }
  return { rows, kept, expired };
}

/** `mask` (over the kept rows; null: all stored) spread back over every row, 0 where not kept. */
function spread(kept: Uint8Array, mask: Uint8Array | null): { mask: Uint8Array; stored: number } {
  const out = new Uint8Array(kept.length);
  let stored = 0;
  for (let i = 0, j = 0; i < kept.length; i++) {
    if (kept[i] !== 1) continue;
    const s = mask === null ? 1 : mask[j]!;
    j++;
    out[i] = s;
    stored += s;
  }
  return { mask: out, stored };
}

/** Publishes `req` without its rows below `horizon`; `expired` is told how many were left out once the commit is in. */
export async function commitWithin(
  req: CommitRequest,
  horizon: number | null,
  publish: (req: CommitRequest) => Promise<CommitResult>,
  expired: (n: number) => void,
): Promise<CommitResult> {
  if (horizon === null) return publish(req);
  const fresh = keptRows(req.fresh, horizon);
  const md = keptRows(req.maybeDuplicate, horizon);
  if (!fresh.kept && !md.kept) return publish(req);
  let r: CommitResult;
  try {
    r = await publish({ ...req, fresh: fresh.rows, maybeDuplicate: md.rows });
  } catch (err) {
    // A failed commit hands back the request's rows, every one of them, for the retry.
    if (err instanceof StoreError && err.columns)
      throw new StoreError(err.message, err.retryable, { fresh: req.fresh, maybeDuplicate: req.maybeDuplicate });
    throw err;
  }
  expired(fresh.expired + md.expired);
  const f = fresh.kept ? spread(fresh.kept, r.freshStoredMask) : null;
  const m = md.kept ? spread(md.kept, r.storedMask) : { mask: r.storedMask, stored: r.inserted };
  return {
    ...r,
    // As the single hub counts them: a row of maybeDuplicate not stored is a duplicate.
    inserted: m.stored,
    duplicates: req.maybeDuplicate.n - m.stored,
    storedMask: m.mask,
    freshStoredMask: f ? f.mask : r.freshStoredMask,
    freshInserted: f ? f.stored : r.freshInserted,
    fresh: req.fresh,
    maybeDuplicate: req.maybeDuplicate,
  };
}
