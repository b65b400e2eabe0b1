/**
 * Waits for the store's compaction (hub/store/compaction.ts) to catch up after an ingest, so
 * the bytes per reading are measured on the store as it settles, not mid-rewrite: until a plan
 * made after `since` found nothing left to sort and nothing to move. Returns the seconds waited.
 */
export async function compactionCaughtUp(httpPort: number, since: number, timeoutMs = 600_000): Promise<number> {
  const started = performance.now();
  for (;;) {
    const res = await fetch(`http://127.0.0.1:${httpPort}/api/v1/health`);
    const c = ((await res.json()) as { compaction?: { state: string; pending_readings: number; planned_at: string | null } }).compaction;
    if (!c) return 0; // a hub without compaction
    if (c.state === 'idle' && c.pending_readings === 0 && c.planned_at !== null && Date.parse(c.planned_at) > since)
      return (performance.now() - started) / 1000;
    if (performance.now() - started > timeoutMs)
      throw new Error(`the compaction did not catch up within ${timeoutMs / 1000} s: ${JSON.stringify(c)}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
