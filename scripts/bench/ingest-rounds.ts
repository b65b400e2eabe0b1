/**
 * Ingest rates that hold on a shared machine. A batch ingest of the standard dataset lasts 1.5-3
 * s, so one hiccup of the machine (another process's burst, a slow first commit) moved a single
 * run's ratio by 0.3. Each ingest row is therefore measured in rounds, Roomwatch and its
 * reference alternated (hub, peer, hub, peer, ...), each round on a fresh process, and the row
 * reports the round with the median ratio, listing the others: adjacent runs see the same
 * machine, and the median ignores the odd hiccup either way.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Dataset } from './dataset.ts';
import { cpuByThread } from './hub-metrics.ts';
import { cpuSeconds, startHub, type RunningHub } from './hub-process.ts';
import { runIngest } from './ingest.ts';

export interface Side {
  rate: number;
  /** CPU seconds of the process (every thread) */
  cpuS: number;
  /** of the hub's main thread (the parser's), when known */
  mainCpuS?: number;
  /** what the side adds to its label (stream: what the subscribers got) */
  note?: string;
}

export interface Round {
  ours: Side;
  ref: Side;
  /** the 1-minute load average after the round */
  load: number;
}

/** `count` rounds of `ours` then `ref`; the first round's `ours` may be given (measured already). */
export async function alternate(
  count: number,
  ours: () => Promise<Side>,
  ref: () => Promise<Side>,
  first?: Side,
  label = '',
): Promise<Round[]> {
  const rounds: Round[] = [];
  for (let i = 0; i < count; i++) {
    const a = i === 0 && first ? first : await ours();
    const b = await ref();
    const round = { ours: a, ref: b, load: loadavg()[0]! };
    rounds.push(round);
    if (label)
      process.stderr.write(
        `${label} round ${i + 1} of ${count}: ${Math.round(a.rate).toLocaleString('en-US')} / ${Math.round(b.rate).toLocaleString('en-US')} readings/s = ` +
          `${(a.rate / b.rate).toFixed(2)} (CPU ${a.cpuS.toFixed(1)} s${a.mainCpuS === undefined ? '' : `, main thread ${a.mainCpuS.toFixed(1)} s`} / ` +
          `${b.cpuS.toFixed(1)} s), load ${round.load.toFixed(1)}\n`,
      );
  }
  return rounds;
}

/** The round whose ratio is the median (the lower middle of an even count). */
export function medianRound(rounds: readonly Round[]): Round {
  const sorted = [...rounds].sort((x, y) => x.ours.rate / x.ref.rate - y.ours.rate / y.ref.rate);
  return sorted[Math.floor((sorted.length - 1) / 2)]!;
}

/** `median 0.71 of 3 rounds (0.64, 0.71, 0.74), load 2.1-3.0` */
export function roundsNote(rounds: readonly Round[]): string {
  if (rounds.length < 2) return '';
  const ratios = rounds.map((r) => (r.ours.rate / r.ref.rate).toFixed(2));
  const loads = rounds.map((r) => r.load);
  return `; ${rounds.length} rounds alternated: ${ratios.join(', ')}, load ${Math.min(...loads).toFixed(1)}-${Math.max(...loads).toFixed(1)}`;
}

/**
 * One ingest on a fresh hub that is stopped and deleted after it (no compaction wait, no export):
 * a further round of a row. `before` runs once the hub listens (subscribers); what it returns
 * once the readings are acked, and its text is the side's note.
 */
export async function freshHubIngest(
  d: Dataset,
  payloads: Buffer[],
  lastSeqs: number[],
  readings: number,
  before?: (hub: RunningHub) => Promise<() => Promise<string>>,
): Promise<Side> {
  const dataDir = mkdtempSync(join(tmpdir(), 'roomwatch-bench-round-'));
  const hub = await startHub(dataDir, ['--log-level', process.env.ROOMWATCH_BENCH_LOG_LEVEL ?? 'warn']);
  try {
    const pid = hub.child.pid!;
    const finish = before ? await before(hub) : null;
    const cpu0 = cpuSeconds(pid);
    const main0 = cpuByThread(pid).get('main') ?? 0;
    const { elapsedMs } = await runIngest(hub.tcpPort, d, payloads, lastSeqs);
    const cpuS = cpuSeconds(pid) - cpu0;
    const mainCpuS = (cpuByThread(pid).get('main') ?? 0) - main0;
    const note = finish ? await finish() : undefined;
    return { rate: (readings / elapsedMs) * 1000, cpuS, mainCpuS, ...(note === undefined ? {} : { note }) };
  } finally {
    await hub.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}
