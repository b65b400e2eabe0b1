/**
 * Module hooks (registered by test-timeouts-register.ts): `import ... from 'uvu'` in a test
 * file resolves to test-timeouts.ts, which imports the real uvu. Test files keep the plain
 * import, so they read as ordinary uvu tests and need no edit to get a time budget.
 */
import type { InitializeHook, ResolveHook } from 'node:module';

let wrapperUrl = '';

export const initialize: InitializeHook<{ wrapperUrl: string }> = (data) => {
  wrapperUrl = data.wrapperUrl;
};

export const resolve: ResolveHook = (specifier, context, nextResolve) => {
  // Resolved through the next hooks (tsx), which know how to load a .ts file.
  if (specifier === 'uvu' && context.parentURL !== wrapperUrl) return nextResolve(wrapperUrl, context);
  return nextResolve(specifier, context);
};
