// docs/PROMISES.md names, for each promise, the test file and the test that proves it. A test
// renamed or removed would leave a promise without its proof: every file and name it cites must
// exist, and every test file it cites must be one `npm test` runs.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { REPO_ROOT } from '../support/hub-process.ts';

const PROMISES = readFileSync(join(REPO_ROOT, 'docs', 'PROMISES.md'), 'utf8');
/** `path/to/file.test.ts: "a name"; "another name"` as written on a promise's line */
const CITATION = /((?:test|hub|protocol|dashboard-cli|sensors|scripts)\/[\w./-]+\.test\.ts): ((?:"[^"]+"(?:; )?)+)/g;

function citations(): { file: string; names: string[] }[] {
  return [...PROMISES.matchAll(CITATION)].map((m) => ({ file: m[1]!, names: [...m[2]!.matchAll(/"([^"]+)"/g)].map((n) => n[1]!) }));
}

test('PROMISES.md cites tests, and each cited file and test name exists', () => {
  const cited = citations();
  assert.ok(cited.length >= 50, `only ${cited.length} citations found: did the format of the page change?`);
  const missing: string[] = [];
  for (const { file, names } of cited) {
    const path = join(REPO_ROOT, file);
    if (!existsSync(path)) {
      missing.push(`${file} (no such file)`);
      continue;
    }
    const source = readFileSync(path, 'utf8');
    for (const name of names) if (!source.includes(name)) missing.push(`${file}: "${name}"`);
  }
  assert.equal(missing, [], `docs/PROMISES.md cites what does not exist:\n  ${missing.join('\n  ')}`);
});

test.run();
