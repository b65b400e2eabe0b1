/**
 * Writes the table of the user API's error codes in docs/API.md from the registry
 * (protocol/api-errors.ts), between the two marker comments, so the docs cannot drift from
 * what the hub answers. scripts/api-error-table.test.ts fails when they differ.
 *
 *   npm run docs:errors            # rewrite the table in docs/API.md
 *   npm run docs:errors -- --check # exit 1 if it differs, changing nothing
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { format, resolveConfig } from 'prettier';
import { API_ERRORS, type ApiErrorSpec } from '../protocol/api-errors.ts';

export const DOCS_PATH = join(import.meta.dirname, '..', 'docs', 'API.md');
export const BEGIN = '<!-- api-errors:begin (generated from protocol/api-errors.ts by `npm run docs:errors`; do not edit) -->';
export const END = '<!-- api-errors:end -->';
export const FIX_COMMAND = 'npm run docs:errors';

/**
 * The table: one row per code, by status then in the registry's order; laid out as prettier
 * lays out Markdown, so `prettier --check` and this script agree on the same bytes.
 */
export async function renderTable(errors: Readonly<Record<string, ApiErrorSpec>> = API_ERRORS): Promise<string> {
  const rows = Object.entries(errors)
    .map(([code, spec], order) => ({ code, spec, order }))
    .sort((a, b) => a.spec.status - b.spec.status || a.order - b.order)
    .map(({ code, spec }) => {
      const others = (spec.also ?? []).map((o) => ` ${o.status} when ${o.when}.`).join('');
      return `| ${spec.status} | \`${code}\` | ${spec.meaning}${others} |`;
    });
  const table = ['| status | code | meaning |', '| --- | --- | --- |', ...rows].join('\n');
  const options = (await resolveConfig(DOCS_PATH)) ?? {};
  return (await format(table, { ...options, parser: 'markdown' })).trimEnd();
}

/** `doc` with the text between the markers replaced by the table; throws if the markers are not there once each, in order. */
export function withTable(doc: string, table: string): string {
  const begin = doc.indexOf(BEGIN);
  const end = doc.indexOf(END);
  if (begin < 0 || end < begin || doc.indexOf(BEGIN, begin + 1) >= 0 || doc.indexOf(END, end + 1) >= 0) {
    throw new Error(`docs/API.md must hold the markers once each, in this order, where the table goes:\n${BEGIN}\n${END}`);
  }
  // Blank lines around the table: where prettier puts them, so neither undoes the other.
  return `${doc.slice(0, begin + BEGIN.length)}\n\n${table}\n\n${doc.slice(end)}`;
}

async function main(argv: readonly string[]): Promise<number> {
  const count = Object.keys(API_ERRORS).length;
  const check = argv.includes('--check');
  const doc = readFileSync(DOCS_PATH, 'utf8');
  const next = withTable(doc, await renderTable());
  if (next === doc) {
    console.log(`docs/API.md: the error table matches the registry (${count} codes)`);
    return 0;
  }
  if (check) {
    console.error(`docs/API.md: the error table differs from protocol/api-errors.ts; run \`${FIX_COMMAND}\``);
    return 1;
  }
  writeFileSync(DOCS_PATH, next);
  console.log(`docs/API.md: error table written (${count} codes)`);
  return 0;
}

if (process.argv[1] === import.meta.filename) process.exitCode = await main(process.argv.slice(2));
