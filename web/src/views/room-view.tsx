/**
 * A room: one chart per metric (every metric the room has, not only the well-known ones), one
 * line per sensor, for the range and zoom in the URL. The data is one bucketed history.csv of
 * the room (at most about two buckets per pixel), then the room's live readings while the range
 * reaches the present. The page never asks about a room that is not the user's: such a URL shows
 * a message and makes no request.
 */
import { useEffect, useLayoutEffect, useMemo, useRef, useState } from 'preact/hooks';
import type { SensorsBody } from '../../../protocol/api.ts';
import { getJson } from '../api.ts';
import { MetricChart } from '../charts/metric-chart.tsx';
import { seriesColor } from '../charts/colors.ts';
import { now } from '../clock.ts';
import { live } from '../live.ts';
import { navigate, place, withQuery } from '../router.ts';
import { RangeBar } from '../room/range-bar.tsx';
import { RoomData } from '../room/room-data.ts';
import { dropEarlyHistory, takeEarlyHistory, type EarlyHistory } from '../room/early-history.ts';
import { chooseEvery, plotWidthPx, rangeOf, rangeParams, windowKey, windowOf, zoomOf, zoomParam, type Span } from '../room/view-window.ts';
import { mayActAs, roomAllowed, type Session } from '../session.ts';
import { DownloadCsv } from './download-csv.tsx';
import { LoadStatus } from './load-status.tsx';
import { ReportNow } from './report-now.tsx';

export function RoomView({ room, session }: { room: string; session: Session }) {
  if (!roomAllowed(session, room)) {
    dropEarlyHistory();
    return (
      <section aria-labelledby="room-title">
        <h1 id="room-title">Room {room}</h1>
        <p class="problem" role="alert">
          {room} is not one of your rooms ({session.rooms.join(', ') || 'none'}). <a href="/">Back to the overview</a>
        </p>
      </section>
    );
  }
  return <AllowedRoom room={room} session={session} />;
}

function AllowedRoom({ room, session }: { room: string; session: Session }) {
  const [data] = useState(() => new RoomData(room));
  const [roomSensors, setRoomSensors] = useState<string[]>([]);
  const drawn = useRef(new Set<string>());
  const [drawnAt, setDrawnAt] = useState<number | null>(null);
  const query = place.value.query;
  const range = rangeOf(query);
  const zoom = zoomOf(query);
  const key = windowKey(query);
  // The export asked for as the page started, when there is one for this room and window: its
  // window is the view's first (its `to` is when it was asked for), and it is used once.
  const early = useRef<EarlyHistory | null | undefined>(undefined);
  if (early.current === undefined) early.current = takeEarlyHistory(room, key);
  const loadWindow = useMemo(() => early.current?.window ?? windowOf(range, zoom, Date.now()), [key]);
  const loaded = data.loaded.value;
  const version = data.version.value;
  const t = now.value;

  // Layout effects run before the first paint, not after it: the view's requests leave a frame sooner.
  useLayoutEffect(() => void performance.mark('roomwatch:room-open'), []);

  const reload = async (w = windowOf(range, zoom, Date.now())): Promise<void> => {
    drawn.current.clear();
    setDrawnAt(null);
    const e = early.current;
    early.current = null;
    if (e && w === e.window) return data.load(w, e.every, w.live, e);
    e?.abort.abort();
    await data.load(w, chooseEvery(w.to - w.from, plotWidthPx()), w.live);
  };
  const reloadRef = useRef(reload);
  reloadRef.current = reload;
  useLayoutEffect(() => void reload(loadWindow), [key]);

  // After the history (it leaves first): the live stream and the room's sensors.
  useLayoutEffect(() => {
    const stop = live.follow({ room: [room], replay: 0, onReading: (r) => data.add(r), onGap: () => void reloadRef.current() });
    getJson<SensorsBody>('/api/v1/sensors')
      .then(({ sensors }) => setRoomSensors(sensors.filter((s) => s.room === room).map((s) => s.sensor)))
      .catch(() => setRoomSensors([]));
    return () => {
      stop();
      data.cancel();
    };
  }, [room]);

  // A live window slides with the clock: the x range moves, and buckets that left it are dropped.
  // It moves a pixel's worth at a time (1 h: every 3 s, 24 h: every 72 s), not every second: a
  // move redraws every chart, and ten open views redrawing every second cost a core here.
  const spanMs = loadWindow.to - loadWindow.from;
  const step = Math.max(1_000, Math.floor(spanMs / plotWidthPx()));
  const slid = Math.floor(t / step) * step;
  const x: Span = loadWindow.live && !loadWindow.zoomed ? { from: slid - spanMs, to: slid } : loadWindow;
  data.shown = x;
  useEffect(() => {
    if (loadWindow.live && !loadWindow.zoomed && loaded) data.dropBefore(x.from - loaded.every.ms);
  }, [x.from]);

  const sensorOrder = useMemo(() => {
    const all = new Set(roomSensors);
    for (const table of data.tables.values()) for (const s of table.sensors) all.add(s);
    return [...all].sort();
  }, [roomSensors, version]);
  const colorOf = (sensor: string): string => seriesColor(Math.max(0, sensorOrder.indexOf(sensor)));
  const tables = [...data.tables.values()].sort((a, b) => (a.metric < b.metric ? -1 : 1));

  const onDrawn = (metric: string): void => {
    if (data.state.value !== 'ready' || drawnAt !== null) return;
    drawn.current.add(metric);
    if (drawn.current.size >= data.tables.size) {
      performance.mark('roomwatch:charts-drawn');
      setDrawnAt(performance.now());
    }
  };
  // A room with no readings in the range has nothing to draw: it is drawn as it is.
  useEffect(() => {
    if (data.state.value === 'ready' && data.tables.size === 0 && drawnAt === null) {
      performance.mark('roomwatch:charts-drawn');
      setDrawnAt(performance.now());
    }
  }, [version, data.state.value]);
  const setZoom = (z: Span | null): void => navigate(withQuery(zoomParam(z)), { replace: false });

  return (
    <section aria-labelledby="room-title" class="room">
      <h1 id="room-title">Room {room}</h1>
      <RangeBar key={key} range={range} window={loadWindow} onRange={(r) => navigate(withQuery(rangeParams(r)))} onZoom={setZoom} />
      <div class="actions">
        {mayActAs(session, 'operator') && <ReportNow rooms={[room]} label={`asks every sensor in ${room}`} />}
        {loaded && <DownloadCsv room={room} span={x} every={loaded.every} />}
      </div>
      <LoadStatus state={data.state.value} error={data.error.value} loaded={loaded} />
      <div class="charts" data-state={drawnAt !== null ? 'drawn' : data.state.value}>
        {data.state.value === 'ready' && tables.length === 0 && <p>No readings in {room} in this range.</p>}
        {tables.map((table) => (
          <MetricChart
            key={`${table.metric}|${loaded?.every.ms}`}
            table={table}
            version={version}
            x={x}
            colorOf={colorOf}
            band={(loaded?.every.ms ?? 0) > 1_000}
            onZoom={setZoom}
            onResetZoom={() => setZoom(null)}
            onDrawn={onDrawn}
          />
        ))}
      </div>
    </section>
  );
}
