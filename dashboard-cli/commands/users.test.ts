// `users list|add|set|remove|import` (docs/ADMIN.md "Users from the command line") as users run
// them: the requests the hub gets, what is printed, and every local mistake refused before sending.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import type { UserInfo } from '../access-types.ts';
import { startFakeHub } from '../testing/fake-hub.ts';
import type { FakeHub } from '../testing/fake-hub.ts';
import { runCliInProcess } from '../testing/run-cli-in-process.ts';
import { runCliProcess } from '../testing/run-cli-process.ts';

const T0 = Date.UTC(2025, 10, 21, 8, 0, 0);
const initialUsers: UserInfo[] = [
  { user: 'sue', role: 'admin', rooms: ['living-room', 'greenhouse'], created_at: T0, updated_at: T0 },
  { user: 'alex', role: 'viewer', rooms: ['living-room', 'server-room'], created_at: T0, updated_at: T0 },
];

let hub: FakeHub;
let dir: string;
/** The admin's token, so every request can be checked to carry it. */
const env = { ROOMWATCH_TOKEN: 'admin-token' };

test.before.each(async () => {
  hub = await startFakeHub({ access: { users: initialUsers } });
  dir = mkdtempSync(join(tmpdir(), 'roomwatch-users-'));
});

test.after.each(async () => {
  await hub.close();
  rmSync(dir, { recursive: true, force: true });
});

const cli = (args: string[], options: { stdin?: string } = {}) => runCliProcess([...args, '--hub', hub.url], { env, ...options });
/** For usage errors, which need no process: the CLI in this one (main.test.ts proves the process passes the exit code on). */
const cliHere = (args: string[], options: { stdin?: string } = {}) => runCliInProcess([...args, '--hub', hub.url], { env, ...options });
const routes = (): string[] => hub.requests.map((r) => `${r.method} ${r.url}`);
const bodyOf = (i: number): unknown => JSON.parse(hub.requests[i]?.body.toString('utf8') ?? 'null');

function rows(stdout: string): string[][] {
  return stdout
    .trimEnd()
    .split('\n')
    .map((line) => line.trim().split(/\s+/));
}

test('users list prints user, role and rooms sorted by name, with the bearer token sent', async () => {
  const result = await cli(['users', 'list']);
  assert.is(result.code, 0, result.stderr);
  assert.equal(rows(result.stdout), [
    ['user', 'role', 'rooms'],
    ['alex', 'viewer', 'living-room,server-room'],
    ['sue', 'admin', 'living-room,greenhouse'],
  ]);
  assert.equal(routes(), ['GET /api/v1/users']);
  assert.is(hub.requests[0]?.authorization, 'Bearer admin-token');
  const json = await cli(['users', 'list', '--json']);
  assert.equal(
    (JSON.parse(json.stdout) as { users: UserInfo[] }).users.map((u) => u.user),
    ['alex', 'sue'],
  );
});

test('users add checks the name is free, then PUTs role, rooms and the password from stdin (201: created)', async () => {
  const result = await cli(['users', 'add', 'sandy', '--role', 'operator', '--room', 'greenhouse,server-room', '--password-stdin'], {
    stdin: 'long enough\n',
  });
  assert.is(result.code, 0, result.stderr);
  assert.is(result.stdout, 'created user sandy (operator; rooms greenhouse, server-room)\n');
  assert.equal(routes(), ['GET /api/v1/users', 'PUT /api/v1/users/sandy']);
  assert.equal(bodyOf(1), { role: 'operator', rooms: ['greenhouse', 'server-room'], password: 'long enough' });
  assert.ok(hub.access.users.has('sandy'));
});

test("users add --room '*' gives every room; an existing name is refused (exit 1) without a PUT", async () => {
  const all = await cli(['users', 'add', 'root', '--role', 'admin', '--room', '*', '--password-stdin'], { stdin: 'long enough\n' });
  assert.is(all.code, 0, all.stderr);
  assert.is(all.stdout, 'created user root (admin; all rooms)\n');
  hub.requests.length = 0;
  const again = await cli(['users', 'add', 'sue', '--role', 'viewer', '--room', 'hall', '--password-stdin'], { stdin: 'long enough\n' });
  assert.is(again.code, 1);
  assert.match(again.stderr, 'user sue (admin; rooms living-room, greenhouse) exists already: change it with `users set sue`');
  assert.equal(routes(), ['GET /api/v1/users']);
});

test('users add refuses, before any request, a short password, a missing or bad role or room, and a bad name', async () => {
  const cases: [string[], string, RegExp][] = [
    [['sandy', '--role', 'viewer', '--room', 'hall'], 'short\n', /at least 8 characters, not 5/],
    [['sandy', '--room', 'hall'], 'long enough\n', /needs --role/],
    [['sandy', '--role', 'boss', '--room', 'hall'], 'long enough\n', /--role must be admin, operator or viewer, not "boss"/],
    [['sandy', '--role', 'viewer'], 'long enough\n', /needs --room/],
    [['sandy', '--role', 'viewer', '--room', 'hall,*'], 'long enough\n', /give \* alone/],
    [['sandy', '--role', 'viewer', '--room', 'a room'], 'long enough\n', /neither a room name/],
    [['bad name', '--role', 'viewer', '--room', 'hall'], 'long enough\n', /invalid user name "bad name"/],
  ];
  for (const [args, stdin, message] of cases) {
    const result = await cliHere(['users', 'add', ...args, '--password-stdin'], { stdin });
    assert.is(result.code, 2, `${args.join(' ')}: ${result.stderr}`);
    assert.match(result.stderr, message);
  }
  const noTerminal = await cliHere(['users', 'add', 'sandy', '--role', 'viewer', '--room', 'hall']);
  assert.is(noTerminal.code, 2);
  assert.match(noTerminal.stderr, '--password-stdin');
  assert.equal(routes(), []);
});

test('users set fills in what is not given from the current user, and sends no password unless asked', async () => {
  const result = await cli(['users', 'set', 'alex', '--role', 'operator']);
  assert.is(result.code, 0, result.stderr);
  assert.is(result.stdout, 'updated user alex (operator; rooms living-room, server-room)\n');
  assert.equal(routes(), ['GET /api/v1/users', 'PUT /api/v1/users/alex']);
  assert.equal(bodyOf(1), { role: 'operator', rooms: ['living-room', 'server-room'] });

  hub.requests.length = 0;
  const rooms = await cli(['users', 'set', 'alex', '--room', 'greenhouse']);
  assert.is(rooms.code, 0, rooms.stderr);
  assert.equal(bodyOf(1), { role: 'operator', rooms: ['greenhouse'] });

  hub.requests.length = 0;
  const password = await cli(['users', 'set', 'alex', '--password-stdin'], { stdin: 'a new password\r\n' });
  assert.is(password.code, 0, password.stderr);
  assert.match(password.stdout, ', with a new password');
  assert.equal(bodyOf(1), { role: 'operator', rooms: ['greenhouse'], password: 'a new password' });
});

test('users set of an unknown user exits 1 without a PUT; with nothing to change it is a usage error', async () => {
  const unknown = await cli(['users', 'set', 'nobody', '--role', 'viewer']);
  assert.is(unknown.code, 1);
  assert.match(unknown.stderr, 'there is no user nobody: create one with `users add nobody`');
  assert.equal(routes(), ['GET /api/v1/users']);
  const nothing = await cli(['users', 'set', 'alex']);
  assert.is(nothing.code, 2);
  assert.match(nothing.stderr, 'users set needs something to change');
});

test("users remove DELETEs the user; an unknown one gets the hub's 404 (exit 1)", async () => {
  const result = await cli(['users', 'remove', 'alex']);
  assert.is(result.code, 0, result.stderr);
  assert.is(result.stdout, 'removed user alex\n');
  assert.equal(routes(), ['DELETE /api/v1/users/alex']);
  assert.not.ok(hub.access.users.has('alex'));
  const again = await cli(['users', 'remove', 'alex']);
  assert.is(again.code, 1);
  assert.match(again.stderr, 'hub refused (404 not_found)');
});

test('users import sends the whole file in one request (all or none) and reports created or updated per user', async () => {
  const users = [
    { user: 'alex', password: 'password', role: 'viewer', rooms: ['living-room'] },
    { user: 'sandy', password: 'password', role: 'operator', rooms: ['greenhouse', 'server-room'] },
  ];
  const file = join(dir, 'users.json');
  writeFileSync(file, JSON.stringify(users));
  const result = await cli(['users', 'import', file]);
  assert.is(result.code, 0, result.stderr);
  assert.is(result.stdout, 'updated alex (viewer; room living-room)\ncreated sandy (operator; rooms greenhouse, server-room)\n');
  assert.equal(routes(), ['POST /api/v1/users/import']);
  assert.equal(bodyOf(0), { users });
  assert.is(hub.requests[0]?.authorization, 'Bearer admin-token');

  const wrapped = join(dir, 'wrapped.json');
  writeFileSync(wrapped, JSON.stringify({ users: [{ user: 'kim', password: 'password', role: 'admin', rooms: ['*'] }] }));
  const json = await cli(['users', 'import', wrapped, '--json']);
  assert.is(json.code, 0, json.stderr);
  assert.equal(JSON.parse(json.stdout), { created: ['kim'], updated: [] });
});

test("on a hub with no users, an import without an admin is the hub's 409 admin_required (exit 1); with one it loads", async () => {
  const empty = await startFakeHub();
  try {
    const file = join(dir, 'demo.json');
    const alex = { user: 'alex', password: 'password', role: 'viewer', rooms: ['living-room', 'server-room'] };
    writeFileSync(file, JSON.stringify({ users: [alex] }));
    const refused = await runCliProcess(['users', 'import', file, '--hub', empty.url]);
    assert.is(refused.code, 1);
    assert.match(refused.stderr, 'hub refused (409 admin_required)');
    assert.is(empty.access.users.size, 0);
    writeFileSync(file, JSON.stringify({ users: [alex, { user: 'sue', password: 'password', role: 'admin', rooms: ['*'] }] }));
    const loaded = await runCliProcess(['users', 'import', file, '--hub', empty.url]);
    assert.is(loaded.code, 0, loaded.stderr);
    assert.is(loaded.stdout, 'created alex (viewer; rooms living-room, server-room)\ncreated sue (admin; all rooms)\n');
  } finally {
    await empty.close();
  }
});

test('a bad import file is a usage error (exit 2) listing every problem by place, and nothing is sent', async () => {
  const file = join(dir, 'bad.json');
  writeFileSync(
    file,
    JSON.stringify([
      { user: 'alex', password: 'password', role: 'viewer', rooms: ['living-room'] },
      { user: 'sue', password: 'short', role: 'admin', rooms: [] },
      { user: 'sandy', password: 'password', role: 'superuser', rooms: ['greenhouse'], pasword: 'x' },
      { user: 'alex', password: 'password', role: 'viewer', rooms: 'hall' },
      'kim',
    ]),
  );
  const result = await cliHere(['users', 'import', file]);
  assert.is(result.code, 2, result.stderr);
  for (const problem of [
    'users[1].password must have at least 8 characters',
    'users[1].rooms must name at least one room',
    'users[2].role must be admin, operator or viewer',
    'users[2] has an unknown field "pasword"',
    'users[3].rooms must be an array of room names',
    'users[3].user "alex" is given twice (also users[0])',
    'users[4] must be an object',
  ]) {
    assert.match(result.stderr, `\n  ${problem}`);
  }
  assert.match(result.stderr, `cannot import ${file}: nothing was sent`);
  assert.not.match(result.stderr, '\n  users[0]', 'a good entry is not listed');
  assert.equal(routes(), []);

  for (const text of ['{"users": 3}', 'not json', '[]']) {
    writeFileSync(file, text);
    const bad = await cliHere(['users', 'import', file]);
    assert.is(bad.code, 2, text);
  }
  const missing = await cliHere(['users', 'import', join(dir, 'nope.json')]);
  assert.is(missing.code, 2);
  assert.match(missing.stderr, 'no such file or directory');
  assert.equal(routes(), []);
});

test('subcommands are checked: none, an unknown one, and an option of another are usage errors', async () => {
  const none = await cliHere(['users']);
  assert.is(none.code, 2);
  assert.match(none.stderr, 'users needs a subcommand: list, add, set, remove, import');
  const unknown = await cliHere(['users', 'delete', 'alex']);
  assert.is(unknown.code, 2);
  assert.match(unknown.stderr, 'unknown subcommand "delete" of users');
  const stray = await cliHere(['users', 'list', '--role', 'admin']);
  assert.is(stray.code, 2);
  assert.match(stray.stderr, 'option --role does not apply to users list');
  const filter = await cliHere(['users', 'list', '--sensor', 'x']);
  assert.is(filter.code, 2);
  const missing = await cliHere(['users', 'remove']);
  assert.is(missing.code, 2);
  assert.match(missing.stderr, 'users remove needs NAME');
  assert.equal(routes(), []);
});

test('on a terminal, users add asks for the password twice without echo; two different ones send nothing', async () => {
  const args = ['users', 'add', 'sandy', '--role', 'viewer', '--room', 'hall', '--hub', hub.url];
  const same = await runCliInProcess(args, { stdinTTY: true, stdin: 'long enough\nlong enough\n', env });
  assert.is(same.code, 0, same.stderr);
  assert.is(same.stderr, 'new password for sandy: \nthe same password again: \n');
  assert.equal(bodyOf(1), { role: 'viewer', rooms: ['hall'], password: 'long enough' });
  hub.requests.length = 0;
  const differ = await runCliInProcess(args, { stdinTTY: true, stdin: 'long enough\nlong enuogh\n', env });
  assert.is(differ.code, 2);
  assert.match(differ.stderr, 'the two passwords differ');
  assert.equal(routes(), []);
});

test.run();
