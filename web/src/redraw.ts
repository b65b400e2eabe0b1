/**
 * Redraws paced for people: a view that changes with every reading (a busy room sends thousands
 * a second) moves its version signal at most every REDRAW_MS, on an animation frame, so the
 * browser spends its time on the newest state and not on frames nobody sees.
 */
import type { Signal } from '@preact/signals';

export const REDRAW_MS = 250;

/**
 * Charts redraw less often: a redraw of a room's charts is every line of every chart (a few ms
 * each), while a 1 h chart's pixel is 3 s. Ten views open on a busy room redrawing four times a
 * second took most of a core here, once a second a quarter of that.
 */
export const CHART_REDRAW_MS = 1_000;

/** A function that, called any number of times, moves `version` once within `intervalMs`. */
export function pacedBump(version: Signal<number>, intervalMs = REDRAW_MS): () => void {
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
      intervalMs,
    );
  };
}
