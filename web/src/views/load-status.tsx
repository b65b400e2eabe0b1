/** What a room view loaded, or why it did not: a line for people, announced politely to screen readers. */
import { plural } from '../format.ts';
import type { Loaded } from '../room/room-data.ts';

export function LoadStatus({ state, error, loaded }: { state: string; error: string | null; loaded: Loaded | null }) {
  return (
    <p class="load-status" aria-live="polite">
      {state === 'loading' && `Loading…${error ? ` (${error})` : ''}`}
      {state === 'error' && <span class="problem">The history did not load: {error}</span>}
      {state === 'ready' &&
        loaded &&
        `Buckets of ${loaded.every.text} (mean, with the min-max band) · ${plural(loaded.rows, 'row')} · ${(loaded.bytes / 1024).toFixed(0)} KB in ${Math.round(loaded.ms)} ms`}
    </p>
  );
}
