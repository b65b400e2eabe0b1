// deploy/roomwatch.service, checked by systemd itself: `systemd-analyze verify` (which warns on
// stderr but exits 0 for an unknown key or a bad value, so any output fails) and its offline
// security review, which scores the unit's exposure. No systemd runs here to start the unit:
// the hub it starts is the installed bin that test/install/pack.test.ts runs.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { REPO_ROOT } from '../support/hub-process.ts';
import { exitWhenDone } from '../support/teardown.ts';

test.after(() => exitWhenDone());

const UNIT = readFileSync(join(REPO_ROOT, 'deploy', 'roomwatch.service'), 'utf8');
const analyze = spawnSync('systemd-analyze', ['--version']).status === 0;
const skip = (): boolean => {
  if (!analyze) process.stdout.write('[skip] systemd-analyze is not installed: apt-get install -y systemd\n');
  return !analyze;
};

/** `systemd-analyze ARGS` on `text` saved as roomwatch.service in a temp folder. */
function analyzeUnit(text: string, args: string[]): { status: number | null; output: string } {
  const dir = mkdtempSync(join(tmpdir(), 'roomwatch-unit-'));
  try {
    const file = join(dir, 'roomwatch.service');
    writeFileSync(file, text);
    const r = spawnSync('systemd-analyze', [...args, file], { encoding: 'utf8', timeout: 30_000 });
    return { status: r.status, output: `${r.stdout}${r.stderr}`.trim() };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** The values of `key=` lines in the unit. */
const values = (key: string): string[] => [...UNIT.matchAll(new RegExp(`^${key}=(.*)$`, 'gm'))].map((m) => m[1]!.trim());

test('systemd-analyze verify accepts the unit without a warning', () => {
  if (skip()) return;
  const r = analyzeUnit(UNIT, ['verify']);
  assert.is(r.status, 0, r.output);
  assert.is(r.output, '', 'no warning');
});

test('the check can fail: a misspelt key and a bad value are reported', () => {
  if (skip()) return;
  const bad = UNIT.replace(/^ProtectSystem=strict$/m, 'ProtectSystem=bogus').replace(/^Restart=/m, 'Restartt=');
  const r = analyzeUnit(bad, ['verify']);
  assert.match(r.output, /protect system value/i);
  assert.match(r.output, /Unknown key 'Restartt'/);
});

test("systemd's offline security review rates the unit's exposure at most 2.0 (of 10)", () => {
  if (skip()) return;
  // --threshold counts in tenths: exit 1 above 2.0
  const r = analyzeUnit(UNIT, ['security', '--offline=true', '--threshold=20']);
  assert.is(r.status, 0, r.output);
  const level = Number(/Overall exposure level for roomwatch\.service: (\d+\.\d)/.exec(r.output)?.[1]);
  assert.ok(level <= 2.0, `exposure ${level}`);
});

test('the hardening the docs promise is there, and MemoryDenyWriteExecute is not (V8 needs W+X)', () => {
  const expected: [string, string][] = [
    ['DynamicUser', 'yes'],
    ['StateDirectory', 'roomwatch'],
    ['ProtectSystem', 'strict'],
    ['ProtectHome', 'yes'],
    ['PrivateTmp', 'yes'],
    ['NoNewPrivileges', 'yes'],
    ['RestrictAddressFamilies', 'AF_INET AF_INET6 AF_UNIX'],
    ['CapabilityBoundingSet', ''],
    ['SystemCallFilter', '@system-service'],
    ['Restart', 'on-failure'],
    ['TimeoutStopSec', '60'],
  ];
  for (const [key, value] of expected) assert.equal(values(key), [value], key);
  assert.equal(values('MemoryDenyWriteExecute'), []);
  assert.match(values('ExecStart')[0] ?? '', /\.build\/server\/hub\.js --data \$\{STATE_DIRECTORY\}/);
});

test.run();
