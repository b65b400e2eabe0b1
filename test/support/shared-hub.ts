/**
 * One in-process hub shared by the tests of a file that need no special options. It starts on
 * first use, so a hub that fails to start fails each test with its own message (a throwing
 * `test.before` would hide it), and `stopSharedHubs` in `test.after` stops it.
 */
import { startHub, type HubOptions, type InProcessHub } from './hub-process.ts';
import { Teardown } from './teardown.ts';

const fileScope = new Teardown();

export function sharedHub(overrides: Partial<HubOptions> = {}): () => Promise<InProcessHub> {
  let starting: Promise<InProcessHub> | undefined;
  return () => (starting ??= startHub(overrides, fileScope));
}

/** For `test.after`: stops every shared hub of this file and removes its data dir. */
export function stopSharedHubs(): Promise<void> {
  return fileScope.run();
}
