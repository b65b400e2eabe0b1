/** bye (PROTOCOL.md §1 "Session rules"): nothing after it is read; what came before is acked once stored, then the hub closes. */
import type { SensorSession } from '../sensor-session.ts';

export function handleBye(s: SensorSession): boolean {
  s.endAfterCommit();
  return false;
}
