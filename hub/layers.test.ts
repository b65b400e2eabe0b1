// The core does not know HTTP: outside hub/http/ nothing imports from it, so the core's rules and
// errors (HubError) stay usable from any front end, and hub/http/ alone maps them to statuses.
// protocol/ is shared by the hub, the CLI and the simulator, so it imports none of them.
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

const root = resolve(import.meta.dirname, '..');

/**
 * by file, relative to the root: the imports from hub/http/ it may keep, and why.
 * hub.ts builds the app, so it wires the HTTP layer in.
 */
const MAY_IMPORT_HTTP: ReadonlyMap<string, string> = new Map([['hub/hub.ts', 'it wires the HTTP layer to the core']]);

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const path = join(dir, e.name);
    if (e.isDirectory()) return e.name === 'node_modules' ? [] : sources(path);
    return e.name.endsWith('.ts') ? [path] : [];
  });
}

/** Every relative module a file imports (static, re-exported or dynamic), as paths from the root. */
function importsOf(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const specifiers = [...text.matchAll(/(?:\bfrom\s+|\bimport\s*\(\s*|^\s*import\s+)'(\.{1,2}\/[^']+)'/gm)].map((m) => m[1]!);
  return specifiers.map((s) =>
    relative(root, resolve(dirname(file), s))
      .split(sep)
      .join('/'),
  );
}

test('nothing in hub/ outside hub/http/ imports from hub/http/, but the wiring', () => {
  const offenders: string[] = [];
  for (const file of sources(join(root, 'hub'))) {
    const name = relative(root, file).split(sep).join('/');
    if (name.startsWith('hub/http/') || MAY_IMPORT_HTTP.has(name)) continue;
    for (const target of importsOf(file)) if (target.startsWith('hub/http/')) offenders.push(`${name} imports ${target}`);
  }
  assert.equal(offenders, [], 'throw HubError (hub/hub-error.ts) and take protocol/ types; hub/http/ maps them');
});

test('protocol/ imports nothing from the hub, the CLI or the simulator', () => {
  const offenders: string[] = [];
  for (const file of sources(join(root, 'protocol'))) {
    for (const target of importsOf(file)) {
      if (/^(hub|dashboard-cli|sensors)\//.test(target)) offenders.push(`${relative(root, file)} imports ${target}`);
    }
  }
  assert.equal(offenders, []);
});

test('the check sees an import from hub/http/ in each form a file can write one', () => {
  const forms = [
    "import { x } from '../http/a.ts';",
    "import type { X } from '../http/a.ts';",
    "export { x } from '../http/a.ts';",
    "const m = await import('../http/a.ts');",
    "import '../http/a.ts';",
  ];
  for (const form of forms) {
    const specifier = /(?:\bfrom\s+|\bimport\s*\(\s*|^\s*import\s+)'(\.{1,2}\/[^']+)'/m.exec(form)?.[1];
    assert.is(specifier, '../http/a.ts', form);
  }
});

test.run();
