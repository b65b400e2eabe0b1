// The supported Node range (package.json "engines", README "Two commands"): Node 20.19 or newer.
// 20.19 is where Node 20 can require() an ES module, which cookie@2 is (npm warns that it wants
// Node 22): fastify's inject() reaches it through light-my-request, and this proves it loads here.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { REPO_ROOT } from '../support/hub-process.ts';

const manifest = JSON.parse(readFileSync(join(REPO_ROOT, 'package.json'), 'utf8')) as { engines: { node: string } };

function version(text: string): [number, number] {
  const m = /(\d+)\.(\d+)/.exec(text);
  assert.ok(m, `a version in "${text}"`);
  return [Number(m[1]), Number(m[2])];
}

const atLeast = (v: [number, number], min: [number, number]): boolean => v[0] > min[0] || (v[0] === min[0] && v[1] >= min[1]);

test('engines asks for Node 20.19 or newer, and this Node is in that range', () => {
  assert.is(manifest.engines.node, '>=20.19');
  assert.ok(atLeast(version(process.version), [20, 19]), `${process.version} is older than 20.19`);
});

test("cookie@2 (an ES module that says it wants Node 22) loads through fastify's light-my-request on this Node", () => {
  const require = createRequire(join(REPO_ROOT, 'node_modules', 'fastify', 'fastify.js'));
  const lightMyRequest = require('light-my-request') as { inject?: unknown };
  assert.type(lightMyRequest.inject, 'function');
  const cookie = createRequire(join(REPO_ROOT, 'node_modules', 'light-my-request', 'lib', 'cookies.js'))('cookie') as {
    stringifySetCookie?: unknown;
  };
  assert.type(cookie.stringifySetCookie, 'function');
});

test.run();
