/** How to run the hub as a process, for tests and benchmarks alike (without loading the hub here). */

/** Node's arguments for hub/main.ts on 127.0.0.1, ports 0, data in `dataDir`, then `extra`; run from the repository root. */
export function hubProcessArgs(dataDir: string, extra: readonly string[] = []): string[] {
  return ['--import', 'tsx', 'hub/main.ts', '--host', '127.0.0.1', '--tcp-port', '0', '--http-port', '0', '--data', dataDir, ...extra];
}
