/**
 * `whoami`: who the hub takes this CLI for (`GET /api/v1/whoami`): user, role, rooms and until
 * when the login holds, and whether the token came from ROOMWATCH_TOKEN or a stored login; or
 * that the hub is open and asks for no login at all. A user of some rooms only is told so, and how
 * an admin gives every room: rooms scope what everyone sees, admins included (docs/ADMIN.md).
 */
import { checkWhoamiBody } from '../access-types.ts';
import type { CommandSpec } from '../command.ts';
import { ExitCode } from '../errors.ts';
import { formatOptionalClock, printable, roomsPhrase } from '../format.ts';
import { oneLine } from '../json-output.ts';
import { ALL_ROOMS } from './access-values.ts';

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
    const note = roomsNote(who);
    ctx.stdout.write(lines.map(([name, value]) => `${name?.padEnd(6)} ${value}`).join('\n') + '\n' + (note ? `\n${note}\n` : ''));
    return ExitCode.Done;
  },
};

/** For a user of some rooms only: that nothing else shows, not even for an admin, and how to get every room. */
export function roomsNote(who: { user: string; role: string; rooms: readonly string[] }): string | undefined {
  if (who.rooms.includes(ALL_ROOMS)) return undefined;
  const by = who.role === 'admin' ? 'you, as an admin, or another admin' : 'an admin';
  return [
    `You see the sensors and readings of ${roomsPhrase(who.rooms)} only${who.role === 'admin' ? ', admin or not' : ''}.`,
    `Every room, present and future, is given by ${by}: npm run cli -- users set ${printable(who.user)} --room '*'`,
  ].join('\n');
}
