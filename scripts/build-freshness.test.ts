import { mkdirSync, mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { buildStaleness, packageRoot } from './build-freshness.ts';

const dirs: string[] = [];
test.after(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

function tree(): string {
  const root = mkdtempSync(join(tmpdir(), 'roomwatch-freshness-'));
  dirs.push(root);
  return root;
}

const at = (path: string, seconds: number) => utimesSync(path, seconds, seconds);

test('packageRoot: the nearest folder above the module that holds package.json, bundled or installed alike', () => {
  const root = tree();
  const installed = join(root, 'node_modules', 'roomwatch');
  mkdirSync(join(installed, '.build', 'server'), { recursive: true });
  writeFileSync(join(root, 'package.json'), '{}');
  writeFileSync(join(installed, 'package.json'), '{}');
  assert.is(packageRoot(pathToFileURL(join(installed, '.build', 'server', 'hub.js')).href), installed);
  assert.is(packageRoot(pathToFileURL(join(root, 'scripts', 'x.ts')).href), root);
});

test('buildStaleness: missing output, an input newer than it (also inside a folder), and missing inputs', () => {
  const root = tree();
  const out = join(root, 'out.js');
  const src = join(root, 'src');
  mkdirSync(join(src, 'deep'), { recursive: true });
  const file = join(src, 'deep', 'a.ts');
  writeFileSync(file, '');
  assert.match(buildStaleness(out, [src]) ?? '', /missing/);
  writeFileSync(out, '');
  at(file, 1_000);
  at(join(src, 'deep'), 1_000);
  at(src, 1_000);
  at(out, 2_000);
  assert.is(buildStaleness(out, [src, join(root, 'not-there')]), null, 'older inputs, and a missing one, leave it fresh');
  at(file, 3_000);
  assert.match(buildStaleness(out, [src]) ?? '', /changed/, 'a file deep in an input folder is newer');
});

test.run();
