/**
 * The page's sense of "now", for ages ("4 s ago"), staleness and sliding time ranges: a signal
 * that moves once a second, so those re-render together and nothing else keeps its own timer.
 */
import { signal } from '@preact/signals';

export const now = signal(Date.now());

let timer: ReturnType<typeof setInterval> | undefined;

export function startClock(): void {
  timer ??= setInterval(() => (now.value = Date.now()), 1_000);
}
