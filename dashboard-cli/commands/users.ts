/**
 * `users list|add|set|remove|import` (admin; docs/ADMIN.md "Users from the command line"):
 * `GET /api/v1/users`, `PUT /api/v1/users/NAME` with `{"role","rooms","password"?}` (201 created,
 * 200 changed), `DELETE /api/v1/users/NAME`, and `POST /api/v1/users/import` (all or none: on an
 * open hub the first user closes the API, so users sent one by one would stop at the second).
 * Everything the CLI can check (names, roles, rooms, a password of at least 8 characters, an
 * import file) is checked before anything is sent.
 *
 * `add` refuses a user that exists and `set` one that does not (both asked of the hub first), so
 * a slip never overwrites someone's password or creates a user with a typo for a name.
 */
import { checkAnything, checkImportBody, checkUserBody, checkUsersBody } from '../access-types.ts';
import type { UserInfo } from '../access-types.ts';
import type { CommandContext, CommandSpec } from '../command.ts';
import { ExitCode, HubConflict, UsageError } from '../errors.ts';
import { printable, userPhrase } from '../format.ts';
import { oneLine } from '../json-output.ts';
import { UserInput } from '../prompt.ts';
import { renderTable } from '../table.ts';
import { bold } from '../terminal.ts';
import { MIN_PASSWORD_CHARS, checkUserName, parseRole, parseRooms } from './access-values.ts';
import { readUsersFile } from './users-file.ts';

export const USERS_PATH = '/api/v1/users';
export const USERS_IMPORT_PATH = '/api/v1/users/import';

export function userPath(name: string): string {
  return `${USERS_PATH}/${encodeURIComponent(name)}`;
}

const NAME = [{ name: 'NAME', required: true }];

export const usersCommand: CommandSpec = {
  name: 'users',
  summary: "the hub's users (admin): list, add, set, remove, import",
  subcommands: [
    { name: 'list', summary: 'every user, with role and rooms' },
    {
      name: 'add',
      summary: 'create a user; the password is asked twice on a terminal (or --password-stdin)',
      args: NAME,
      synopsis: '--role ROLE --room ROOM[,ROOM...] [--password-stdin]',
      options: ['role', 'room', 'password-stdin'],
    },
    {
      name: 'set',
      summary: "change a user's role, rooms or password (with --password-stdin); what is not given stays",
      args: NAME,
      synopsis: '[--role ROLE] [--room ROOM[,ROOM...]] [--password-stdin]',
      options: ['role', 'room', 'password-stdin'],
    },
    { name: 'remove', summary: 'delete a user; their sessions end', args: NAME },
    {
      name: 'import',
      summary: 'create or update, all or none, the users of a JSON file: [{"user","password","role","rooms"}, ...] or {"users":[...]}',
      args: [{ name: 'FILE', required: true }],
    },
  ],
  details: [
    'Roles: viewer (read), operator (also upload and report-now), admin (also users, tokens, activity).',
    'Rooms scope what a user sees and does, whatever the role; * is every room, present and future.',
    `Passwords have at least ${MIN_PASSWORD_CHARS} characters. The first users of a hub must include an admin.`,
    "--json prints the hub's answers.",
  ],
  options: {
    role: { type: 'string', valueName: 'ROLE', help: 'users add/set: admin, operator or viewer' },
    'password-stdin': {
      type: 'boolean',
      help: 'users add/set: read the password from the first line of stdin (on a terminal it is asked without echo)',
    },
  },
  filterFlags: {
    room: { type: 'string', valueName: 'ROOM[,ROOM...]', help: "users add/set: the user's rooms; '*' for every room" },
  },
  async run(ctx) {
    switch (ctx.subcommand) {
      case 'list':
        return list(ctx);
      case 'add':
        return add(ctx);
      case 'set':
        return set(ctx);
      case 'remove':
        return remove(ctx);
      case 'import':
        return importUsers(ctx);
    }
    throw new UsageError(`users needs a subcommand: ${usersCommand.subcommands?.map((s) => s.name).join(', ')}`);
  },
};

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export function renderUsers(users: readonly UserInfo[], color: boolean): string {
  if (users.length === 0) return "no users: the hub is open on loopback (create an admin with `users add NAME --role admin --room '*'`)\n";
  const rows = [...users].sort((a, b) => cmp(a.user, b.user)).map((u) => [u.user, u.role, u.rooms.join(',')]);
  return (
    renderTable([{ header: 'user' }, { header: 'role' }, { header: 'rooms' }], rows, { header: (line) => bold(line, color) }).join('\n') +
    '\n'
  );
}

async function list(ctx: CommandContext): Promise<ExitCode> {
  const answer = await ctx.hub.getJson(USERS_PATH, {}, checkUsersBody);
  ctx.stdout.write(ctx.json ? oneLine(answer) + '\n' : renderUsers(answer.value.users, ctx.color));
  return ExitCode.Done;
}

async function findUser(ctx: CommandContext, name: string): Promise<UserInfo | undefined> {
  const answer = await ctx.hub.getJson(USERS_PATH, {}, checkUsersBody);
  return answer.value.users.find((u) => u.user === name);
}

async function askPassword(ctx: CommandContext, name: string): Promise<string> {
  const input = new UserInput(ctx);
  try {
    const fromStdin = ctx.options['password-stdin'] === true;
    return await input.password(`new password for ${name}: `, { fromStdin, confirm: true, minChars: MIN_PASSWORD_CHARS });
  } finally {
    input.close();
  }
}

async function put(ctx: CommandContext, name: string, body: Record<string, unknown>, note = ''): Promise<ExitCode> {
  const answer = await ctx.hub.requestJson('PUT', userPath(name), checkUserBody, { body });
  const what = answer.status === 201 ? 'created' : 'updated';
  ctx.stdout.write(ctx.json ? oneLine(answer) + '\n' : `${what} user ${userPhrase(answer.value)}${note}\n`);
  return ExitCode.Done;
}

async function add(ctx: CommandContext): Promise<ExitCode> {
  const name = checkUserName(ctx.args[0]);
  const role = parseRole(ctx.options.role, true, 'users add');
  const rooms = parseRooms(ctx.filters.room, true, 'users add');
  const password = await askPassword(ctx, name);
  const existing = await findUser(ctx, name);
  if (existing) throw new HubConflict(`user ${userPhrase(existing)} exists already: change it with \`users set ${name}\``);
  return put(ctx, name, { role, rooms, password });
}

async function set(ctx: CommandContext): Promise<ExitCode> {
  const name = checkUserName(ctx.args[0]);
  const role = parseRole(ctx.options.role, false, 'users set');
  const rooms = parseRooms(ctx.filters.room, false, 'users set');
  const newPassword = ctx.options['password-stdin'] === true;
  if (role === undefined && rooms === undefined && !newPassword) {
    throw new UsageError('users set needs something to change: --role, --room or --password-stdin');
  }
  const password = newPassword ? await askPassword(ctx, name) : undefined;
  // PUT replaces role and rooms: what is not given is taken from the user as the hub has it now.
  const current = await findUser(ctx, name);
  if (!current) throw new HubConflict(`there is no user ${printable(name)}: create one with \`users add ${name}\``);
  const body = { role: role ?? current.role, rooms: rooms ?? current.rooms, ...(password !== undefined ? { password } : {}) };
  return put(ctx, name, body, password !== undefined ? ', with a new password' : '');
}

async function remove(ctx: CommandContext): Promise<ExitCode> {
  const name = checkUserName(ctx.args[0]);
  const answer = await ctx.hub.requestJson('DELETE', userPath(name), checkAnything);
  if (ctx.json) ctx.stdout.write((answer.text.trim() === '' ? JSON.stringify({ user: name }) : oneLine(answer)) + '\n');
  else ctx.stdout.write(`removed user ${printable(name)}\n`);
  return ExitCode.Done;
}

async function importUsers(ctx: CommandContext): Promise<ExitCode> {
  const users = await readUsersFile(ctx.args[0] ?? '');
  const answer = await ctx.hub.requestJson('POST', USERS_IMPORT_PATH, checkImportBody, { body: { users } });
  if (ctx.json) {
    ctx.stdout.write(oneLine(answer) + '\n');
    return ExitCode.Done;
  }
  const created = new Set(answer.value.created);
  const updated = new Set(answer.value.updated);
  // In the file's order, with what the file gave (the answer holds names only).
  for (const u of users) {
    const outcome = created.has(u.user) ? 'created' : updated.has(u.user) ? 'updated' : 'not mentioned by the hub:';
    ctx.stdout.write(`${outcome} ${userPhrase(u)}\n`);
  }
  return ExitCode.Done;
}
