/**
 * `login [USER]`: `POST /api/v1/login` (docs/ADMIN.md "Logging in"), and the token it gives is kept
 * for this hub in credentials.json, so that every later command sends it. The password is asked
 * without echo on a terminal, or read from stdin with `--password-stdin`; it is never an argument,
 * where `ps` and the shell's history would keep it. The token is never printed (except with
 * `--json`, which prints the hub's answer for programs).
 */
import { checkLoginBody } from '../access-types.ts';
import type { CommandContext, CommandSpec } from '../command.ts';
import { ExitCode, LocalFileError, UsageError } from '../errors.ts';
import { formatClock, userPhrase } from '../format.ts';
import { oneLine } from '../json-output.ts';
import { UserInput } from '../prompt.ts';
import { isSensorId, SENSOR_ID_PATTERN } from '../../protocol/names.ts';

export const LOGIN_PATH = '/api/v1/login';

export const loginCommand: CommandSpec = {
  name: 'login',
  summary: 'log in to the hub; the next commands send the token it gives',
  args: [{ name: 'USER', required: false }],
  filterFlags: false,
  details: [
    'The password is asked without echo on a terminal; elsewhere give it with --password-stdin.',
    'The token is kept per hub in credentials.json in the config folder ($ROOMWATCH_CONFIG_DIR, else',
    '$XDG_CONFIG_HOME/roomwatch, else ~/.config/roomwatch; %APPDATA%\\roomwatch on Windows), readable only',
    'by you, until it expires (the hub says when). ROOMWATCH_TOKEN, when set, is sent instead.',
    "--json prints the hub's answer, token included; without it the token is never printed.",
  ],
  options: {
    user: { type: 'string', valueName: 'NAME', help: 'the user name (instead of USER)' },
    'password-stdin': {
      type: 'boolean',
      help: 'read the password from the first line of stdin (on a terminal it is asked without echo)',
    },
  },
  async run(ctx) {
    const input = new UserInput(ctx);
    let user: string;
    let password: string;
    try {
      user = await userName(ctx, input);
      password = await input.password(`password for ${user}: `, { fromStdin: ctx.options['password-stdin'] === true, confirm: false });
    } finally {
      // The terminal is given back before the hub is asked, which may take a while (a wrong password does).
      input.close();
    }
    // No token goes with a login: a stale one is no business of the hub's here.
    const answer = await ctx.hub.requestJson('POST', LOGIN_PATH, checkLoginBody, { body: { user, password }, token: null });
    const login = answer.value;
    try {
      ctx.session.store.save(ctx.session.hubKey, { user: login.user, token: login.token, expires_at: login.expires_at });
    } catch (error) {
      throw error instanceof LocalFileError ? new LocalFileError(`logged in, but the token could not be kept: ${error.message}`) : error;
    }
    ctx.stdout.write(ctx.json ? oneLine(answer) + '\n' : `logged in as ${userPhrase(login)} until ${formatClock(login.expires_at)}\n`);
    if (ctx.session.source === 'env') {
      ctx.stderr.write('roomwatch: note: ROOMWATCH_TOKEN is set, and is sent instead of this login until you unset it\n');
    }
    return ExitCode.Done;
  },
};

async function userName(ctx: CommandContext, input: UserInput): Promise<string> {
  const fromArg = ctx.args[0];
  const fromFlag = typeof ctx.options.user === 'string' ? ctx.options.user : undefined;
  if (fromArg !== undefined && fromFlag !== undefined && fromArg !== fromFlag) {
    throw new UsageError(`USER "${fromArg}" and --user "${fromFlag}" name two users; give one`);
  }
  let user = fromArg ?? fromFlag;
  if (user === undefined) {
    if (!input.onTerminal) throw new UsageError('login needs USER (or --user NAME)');
    user = await input.line('user: ');
  }
  if (!isSensorId(user))
    throw new UsageError(`invalid user name ${JSON.stringify(user)}: a user name must match ${SENSOR_ID_PATTERN.source}`);
  return user;
}
