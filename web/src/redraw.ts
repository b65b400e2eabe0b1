/**
 * Redraws paced for people: a view that changes with every reading (a busy room sends thousands
 * a second) moves its version signal at most every REDRAW_MS, on an animation frame, so the
 * browser spends its time on the newest state and not on frames nobody sees.
 */
import type { Signal } from '@preact/signals';

export const REDRAW_MS = 250;

/** A function that, called any number of times, moves `version` once within REDRAW_MS. */
export function pacedBump(version: Signal<number>): () => void {
  let scheduled = false;
  return () => {
    if (scheduled) return;
    scheduled = true;
    setTimeout(
      () =>
        requestAnimationFrame(() => {
          scheduled = false;
          version.value++;
        }),
      REDRAW_MS,
    );
  };
}
