/**
 * Builds the dashboard (web/, entry web/src/main.tsx) into .build/web/: `index.html`, which loads
 * the hashed `assets/main-HASH.js` and `assets/main-HASH.css` and holds no inline script (the
 * hub's Content-Security-Policy allows none), with every library bundled (no CDN, no web font).
 *
 *   npm run build:web                  # also run by `npm install` / `npm ci` (the `prepare` script)
 *   tsx scripts/build-web.ts --if-stale
 *
 * The hub calls `ensureWebBuild()` at start: it builds only when the build is missing or older
 * than its sources, so a fresh clone needs nothing but `npm install`, and an edited page is
 * rebuilt by the next start. The new build is written beside the old one and moved into place,
 * so a hub serving the old one, or a second hub building at the same time, never reads half.
 */
import { build } from 'esbuild';
import { rm, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildStaleness, moveIntoPlace, packageRoot } from './build-freshness.ts';

/** Found from package.json, not from this file: the hub bundles this module into .build/server/. */
export const REPO_ROOT = packageRoot(import.meta.url);
export const WEB_SOURCE_DIR = join(REPO_ROOT, 'web');
export const WEB_BUILD_DIR = join(REPO_ROOT, '.build', 'web');
const ENTRY = join(WEB_SOURCE_DIR, 'src', 'main.tsx');

/** What a build's `index.html` depends on besides web/: this script and the libraries' versions. */
const OTHER_INPUTS = [join(REPO_ROOT, 'scripts', 'build-web.ts'), join(REPO_ROOT, 'package-lock.json')];

export interface WebBuild {
  dir: string;
  /** the asset file names (under `assets/`), hashed */
  assets: string[];
  ms: number;
}

/** Why the build in `dir` must be made again, or null when it is up to date. */
export function webBuildStaleness(dir: string = WEB_BUILD_DIR): string | null {
  return buildStaleness(join(dir, 'index.html'), [WEB_SOURCE_DIR, ...OTHER_INPUTS]);
}

function indexHtml(js: string, css: string): string {
  // Absolute asset paths: the page is also served at /room/NAME and other nested routes.
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>Roomwatch</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="/assets/${css}">
<script type="module" src="/assets/${js}"></script>
</head>
<body>
<div id="app"></div>
<noscript>The Roomwatch dashboard needs JavaScript; the CLI (npm run cli) reads the same data.</noscript>
</body>
</html>
`;
}

/** Builds the dashboard into `dir` (replacing what is there) and says what it wrote. */
export async function buildWeb(dir: string = WEB_BUILD_DIR): Promise<WebBuild> {
  const started = performance.now();
  const staging = `${dir}.tmp-${process.pid}-${Date.now()}`;
  await rm(staging, { recursive: true, force: true });
  try {
    const result = await build({
      entryPoints: [ENTRY],
      bundle: true,
      format: 'esm',
      platform: 'browser',
      target: ['chrome109', 'firefox115', 'safari16'],
      minify: true,
      sourcemap: false,
      legalComments: 'none',
      jsx: 'automatic',
      jsxImportSource: 'preact',
      outdir: join(staging, 'assets'),
      entryNames: '[name]-[hash]',
      assetNames: '[name]-[hash]',
      metafile: true,
      logLevel: 'silent',
    });
    const assets = Object.keys(result.metafile.outputs).map((p) => basename(p));
    const js = assets.find((a) => a.endsWith('.js'));
    const css = assets.find((a) => a.endsWith('.css'));
    if (!js || !css) throw new Error(`the dashboard build wrote no ${js ? 'CSS' : 'JavaScript'} (outputs: ${assets.join(', ')})`);
    await writeFile(join(staging, 'index.html'), indexHtml(js, css));
    await moveIntoPlace(staging, dir);
    return { dir, assets, ms: performance.now() - started };
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
}

/** Builds when the build is missing or stale; answers whether it built. */
export async function ensureWebBuild(dir: string = WEB_BUILD_DIR): Promise<WebBuild | null> {
  return webBuildStaleness(dir) === null ? null : buildWeb(dir);
}

async function main(): Promise<void> {
  const ifStale = process.argv.includes('--if-stale');
  const built = ifStale ? await ensureWebBuild() : await buildWeb();
  if (built) process.stdout.write(`dashboard built in ${Math.round(built.ms)} ms: ${built.assets.join(', ')} in ${built.dir}\n`);
  else process.stdout.write(`dashboard build in ${WEB_BUILD_DIR} is up to date\n`);
}

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === process.argv[1]) {
  main().catch((err: Error) => {
    process.stderr.write(`the dashboard did not build: ${err.message}\n`);
    process.exitCode = 1;
  });
}
