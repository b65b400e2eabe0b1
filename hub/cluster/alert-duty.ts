/**
 * Which hub stores and sends a sensor's alert events. Every hub follows every reading, so every
 * hub keeps every alert's state; one of them must speak for each sensor, or a rule would fire
 * once per hub. The choice is rendezvous hashing over the hubs alive: each hub works it out
 * alone, every hub gets the same answer from the same set, and when a hub joins or leaves only
 * its share of the sensors moves. While the set is changing (a hub's liveness key expiring
 * takes up to HUB_TTL_MS) two hubs may disagree for a moment: an event may then be sent twice
 * or not at all, which docs/CLUSTER.md says.
 */
import { fnv1a32 } from './cluster-names.ts';

export function alertDutyHub(sensor: string, hubs: Iterable<string>): string | null {
  let best: string | null = null;
  let bestWeight = -1;
  for (const hub of hubs) {
    const weight = fnv1a32(`${hub}\0${sensor}`);
    // Ties (two hubs with one weight) go to the smaller id, so every hub breaks them alike.
    if (weight > bestWeight || (weight === bestWeight && best !== null && hub < best)) {
      best = hub;
      bestWeight = weight;
    }
  }
  return best;
}
