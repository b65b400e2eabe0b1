/** The "against peers" table: each row Roomwatch, the peer, and Roomwatch's result over the peer's. */

export const PEER_TABLE_HEAD = '| workload | Roomwatch | peer | ratio, Roomwatch / peer |\n|---|---|---|---|\n';

/**
 * `ratio` is Roomwatch's figure over the peer's, null when not measured; `of` names the figure
 * (a rate by default: above 1 Roomwatch is faster; for a latency, below 1 Roomwatch is faster).
 */
export function peerRow(workload: string, roomwatch: string, peer: string, ratio: number | null, of = 'rate'): string {
  return `| ${workload} | ${roomwatch} | ${peer} | ${ratio === null ? '–' : `${ratio.toFixed(2)} (${of})`} |`;
}
