/**
 * The activity log for the admin view, live: the newest 100 events from `GET /api/v1/activity`,
 * then `GET /api/v1/activity/stream?after=LAST` (a WebSocket, authenticated by the session
 * cookie) pushes each new batch. After a drop the socket is opened again from the last event
 * received, so nothing is missed or shown twice. A hub without the activity stream (its upgrade
 * refused every time) is followed the API's other way: `?after=LAST` every few seconds.
 */
import { useEffect, useState } from 'preact/hooks';
import type { ActivityBody, ActivityEvent } from '../../../protocol/api.ts';
import { describeError, getJson, query } from '../api.ts';

/** events kept on the page: the newest */
const MAX_EVENTS = 500;
const POLL_MS = 3_000;
/** upgrades refused in a row before the page polls instead */
const MAX_FAILED_OPENS = 3;

export function useActivity(): { events: ActivityEvent[]; error: string | null; live: boolean } {
  const [events, setEvents] = useState<ActivityEvent[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [live, setLive] = useState(false);

  useEffect(() => {
    let last = 0;
    let stopped = false;
    let ws: WebSocket | null = null;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let failedOpens = 0;
    let backoffMs = 500;

    const add = (batch: ActivityEvent[]): void => {
      const fresh = batch.filter((e) => e.id > last);
      if (fresh.length === 0) return;
      last = fresh.at(-1)!.id;
      setEvents((old) => [...fresh.reverse(), ...old].slice(0, MAX_EVENTS));
    };

    const poll = async (): Promise<void> => {
      try {
        const page = await getJson<ActivityBody>(`/api/v1/activity${query({ after: last, limit: 1000 })}`);
        add(page.events);
        last = Math.max(last, page.last_id);
        setError(null);
      } catch (err) {
        setError(describeError(err));
      }
      if (!stopped) timer = setTimeout(() => void poll(), POLL_MS);
    };

    const follow = (): void => {
      const scheme = window.location.protocol === 'https:' ? 'wss' : 'ws';
      const socket = new WebSocket(`${scheme}://${window.location.host}/api/v1/activity/stream${query({ after: last })}`);
      ws = socket;
      let opened = false;
      socket.onopen = () => {
        opened = true;
        failedOpens = 0;
        backoffMs = 500;
        setLive(true);
        setError(null);
      };
      socket.onmessage = (m) => {
        const msg = JSON.parse(String(m.data)) as { type?: string; events?: ActivityEvent[]; message?: string };
        if (msg.type === 'activity' && msg.events) add(msg.events);
        else if (msg.type === 'error') setError(msg.message ?? 'the activity stream ended');
      };
      socket.onclose = () => {
        setLive(false);
        if (stopped || ws !== socket) return;
        if (!opened && ++failedOpens >= MAX_FAILED_OPENS) return void poll();
        timer = setTimeout(follow, backoffMs);
        backoffMs = Math.min(15_000, backoffMs * 2);
      };
    };

    getJson<ActivityBody>(`/api/v1/activity${query({ limit: 100 })}`)
      .then((page) => {
        add(page.events);
        last = Math.max(last, page.last_id);
        if (!stopped) follow();
      })
      .catch((err) => setError(describeError(err)));

    return () => {
      stopped = true;
      clearTimeout(timer);
      ws?.close();
    };
  }, []);
  return { events, error, live };
}
