// The repository stands alone: every relative link in its Markdown (README.md, docs/*.md and the
// other READMEs) names a file or folder inside the repository that a fresh clone has, and every
// #anchor a heading of the target (GitHub's slugs). A link to a file outside the repository (the
// contract's copy in a sibling folder, say) or to a heading that was renamed fails here.
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { REPO_ROOT } from '../support/hub-process.ts';

/** Folders no document of the repository lives in. */
const SKIP_DIRS = new Set(['node_modules', '.git', 'data']);

function markdownFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name.startsWith('.') || SKIP_DIRS.has(entry.name)) continue;
    const path = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...markdownFiles(path));
    else if (entry.name.endsWith('.md')) out.push(path);
  }
  return out;
}

/** The text outside fenced code blocks, line by line (inside them: empty lines); inline code spans blanked unless `keepCode`. */
function proseLines(text: string, keepCode = false): string[] {
  const lines: string[] = [];
  let fence: string | null = null;
  for (const line of text.split('\n')) {
    const opener = /^\s*(`{3,}|~{3,})/.exec(line)?.[1];
    if (fence === null && opener) fence = opener[0]!.repeat(opener.length);
    else if (fence !== null && opener?.startsWith(fence)) fence = null;
    else if (fence === null) lines.push(keepCode ? line : line.replace(/(`+)[^`]*?\1/g, (m) => ' '.repeat(m.length)));
    else lines.push('');
  }
  return lines;
}

/** GitHub's anchor for a heading (github-slugger): lower case, punctuation dropped, spaces to hyphens. */
export function slug(heading: string): string {
  const text = heading
    .replace(/\[([^\]]*)\]\([^)]*\)/g, '$1') // a link shows its text
    .replace(/[*`]/g, '')
    .trim()
    .toLowerCase();
  return text.replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '').replace(/ /g, '-');
}

const anchorCache = new Map<string, Set<string>>();

/** The anchors of a Markdown file: its headings' slugs (repeats numbered as GitHub does) and HTML ids. */
function anchorsOf(file: string): Set<string> {
  const cached = anchorCache.get(file);
  if (cached) return cached;
  const anchors = new Set<string>();
  const counts = new Map<string, number>();
  const raw = readFileSync(file, 'utf8');
  for (const line of proseLines(raw, true)) {
    const heading = /^#{1,6}\s+(.*?)\s*#*\s*$/.exec(line)?.[1];
    if (heading !== undefined) {
      const base = slug(heading);
      const n = counts.get(base) ?? 0;
      counts.set(base, n + 1);
      anchors.add(n === 0 ? base : `${base}-${n}`);
    }
    for (const m of line.matchAll(/<a\s+(?:id|name)="([^"]+)"/g)) anchors.add(m[1]!);
  }
  anchorCache.set(file, anchors);
  return anchors;
}

interface Link {
  file: string;
  line: number;
  target: string;
}

function linksOf(file: string): Link[] {
  const links: Link[] = [];
  proseLines(readFileSync(file, 'utf8')).forEach((text, i) => {
    for (const m of text.matchAll(/!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) links.push({ file, line: i + 1, target: m[1]! });
    const definition = /^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)/.exec(text);
    if (definition) links.push({ file, line: i + 1, target: definition[1]! });
  });
  return links;
}

/** What is wrong with a relative link, or null; links with a scheme (https:, mailto:) are not checked here. */
function problem(link: Link): string | null {
  if (/^[a-z][a-z0-9+.-]*:/i.test(link.target) || link.target.startsWith('//')) return null;
  const [pathPart = '', anchor] = link.target.split('#', 2) as [string, string | undefined];
  const target = pathPart === '' ? link.file : resolve(dirname(link.file), decodeURIComponent(pathPart));
  const inside = relative(REPO_ROOT, target);
  if (inside.startsWith('..') || inside.startsWith(sep)) return `${link.target} is outside the repository`;
  if (!existsSync(target)) return `${link.target}: no such file`;
  if (anchor === undefined || anchor === '') return null;
  if (statSync(target).isDirectory() || !target.endsWith('.md')) return null;
  return anchorsOf(target).has(anchor.toLowerCase()) ? null : `${link.target}: no heading with the anchor #${anchor}`;
}

/**
 * Paths the prose names in code spans (`hub/main.ts`, `test/support/certs.ts`): a file moved or
 * renamed leaves them behind as surely as a link. Only what looks like a repository path: a
 * slash, a file extension of the repository's, no glob or placeholder.
 */
function namedPaths(file: string): Link[] {
  const out: Link[] = [];
  readFileSync(file, 'utf8')
    .split('\n')
    .forEach((text, i) => {
      for (const m of text.matchAll(/`([A-Za-z0-9_.][^`\s*<>]*\/[^`\s*<>]*\.(?:ts|md|json|csv|txt|py|sh))`/g)) {
        out.push({ file, line: i + 1, target: m[1]! });
      }
    });
  return out;
}

const files = markdownFiles(REPO_ROOT);

test('the documents checked include README.md and docs/*.md', () => {
  const names = files.map((f) => relative(REPO_ROOT, f).split(sep).join('/'));
  assert.ok(names.includes('README.md'), names.join(', '));
  assert.ok(names.includes('docs/PROTOCOL.md'), names.join(', '));
  const named = namedPaths(join(REPO_ROOT, 'README.md')).map((p) => p.target);
  assert.ok(named.includes('test/support/certs.ts'), `paths named in README.md: ${named.join(', ')}`);
});

test('slugs are as GitHub makes them', () => {
  assert.is(slug('Sensor tokens (admin)'), 'sensor-tokens-admin');
  assert.is(slug('2. User API (HTTP, default port 8080)'), '2-user-api-http-default-port-8080');
  assert.is(slug('`GET /api/v1/stream` (WebSocket)'), 'get-apiv1stream-websocket');
  assert.is(slug('Users, roles and rooms'), 'users-roles-and-rooms');
});

test('every relative link in the Markdown resolves inside the repository, anchors included', () => {
  const broken = files
    .flatMap(linksOf)
    .map((link) => [link, problem(link)] as const)
    .filter(([, p]) => p !== null)
    .map(([link, p]) => `${relative(REPO_ROOT, link.file)}:${link.line}: ${p}`);
  assert.equal(broken, [], `broken links:\n${broken.join('\n')}`);
});

test('every repository path the Markdown names in code spans exists (from the root or from the document)', () => {
  const missing = files
    .flatMap(namedPaths)
    .filter((p) => !existsSync(join(REPO_ROOT, p.target)) && !existsSync(resolve(dirname(p.file), p.target)))
    .map((p) => `${relative(REPO_ROOT, p.file)}:${p.line}: ${p.target}`);
  assert.equal(missing, [], `paths that do not exist:\n${missing.join('\n')}`);
});

test.run();
