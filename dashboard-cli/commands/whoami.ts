/**
 * `whoami`: who the hub takes this CLI for (`GET /api/v1/whoami`): user, role, rooms and until
 * when the login holds, and whether the token came from ROOMWATCH_TOKEN or a stored login; or
 * that the hub is open and asks for no login at all.
 */
import { checkWhoamiBody } from '../access-types.ts';
import type { CommandSpec } from '../command.ts';
import { ExitCode } from '../errors.ts';
import { formatOptionalClock, printable, roomsPhrase } from '../format.ts';
import { oneLine } from '../json-output.ts';

export const WHOAMI_PATH = '/api/v1/whoami';

export const whoamiCommand: CommandSpec = {
  name: 'whoami',
  summary: 'who the hub takes you for: user, role, rooms, and until when',
  filterFlags: false,
  details: ["--json prints the hub's answer."],
  async run(ctx) {
    const answer = await ctx.hub.getJson(WHOAMI_PATH, {}, checkWhoamiBody);
    if (ctx.json) {
      ctx.stdout.write(oneLine(answer) + '\n');
      return ExitCode.Done;
    }
    const who = answer.value;
    if (who.open) {
      ctx.stdout.write(`the hub at ${ctx.hub.displayUrl} is open: it asks for no login, and anyone who reaches it may do everything\n`);
      return ExitCode.Done;
    }
    const source = ctx.session.source === 'env' ? 'ROOMWATCH_TOKEN' : `the login kept in ${ctx.session.store.file}`;
    const lines = [
      ['user', printable(who.user)],
      ['role', printable(who.role)],
      ['rooms', roomsPhrase(who.rooms).replace(/^rooms? /, '')],
      ['until', formatOptionalClock(who.expires_at)],
      ['hub', ctx.hub.displayUrl],
      ['token', source],
    ];
    ctx.stdout.write(lines.map(([name, value]) => `${name?.padEnd(6)} ${value}`).join('\n') + '\n');
    return ExitCode.Done;
  },
};
