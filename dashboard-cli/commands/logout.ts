/**
 * `logout`: ends the stored login's session on the hub (`POST /api/v1/logout` with its token) and
 * forgets the token. A 401 means the session had ended already, which is what was wanted. The
 * token is forgotten here even when the hub cannot be told; it then says until when the session
 * stays valid on the hub, and exits as the failure says (3: no connection).
 *
 * ROOMWATCH_TOKEN is not touched: it may be a token that scripts share, and it is not this CLI's
 * to end. A note says that it is still set and still sent.
 */
import { checkAnything } from '../access-types.ts';
import type { CommandSpec } from '../command.ts';
import { ExitCode, HubRefused } from '../errors.ts';
import { formatClock, printable } from '../format.ts';

export const LOGOUT_PATH = '/api/v1/logout';

export const logoutCommand: CommandSpec = {
  name: 'logout',
  summary: "end this hub's stored login and forget its token",
  filterFlags: false,
  details: [
    'The hub is told to end the session, then the token is removed from credentials.json.',
    'ROOMWATCH_TOKEN, if set, is left alone (unset it yourself).',
  ],
  async run(ctx) {
    const { store, hubKey, source } = ctx.session;
    const stored = store.get(hubKey);
    const note = (): void => {
      if (source === 'env') ctx.stderr.write('roomwatch: note: ROOMWATCH_TOKEN is still set, and is still sent: unset it too\n');
    };
    if (stored === undefined) {
      ctx.stdout.write(`not logged in to ${ctx.hub.displayUrl}\n`);
      note();
      return ExitCode.Done;
    }
    let failure: Error | undefined;
    // An expired token would only be refused; the session has ended on the hub already.
    if (stored.expires_at > ctx.now()) {
      try {
        await ctx.hub.requestJson('POST', LOGOUT_PATH, checkAnything, { token: stored.token });
      } catch (error) {
        if (!(error instanceof HubRefused && error.status === 401)) failure = error instanceof Error ? error : new Error(String(error));
      }
    }
    store.forget(hubKey);
    ctx.stdout.write(`logged out of ${ctx.hub.displayUrl} (was ${printable(stored.user)})\n`);
    note();
    if (failure !== undefined) {
      ctx.stderr.write(
        `roomwatch: the token is forgotten here, but the hub could not be told to end the session; it stays valid until ${formatClock(stored.expires_at)}\n`,
      );
      throw failure;
    }
    return ExitCode.Done;
  },
};
