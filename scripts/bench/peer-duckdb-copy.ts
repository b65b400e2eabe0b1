/**
 * The export peer: DuckDB's own `COPY (SELECT ...) TO 'file.csv'` of the rows history.csv
 * exports (ts,sensor,room,metric,value,unit, ISO times, ordered by ts, sensor, metric), read
 * from a stopped hub's database file. It is the ceiling of any export built on this store. Runs
 * in a child process of its own, so its RSS growth is its own.
 */
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export interface CopyResult {
  rows: number;
  elapsedMs: number;
  rssGrowthBytes: number;
}

// Only the dataset's sensors (bench-*): the report-now fleets that ran later added readings that
// the Roomwatch export, taken before them, did not see. The ISO times are written by the CSV
// writer's TIMESTAMPFORMAT, the fastest way DuckDB has (strftime per row: about 0.8 of it).
const COPY_SQL = (out: string) => `COPY (
  SELECT epoch_ms(r.ts) AS ts, s.sensor, s.room, s.metric, r.value, s.unit
  FROM readings r JOIN series s ON s.id = r.series_id
  WHERE s.sensor LIKE 'bench-%'
  ORDER BY r.ts, s.sensor, s.metric
) TO '${out.replaceAll("'", "''")}' (HEADER, TIMESTAMPFORMAT '%Y-%m-%dT%H:%M:%S.%gZ')`;

function statusKb(field: string): number {
  const m = new RegExp(`${field}:\\s+(\\d+) kB`).exec(readFileSync('/proc/self/status', 'utf8'));
  return m ? Number(m[1]) * 1024 : 0;
}

async function copyInThisProcess(dbFile: string, outFile: string): Promise<CopyResult> {
  const { DuckDBInstance } = await import('@duckdb/node-api');
  // The hub's defaults (docs/BENCHMARKS.md): the same memory limit and threads, so the peer is
  // the ceiling of this store as the hub runs it.
  const instance = await DuckDBInstance.create(dbFile, { access_mode: 'READ_ONLY', memory_limit: '512MB', threads: '2' });
  const conn = await instance.connect();
  const before = statusKb('VmRSS');
  const started = performance.now();
  const result = await conn.run(COPY_SQL(outFile));
  const elapsedMs = performance.now() - started;
  // VmHWM is the process's peak so far: the COPY's peak, since opening the file came before.
  return { rows: Number(result.rowsChanged), elapsedMs, rssGrowthBytes: statusKb('VmHWM') - before };
}

/** Runs the COPY in a child process and returns what it measured. */
export async function runDuckDbCopy(dbFile: string, outFile: string): Promise<CopyResult> {
  const child = spawn(process.execPath, ['--import', 'tsx', fileURLToPath(import.meta.url), dbFile, outFile], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, ROOMWATCH_DUCKDB_PEER: 'copy' },
  });
  let result: CopyResult | null = null;
  createInterface({ input: child.stdout }).on('line', (line) => (result = JSON.parse(line) as CopyResult));
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  if (code !== 0 || !result) throw new Error(`the DuckDB COPY peer exited with ${code}; its error is above`);
  return result;
}

if (process.env.ROOMWATCH_DUCKDB_PEER === 'copy') {
  const [dbFile, outFile] = process.argv.slice(2);
  const r = await copyInThisProcess(dbFile!, outFile!);
  process.stdout.write(`${JSON.stringify(r)}\n`);
}
