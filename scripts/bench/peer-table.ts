/** The "against peers" table: each row Roomwatch, the peer, and Roomwatch's result over the peer's. */

export const PEER_TABLE_HEAD = '| workload | Roomwatch | peer | Roomwatch / peer |\n|---|---|---|---|\n';

/** `ratio` is Roomwatch's rate over the peer's (above 1: Roomwatch is faster); null when not measured. */
export function peerRow(workload: string, roomwatch: string, peer: string, ratio: number | null): string {
  return `| ${workload} | ${roomwatch} | ${peer} | ${ratio === null ? '–' : ratio.toFixed(2)} |`;
}
