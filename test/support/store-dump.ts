/**
 * Every table of the hub's DuckDB file as text, and a byte search through a data folder, for
 * tests that prove a secret was never stored (docs/ADMIN.md: tokens and sessions as SHA-256
 * hashes, passwords as salted scrypt hashes). Only call these when no hub has the file open.
 */
import { DuckDBInstance } from '@duckdb/node-api';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { storePath } from './store-inspect.ts';

export interface TableDump {
  table: string;
  columns: string[];
  /** every value cast to VARCHAR (null stays null) */
  rows: (string | null)[][];
}

function quoteIdent(name: string): string {
  return `"${name.replaceAll('"', '""')}"`;
}

/** Opens the store read-only and returns every table of the main schema, every value as text. */
export async function dumpStore(dataDir: string): Promise<TableDump[]> {
  const path = storePath(dataDir);
  if (!existsSync(path)) throw new Error(`no store at ${path}`);
  const instance = await DuckDBInstance.create(path, { access_mode: 'READ_ONLY' });
  try {
    const connection = await instance.connect();
    try {
      const tables = (
        await connection.runAndReadAll(
          `SELECT table_name FROM information_schema.tables WHERE table_type = 'BASE TABLE' ORDER BY table_name`,
        )
      )
        .getRowObjects()
        .map((r) => String(r.table_name));
      const out: TableDump[] = [];
      for (const table of tables) {
        const columns = (
          await connection.runAndReadAll(
            `SELECT column_name FROM information_schema.columns WHERE table_name = '${table.replaceAll("'", "''")}' ORDER BY ordinal_position`,
          )
        )
          .getRowObjects()
          .map((r) => String(r.column_name));
        if (columns.length === 0) continue;
        const select = columns.map((c) => `CAST(${quoteIdent(c)} AS VARCHAR)`).join(', ');
        const rows = (await connection.runAndReadAll(`SELECT ${select} FROM ${quoteIdent(table)}`))
          .getRows()
          .map((row) => row.map((v) => (v === null ? null : String(v))));
        out.push({ table, columns, rows });
      }
      return out;
    } finally {
      connection.closeSync();
    }
  } finally {
    instance.closeSync();
  }
}

/** Every (table, column, value) whose value contains `needle`. */
export function cellsContaining(dump: TableDump[], needle: string): string[] {
  const found: string[] = [];
  for (const t of dump)
    for (const row of t.rows)
      row.forEach((v, i) => {
        if (v !== null && v.includes(needle)) found.push(`${t.table}.${t.columns[i]} = ${v.slice(0, 120)}`);
      });
  return found;
}

/** Every file under `dir` (recursively) whose bytes contain `needle`. */
export function filesContaining(dir: string, needle: string | Buffer): string[] {
  const bytes = typeof needle === 'string' ? Buffer.from(needle) : needle;
  const found: string[] = [];
  const walk = (d: string): void => {
    for (const name of readdirSync(d)) {
      const p = join(d, name);
      const st = statSync(p);
      if (st.isDirectory()) walk(p);
      else if (st.isFile() && readFileSync(p).includes(bytes)) found.push(p);
    }
  };
  walk(dir);
  return found;
}
