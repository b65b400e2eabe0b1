/** A session for commands run in-process by tests: no token, and a credentials file nobody writes. */
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { CredentialsStore } from '../credentials.ts';
import type { Session } from '../session.ts';

export function sessionStub(): Session {
  return {
    hubKey: 'http://hub.test',
    store: new CredentialsStore(join(tmpdir(), `roomwatch-test-no-credentials-${process.pid}`, 'credentials.json')),
    token: undefined,
    source: 'none',
    expiredLogin: undefined,
    loginCommand: 'npm run cli -- login',
  };
}
