/**
 * The page's routes live in the URL (path and query), so a reload or a shared link shows the
 * same view: `/` overview, `/room/NAME?range=…&zoom=…`, `/sensors`, `/alerts`, `/upload`, `/admin`. The
 * hub answers each with index.html (hub/http/web-route.ts); links inside the page change the
 * history instead of loading it again.
 */
import { signal } from '@preact/signals';

export interface Place {
  path: string;
  query: URLSearchParams;
}

function current(): Place {
  return { path: window.location.pathname, query: new URLSearchParams(window.location.search) };
}

export const place = signal<Place>(current());

/** Goes to `url` (same origin); `replace` for a change that is not a step back-able on its own (a zoom). */
export function navigate(url: string, options: { replace?: boolean } = {}): void {
  if (options.replace) window.history.replaceState(null, '', url);
  else window.history.pushState(null, '', url);
  place.value = current();
}

/** The same path with some query parameters set (a string) or removed (undefined). */
export function withQuery(changes: Record<string, string | undefined>): string {
  const q = new URLSearchParams(place.value.query);
  for (const [k, v] of Object.entries(changes)) {
    if (v === undefined) q.delete(k);
    else q.set(k, v);
  }
  const s = q.toString();
  return `${place.value.path}${s ? `?${s}` : ''}`;
}

export function roomPath(room: string): string {
  return `/room/${encodeURIComponent(room)}`;
}

export type Route =
  | { view: 'overview' }
  | { view: 'room'; room: string }
  | { view: 'sensors' }
  | { view: 'alerts' }
  | { view: 'upload' }
  | { view: 'admin' }
  | { view: 'missing'; path: string };

export function routeOf(path: string): Route {
  if (path === '/' || path === '') return { view: 'overview' };
  if (path === '/sensors') return { view: 'sensors' };
  if (path === '/alerts') return { view: 'alerts' };
  if (path === '/upload') return { view: 'upload' };
  if (path === '/admin') return { view: 'admin' };
  const room = /^\/room\/([^/]+)$/.exec(path);
  if (room) {
    try {
      return { view: 'room', room: decodeURIComponent(room[1]!) };
    } catch {
      return { view: 'missing', path };
    }
  }
  return { view: 'missing', path };
}

/** Clicks on same-origin links move within the page (modifier keys and downloads keep the browser's way). */
export function startRouter(): void {
  window.addEventListener('popstate', () => (place.value = current()));
  document.addEventListener('click', (event) => {
    if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
    const a = (event.target as Element | null)?.closest('a');
    if (!a || a.hasAttribute('download') || a.target || a.origin !== window.location.origin) return;
    if (a.pathname.startsWith('/api/')) return;
    event.preventDefault();
    navigate(`${a.pathname}${a.search}`);
  });
}
