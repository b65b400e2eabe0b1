/**
 * Loaded before every test file by `npm test` (`node --import tsx --import <this file>`):
 * gives each uvu test a time budget (test-timeouts.ts). To get the same when running one file
 * by hand: `node --import tsx --import ./test/support/test-timeouts-register.ts FILE`.
 */
import { register } from 'node:module';

register('./test-timeouts-hooks.ts', import.meta.url, {
  data: { wrapperUrl: new URL('./test-timeouts.ts', import.meta.url).href },
});
