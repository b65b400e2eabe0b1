/**
 * A room view's history asked for as the page starts (main.tsx), while whoami is on its way,
 * when the page is opened on a room view: the export runs while the page loads the session and
 * draws its frame, not after them (on a busy machine, whoami and the first render were a
 * quarter of a 1 h view's time to drawn).
 *
 * Only where that asks for nothing the user may not see: on a hub whose page says it is open
 * (hub/http/web-route.ts: no users, so every room is everyone's), and without credentials (no
 * cookie goes with it). Should the hub have got its first user since the page was served, it
 * answers 401 and no data, and the view asks again once whoami has said the room is the user's.
 * On a hub with users the page always waits for whoami: it never asks about a room that is not
 * the user's, not even without credentials.
 */
import { routeOf } from '../router.ts';
import { chartHistoryUrl } from './room-data.ts';
import { chooseEvery, plotWidthPx, rangeOf, windowOf, windowKey, zoomOf, type Every, type ViewWindow } from './view-window.ts';

export interface EarlyHistory {
  room: string;
  /** the URL's range and zoom (windowKey): the view takes it only for the same */
  key: string;
  window: ViewWindow;
  every: Every;
  response: Promise<Response>;
  abort: AbortController;
}

let early: EarlyHistory | null = null;

/** Whether the hub said, in the page it served, that it has no users (hub/http/web-route.ts OPEN_HUB_META). */
function openHubPage(): boolean {
  return document.querySelector('meta[name="roomwatch-hub"]')?.getAttribute('content') === 'open';
}

/** Asks for the history of the room view at `path` and `query`, when it may (see above). */
export function startEarlyHistory(path: string, query: URLSearchParams): void {
  const route = routeOf(path);
  if (route.view !== 'room' || !openHubPage()) return;
  const window = windowOf(rangeOf(query), zoomOf(query), Date.now());
  const every = chooseEvery(window.to - window.from, plotWidthPx());
  const abort = new AbortController();
  const response = fetch(chartHistoryUrl(route.room, window, every), { credentials: 'omit', cache: 'no-store', signal: abort.signal });
  response.catch(() => {}); // seen by the view that takes it, or by nobody once dropped
  early = { room: route.room, key: windowKey(query), window, every, response, abort };
}

/** The early history of this room and window, once; another one is dropped. */
export function takeEarlyHistory(room: string, key: string): EarlyHistory | null {
  const e = early;
  early = null;
  if (e && (e.room !== room || e.key !== key)) {
    e.abort.abort();
    return null;
  }
  return e;
}

/** The page shows something else (the login form, another view): the export's place is freed. */
export function dropEarlyHistory(): void {
  early?.abort.abort();
  early = null;
}
