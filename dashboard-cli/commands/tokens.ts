/**
 * `tokens list|create|revoke` (admin; docs/ADMIN.md "Sensor tokens"): `GET /api/v1/tokens`,
 * `POST /api/v1/tokens` with `{"sensor","rooms","note"?}` (201, the token in the answer) and
 * `DELETE /api/v1/tokens/ID`. The hub keeps only a hash of a token, so `create` is the one time
 * it can be shown: it is printed on a line of its own, with a line that says so.
 *
 * The first token changes the sensor port for everyone: from then on it asks every sensor for a
 * token, and the sensors connected without one are disconnected with 401. So `create` asks the
 * hub for its tokens first and, when none is in force, says so and asks before creating it (on a
 * terminal), or refuses without `--yes` (a script, or no terminal to ask on).
 */
import { checkCreatedTokenBody, checkRevokedTokenBody, checkTokensBody } from '../access-types.ts';
import type { CreatedTokenBody, TokenInfo } from '../access-types.ts';
import type { CommandContext, CommandSpec } from '../command.ts';
import { ExitCode, UsageError } from '../errors.ts';
import { formatClock, formatOptionalClock, printable, roomsPhrase } from '../format.ts';
import { oneLine } from '../json-output.ts';
import { UserInput } from '../prompt.ts';
import { renderTable } from '../table.ts';
import { bold } from '../terminal.ts';
import { SENSOR_PATTERN_PATTERN, parseRooms } from './access-values.ts';

export const TOKENS_PATH = '/api/v1/tokens';

export const tokensCommand: CommandSpec = {
  name: 'tokens',
  summary: 'sensor tokens (admin): list, create, revoke',
  subcommands: [
    { name: 'list', summary: 'every token: id, sensors, rooms, note, created, by whom, revoked' },
    {
      name: 'create',
      summary: 'a token for the sensors whose id matches PATTERN, in these rooms; printed this once only',
      synopsis: "--sensor PATTERN --room ROOM[,ROOM...]|'*' [--note TEXT] [--yes]",
      options: ['sensor', 'room', 'note', 'yes'],
    },
    { name: 'revoke', summary: 'withdraw a token; sensors connected with it are disconnected', args: [{ name: 'ID', required: true }] },
  ],
  details: [
    "Sensors send their token in hello: npm run sensors -- --token rws_... . --json prints the hub's answers",
    '(for create, the token with them). The first token in force makes the sensor port ask every sensor',
    'for a token: sensors connected without one are disconnected (401). create says so and asks first;',
    'without a terminal it needs --yes.',
  ],
  options: {
    note: { type: 'string', valueName: 'TEXT', help: 'tokens create: a note, to tell tokens apart later' },
    yes: {
      type: 'boolean',
      short: 'y',
      help: "tokens create: create the hub's first token without asking, though it disconnects every sensor that has none",
    },
  },
  filterFlags: {
    sensor: { type: 'string', valueName: 'PATTERN', help: "tokens create: sensor ids it is for; * any characters, ? one ('rack*')" },
    room: { type: 'string', valueName: 'ROOM[,ROOM...]', help: "tokens create: rooms the sensors may connect in; '*' for any room" },
  },
  async run(ctx) {
    switch (ctx.subcommand) {
      case 'list':
        return list(ctx);
      case 'create':
        return create(ctx);
      case 'revoke':
        return revoke(ctx);
    }
    throw new UsageError(`tokens needs a subcommand: ${tokensCommand.subcommands?.map((s) => s.name).join(', ')}`);
  },
};

export function renderTokens(tokens: readonly TokenInfo[], color: boolean): string {
  if (tokens.length === 0) return 'no sensor tokens\n';
  const rows = tokens.map((t) => [
    t.id,
    t.sensor,
    t.rooms.join(','),
    t.note ?? '',
    formatClock(t.created_at),
    t.created_by ?? '-',
    formatOptionalClock(t.revoked_at),
  ]);
  const columns = ['id', 'sensor', 'rooms', 'note', 'created', 'by', 'revoked'].map((header) => ({ header }));
  return renderTable(columns, rows, { header: (line) => bold(line, color) }).join('\n') + '\n';
}

export function renderCreatedToken(t: CreatedTokenBody, color: boolean): string {
  const note = t.note ? ` (${printable(t.note)})` : '';
  return [
    `created token ${printable(t.id)} for sensors ${printable(t.sensor)} in ${roomsPhrase(t.rooms)}${note}:`,
    '',
    `    ${bold(printable(t.token), color)}`,
    '',
    'This is the only time the token is shown: the hub keeps only a hash of it. Copy it now.',
    `Sensors send it in hello (npm run sensors -- --token <token>); \`tokens revoke ${printable(t.id)}\` withdraws it.`,
    '',
  ].join('\n');
}

async function list(ctx: CommandContext): Promise<ExitCode> {
  const answer = await ctx.hub.getJson(TOKENS_PATH, {}, checkTokensBody);
  ctx.stdout.write(ctx.json ? oneLine(answer) + '\n' : renderTokens(answer.value.tokens, ctx.color));
  return ExitCode.Done;
}

async function create(ctx: CommandContext): Promise<ExitCode> {
  const patterns = ctx.filters.sensor;
  if (patterns.length === 0) throw new UsageError("tokens create needs --sensor PATTERN (such as 'rack*', or '*' for any sensor)");
  if (patterns.length > 1) throw new UsageError('tokens create takes one --sensor pattern; create a token for each');
  const sensor = patterns[0] ?? '';
  if (!SENSOR_PATTERN_PATTERN.test(sensor)) {
    throw new UsageError(
      `invalid --sensor pattern "${sensor}": a sensor id with * and ? allowed, matching ${SENSOR_PATTERN_PATTERN.source}`,
    );
  }
  const rooms = parseRooms(ctx.filters.room, true, 'tokens create');
  const note = typeof ctx.options.note === 'string' ? ctx.options.note : undefined;
  if (!(await firstTokenConfirmed(ctx))) {
    ctx.stderr.write('no token created\n');
    return ExitCode.Usage;
  }
  const answer = await ctx.hub.requestJson('POST', TOKENS_PATH, checkCreatedTokenBody, {
    body: { sensor, rooms, ...(note !== undefined ? { note } : {}) },
  });
  ctx.stdout.write(ctx.json ? oneLine(answer) + '\n' : renderCreatedToken(answer.value, ctx.color));
  return ExitCode.Done;
}

/** Tokens in force: while there is none, the hub's sensor port asks no sensor for one. */
export function tokensInForce(tokens: readonly TokenInfo[]): number {
  return tokens.filter((t) => t.revoked_at === null).length;
}

export const FIRST_TOKEN_WARNING = [
  "This is the hub's first sensor token. Once it exists, the hub's sensor port asks every sensor for a",
  'token: every sensor connected without one now is disconnected (error 401), and reconnects only',
  'with a token in its hello (npm run sensors -- --token <token>).',
].join('\n');

/**
 * Whether `create` may go on: yes when a token is already in force or `--yes` was given; else the
 * warning and, on a terminal, a question (no terminal: a usage error that names `--yes`).
 */
async function firstTokenConfirmed(ctx: CommandContext): Promise<boolean> {
  if (ctx.options.yes === true) return true;
  const answer = await ctx.hub.getJson(TOKENS_PATH, {}, checkTokensBody);
  if (tokensInForce(answer.value.tokens) > 0) return true;
  const input = new UserInput(ctx);
  if (!input.onTerminal) {
    throw new UsageError(`${FIRST_TOKEN_WARNING}\nThere is no terminal to ask on: add --yes to create it all the same.`);
  }
  ctx.stderr.write(FIRST_TOKEN_WARNING + '\n');
  try {
    return /^y(es)?$/i.test(await input.line('Create it? [y/N] '));
  } finally {
    input.close();
  }
}

async function revoke(ctx: CommandContext): Promise<ExitCode> {
  const id = ctx.args[0] ?? '';
  if (id === '') throw new UsageError('tokens revoke needs ID (see `tokens list`)');
  const answer = await ctx.hub.requestJson('DELETE', `${TOKENS_PATH}/${encodeURIComponent(id)}`, checkRevokedTokenBody);
  ctx.stdout.write(
    ctx.json
      ? oneLine(answer) + '\n'
      : `revoked token ${printable(answer.value.id)} at ${formatClock(answer.value.revoked_at)}; sensors connected with it are disconnected\n`,
  );
  return ExitCode.Done;
}
