/**
 * What the benchmarks read from a running hub: a /metrics value, and the CPU of its threads by
 * name (the main thread, and the store's worker and DuckDB's threads), from /proc.
 */
import { readdirSync, readFileSync } from 'node:fs';

/** A counter or gauge from the hub's /metrics (0 while it has no sample). */
export async function metric(httpPort: number, name: string, labels = ''): Promise<number> {
  // Right after start a scrape may fail (500) while a part is still opening: asked again, a few times.
  let res = await fetch(`http://127.0.0.1:${httpPort}/metrics`);
  for (let i = 0; i < 20 && res.status !== 200; i++) {
    await res.text();
    await new Promise((r) => setTimeout(r, 100));
    res = await fetch(`http://127.0.0.1:${httpPort}/metrics`);
  }
  const text = await res.text();
  const line = text.split('\n').find((l) => l.startsWith(`${name}${labels} `) || (labels === '' && l.startsWith(`${name} `)));
  return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : 0;
}

/** CPU seconds of a process's threads so far, by thread name (`main` for the main thread; others summed by name). */
export function cpuByThread(pid: number): Map<string, number> {
  const out = new Map<string, number>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    let stat: string;
    try {
      stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
    } catch {
      continue; // the thread has just ended
    }
    const name = tid === String(pid) ? 'main' : stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    out.set(name, (out.get(name) ?? 0) + (Number(fields[11]) + Number(fields[12])) / 100);
  }
  return out;
}

/** The threads that took at least 0.05 s, most first: `main 1.5 s, node 1.0 s`. */
export function shownThreads(threads: Map<string, number>): string {
  return [...threads]
    .filter(([, s]) => s >= 0.05)
    .sort((a, b) => b[1] - a[1])
    .map(([name, s]) => `${name} ${s.toFixed(1)} s`)
    .join(', ');
}
