/**
 * Which token the CLI sends to a hub (docs/ADMIN.md "Logging in"): ROOMWATCH_TOKEN when set,
 * else the login stored for that hub in credentials.json, unless it has expired. An expired
 * login is not sent (the hub would only refuse it); it is remembered so that, if the hub then
 * asks for a login, the CLI can say that this one expired rather than that none exists.
 */
import type { Env } from './args.ts';
import { CredentialsStore, credentialsPath, hubKey } from './credentials.ts';
import type { StoredLogin } from './credentials.ts';
import { displayUrlOf } from './hub-client.ts';

export type TokenSource = 'env' | 'login' | 'none';

export interface Session {
  /** The hub's key in the credentials file. */
  readonly hubKey: string;
  readonly store: CredentialsStore;
  /** Sent as `Authorization: Bearer <token>` with every request (JSON, streamed, WebSocket). */
  readonly token: string | undefined;
  readonly source: TokenSource;
  /** This hub's stored login when it was not sent because it has expired. */
  readonly expiredLogin: StoredLogin | undefined;
  /** The command that logs in to this hub, for advice: `npm run cli -- login`, with `--hub URL` when the hub came from the flag. */
  readonly loginCommand: string;
}

export interface SessionInput {
  hubUrl: URL;
  hubSource: 'flag' | 'env' | 'default';
  /** ROOMWATCH_TOKEN, checked already. */
  envToken: string | undefined;
  env: Env;
  nowMs: number;
}

export function openSession(input: SessionInput): Session {
  const key = hubKey(input.hubUrl);
  const store = new CredentialsStore(credentialsPath(input.env));
  const loginCommand = `npm run cli -- login${input.hubSource === 'flag' ? ` --hub ${displayUrlOf(input.hubUrl)}` : ''}`;
  const base = { hubKey: key, store, loginCommand };
  // The environment wins, and then the file is not even read: a damaged one must not stand in the way.
  if (input.envToken !== undefined) return { ...base, token: input.envToken, source: 'env', expiredLogin: undefined };
  const stored = store.get(key);
  if (stored === undefined) return { ...base, token: undefined, source: 'none', expiredLogin: undefined };
  if (stored.expires_at <= input.nowMs) return { ...base, token: undefined, source: 'none', expiredLogin: stored };
  return { ...base, token: stored.token, source: 'login', expiredLogin: undefined };
}
