/** What `--json` prints: the hub's own body, one line, so programs see exactly what the hub said. */
import type { JsonAnswer } from './hub-client.ts';

/** The body unchanged when it is one line already; else the same JSON re-serialized on one line. */
export function oneLine(answer: JsonAnswer<unknown>): string {
  const text = answer.text.trim();
  return text.includes('\n') ? JSON.stringify(answer.value) : text;
}
