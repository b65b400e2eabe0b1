/**
 * The dashboard, served on the API's port (docs/DASHBOARD.md): `GET /` and the page's other
 * routes answer `index.html` (no-cache: it names the current assets), `/assets/NAME` the hashed
 * files (cached for a year: a new build has new names). Every answer carries a
 * Content-Security-Policy that allows no inline script and no origin but the hub's own, so the
 * page runs only the hub's files and talks only to the hub.
 *
 * At start the build (scripts/build-web.ts, into .build/web/) is made when missing or older than
 * web/, then its few files are held in memory, gzipped once. They carry no data, so they are
 * served without a login: the page itself asks for one.
 *
 * On an open hub (no users) index.html says so (`<meta name="roomwatch-hub" content="open">`,
 * OPEN_HUB_META): every room is everyone's there, so a page opened on a room view asks for its
 * history at once, without waiting for whoami (web/src/room/early-history.ts). A hub with users
 * never says it, and the page waits to learn the user's rooms before asking about any.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { AnyParameters, NoParameters } from '../../protocol/schemas/common.ts';
import { ensureWebBuild, WEB_BUILD_DIR } from '../../scripts/build-web.ts';
import { HubError } from '../hub-error.ts';
import { acceptsGzip } from './rendered-body.ts';

export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data: blob:",
  "connect-src 'self'",
  "frame-ancestors 'none'",
  "base-uri 'none'",
  "form-action 'self'",
].join('; ');

/** The page's own routes (web/src/router.ts): each is index.html, the page reads the path. */
export const PAGE_PATHS = ['/', '/sensors', '/alerts', '/upload', '/admin', '/room/:room'] as const;

const TYPES: ReadonlyMap<string, string> = new Map([
  ['.js', 'text/javascript; charset=utf-8'],
  ['.css', 'text/css; charset=utf-8'],
  ['.html', 'text/html; charset=utf-8'],
]);

interface WebFile {
  type: string;
  body: Buffer;
  gzip: Buffer;
}

/** What index.html carries on an open hub, right after `<head>`. */
export const OPEN_HUB_META = '<meta name="roomwatch-hub" content="open">';

export interface WebRouteOptions {
  /** whether the hub has no users now (the first user ends it); default: never said */
  openHub?: () => boolean;
  /** the built page; default .build/web/ of this checkout */
  dir?: string;
  /** build at start when missing or stale (default true) */
  build?: boolean;
}

function webFile(name: string, body: Buffer): WebFile {
  return { type: TYPES.get(name.slice(name.lastIndexOf('.'))) ?? 'application/octet-stream', body, gzip: gzipSync(body, { level: 9 }) };
}

async function loadFile(path: string, name: string): Promise<WebFile> {
  return webFile(name, await readFile(path));
}

/** The build's files: index.html (also as an open hub serves it), and by name the assets. */
async function loadSite(dir: string): Promise<{ index: WebFile; openIndex: WebFile; assets: Map<string, WebFile> }> {
  const index = await loadFile(join(dir, 'index.html'), 'index.html');
  const html = index.body.toString('utf8');
  if (!html.includes('<head>')) throw new Error(`${join(dir, 'index.html')} has no <head>: run npm run build:web`);
  const openIndex = webFile('index.html', Buffer.from(html.replace('<head>', `<head>\n${OPEN_HUB_META}`), 'utf8'));
  /** by file name */
  const assets = new Map<string, WebFile>();
  for (const name of await readdir(join(dir, 'assets'))) assets.set(name, await loadFile(join(dir, 'assets', name), name));
  return { index, openIndex, assets };
}

function send(request: FastifyRequest, reply: FastifyReply, file: WebFile, cacheControl: string): FastifyReply {
  reply.header('content-security-policy', CONTENT_SECURITY_POLICY);
  reply.header('x-content-type-options', 'nosniff');
  reply.header('referrer-policy', 'same-origin');
  reply.header('cache-control', cacheControl);
  reply.header('vary', 'accept-encoding');
  reply.type(file.type);
  // q-values count: `gzip;q=0` refuses gzip, `*` accepts it (the rule latest's answers follow)
  if (acceptsGzip(request.headers['accept-encoding'])) {
    reply.header('content-encoding', 'gzip');
    return reply.send(file.gzip);
  }
  return reply.send(file.body);
}

export function registerWebRoute(app: FastifyInstance, options: WebRouteOptions = {}): void {
  const dir = options.dir ?? WEB_BUILD_DIR;
  void app.register(async (scope) => {
    let site: Awaited<ReturnType<typeof loadSite>> | null = null;
    let problem = '';
    try {
      if (options.build !== false) {
        const built = await ensureWebBuild(dir);
        if (built) scope.log.info({ ms: Math.round(built.ms), assets: built.assets }, 'dashboard built');
      }
      site = await loadSite(dir);
    } catch (err) {
      // The API works without the page: the hub starts, and / says how to get the page back.
      problem = (err as Error).message;
      scope.log.error({ err }, 'the dashboard is not served: its build failed or is missing');
    }

    const page = async (request: FastifyRequest, reply: FastifyReply) => {
      if (!site) throw new HubError('internal', `the dashboard is not built (${problem}); run npm run build:web and restart the hub`);
      return send(request, reply, options.openHub?.() ? site.openIndex : site.index, 'no-cache');
    };
    for (const path of PAGE_PATHS) scope.get(path, { config: { public: true }, schema: { querystring: AnyParameters } }, page);

    scope.get<{ Params: { file: string } }>(
      '/assets/:file',
      { config: { public: true }, schema: { querystring: NoParameters } },
      async (request, reply) => {
        const file = site?.assets.get(request.params.file);
        if (!file)
          throw new HubError('not_found', `no dashboard file ${request.params.file.slice(0, 80)}; reload the page for the current ones`);
        return send(request, reply, file, 'public, max-age=31536000, immutable');
      },
    );
  });
}
