// README "How it is built" is true of the tree: every folder or file it names exists, and every
// folder of the repository (and each folder of hub/ and test/) is named there.
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { REPO_ROOT } from '../support/hub-process.ts';

/** Folders that are not part of the repository's source (dependencies, data, scratch). */
const NOT_SOURCE = new Set(['node_modules', 'data', 'scratch', 'bench-results']);

/** The layout block's entries as paths from the root: an indented entry is inside the one above it. */
function layoutPaths(): string[] {
  const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## How it is built'));
  const block = /```\n([\s\S]*?)\n```/.exec(section)?.[1] ?? '';
  const parents: string[] = [];
  const paths: string[] = [];
  for (const line of block.split('\n')) {
    const m = /^( *)(\S+)/.exec(line);
    // A continuation line of the description is indented past the names' column.
    if (!m || m[1]!.length >= 16) continue;
    const depth = m[1]!.length / 2;
    parents.length = depth;
    const path = [...parents, m[2]!].join('');
    paths.push(path);
    if (path.endsWith('/')) parents.push(m[2]!);
  }
  return paths;
}

function folders(dir: string): string[] {
  return (
    readdirSync(join(REPO_ROOT, dir), { withFileTypes: true })
      // Dot folders are tools' own (.git, caches), but for .ci, which the layout names as .ci/run.
      .filter((e) => e.isDirectory() && !NOT_SOURCE.has(e.name) && !e.name.startsWith('.'))
      .map((e) => `${dir}${e.name}/`)
  );
}

const listed = layoutPaths();

test('the layout names what it should, and the parser reads nesting', () => {
  for (const path of ['protocol/', 'hub/', 'hub/ingest/', 'hub/ingest/handlers/', 'test/support/', '.ci/run']) {
    assert.ok(listed.includes(path), `${path} in ${listed.join(', ')}`);
  }
});

test('every path in the layout exists', () => {
  const missing = listed.filter((path) => !existsSync(join(REPO_ROOT, path)));
  assert.equal(missing, []);
});

test('every folder at the root, and in hub/, protocol/ and test/, is in the layout', () => {
  const expected = [...folders(''), ...folders('hub/'), ...folders('protocol/'), ...folders('test/')];
  const absent = expected.filter((f) => !listed.includes(f));
  assert.equal(absent, []);
});

test.run();
