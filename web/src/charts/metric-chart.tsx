/**
 * One metric of a room as a uPlot chart in a `<figure>` whose `<figcaption>` names the metric:
 * a line per sensor (each bucket's mean) over a min-max band when buckets hold several readings.
 * Dragging across the chart zooms (the zoom goes to the URL through `onZoom`); double-click, or
 * the range bar's "Reset zoom", goes back. The canvas is redrawn in place as live readings come.
 */
import { useLayoutEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import type { SeriesTable } from '../room/series-table.ts';
import type { Span } from '../room/view-window.ts';
import { withAlpha } from './colors.ts';

export interface MetricChartProps {
  table: SeriesTable;
  /** moves when the table's data changed */
  version: number;
  /** the x range to show (the window in view) */
  x: Span;
  colorOf: (sensor: string) => string;
  band: boolean;
  onZoom: (span: Span) => void;
  onResetZoom: () => void;
  onDrawn: (metric: string) => void;
}

const HEIGHT_PX = 240;

function cssVar(name: string, fallback: string): string {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || fallback;
}

/** uPlot's data: x, then the band's max and min columns of every sensor, then the means (lines drawn over every band). */
function dataOf(table: SeriesTable, band: boolean): uPlot.AlignedData {
  const cols = table.sensors.map((s) => table.columnsOf(s));
  const bands = band ? [...cols.map((c) => c.max), ...cols.map((c) => c.min)] : [];
  return [table.xs, ...bands, ...cols.map((c) => c.mean)];
}

function optionsOf(props: MetricChartProps, width: number, xRange: () => Span): uPlot.Options {
  const { table, band, colorOf } = props;
  const n = table.sensors.length;
  const axis = cssVar('--chart-axis', '#555');
  const grid = cssVar('--chart-grid', 'rgba(128,128,128,0.2)');
  const hidden = (sensor: string, what: string): uPlot.Series => ({
    label: `${sensor} ${what}`,
    stroke: colorOf(sensor),
    width: 0,
    points: { show: false },
    spanGaps: false,
  });
  const series: uPlot.Series[] = [
    {},
    ...(band ? [...table.sensors.map((s) => hidden(s, 'max')), ...table.sensors.map((s) => hidden(s, 'min'))] : []),
    ...table.sensors.map((s) => ({ label: s, stroke: colorOf(s), width: 2, points: { show: false }, spanGaps: true })),
  ];
  const bands: uPlot.Band[] = band
    ? table.sensors.map((s, i) => ({ series: [1 + i, 1 + n + i] as [number, number], fill: withAlpha(colorOf(s), 0.18) }))
    : [];
  return {
    width,
    height: HEIGHT_PX,
    ms: 1,
    series,
    bands,
    legend: { show: false },
    scales: {
      x: {
        time: true,
        range: () => {
          const x = xRange();
          return [x.from, x.to];
        },
      },
    },
    axes: [
      { stroke: axis, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid, width: 1 } },
      { stroke: axis, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid, width: 1 }, size: 56 },
    ],
    cursor: { drag: { x: true, y: false, setScale: false }, points: { show: false } },
  };
}

export function MetricChart(props: MetricChartProps) {
  const holder = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | null>(null);
  const latest = useRef(props);
  latest.current = props;
  const { table, band } = props;
  const shape = `${table.sensors.join(',')}|${band}`;

  // Made again only when the lines change (a new sensor, a band appears); data and range update in
  // place. Made before the first paint (a layout effect), so the charts are drawn a frame sooner.
  const drawnWith = useRef<unknown[] | null>(null);
  useLayoutEffect(() => {
    const el = holder.current!;
    const opts = optionsOf(latest.current, Math.max(200, el.clientWidth), () => latest.current.x);
    opts.hooks = {
      draw: [() => latest.current.onDrawn(latest.current.table.metric)],
      setSelect: [
        (u) => {
          if (u.select.width < 4) return;
          const from = Math.round(u.posToVal(u.select.left, 'x'));
          const to = Math.round(u.posToVal(u.select.left + u.select.width, 'x'));
          u.setSelect({ left: 0, top: 0, width: 0, height: 0 }, false);
          if (to > from) latest.current.onZoom({ from, to });
        },
      ],
    };
    const u = new uPlot(opts, dataOf(latest.current.table, latest.current.band), el);
    plot.current = u;
    drawnWith.current = [latest.current.version, latest.current.x.from, latest.current.x.to];
    const dblclick = (): void => latest.current.onResetZoom();
    u.over.addEventListener('dblclick', dblclick);
    const resize = new ResizeObserver(() => {
      const w = Math.max(200, el.clientWidth);
      if (w !== u.width) u.setSize({ width: w, height: HEIGHT_PX });
    });
    resize.observe(el);
    return () => {
      resize.disconnect();
      u.over.removeEventListener('dblclick', dblclick);
      u.destroy();
      plot.current = null;
    };
  }, [shape]);

  useLayoutEffect(() => {
    // The plot just made has this data drawn already: a second draw would double the first one's cost.
    const made = drawnWith.current;
    drawnWith.current = null;
    if (made && made[0] === props.version && made[1] === props.x.from && made[2] === props.x.to) return;
    plot.current?.setData(dataOf(table, band), true);
  }, [props.version, props.x.from, props.x.to]);

  const label = table.unit ? `${table.metric} (${table.unit})` : table.metric;
  return (
    <figure class="chart">
      <figcaption>{label}</figcaption>
      <div class="chart-plot" ref={holder} role="img" aria-label={`${label}: ${table.sensors.length} sensors; drag across to zoom`} />
      <ul class="legend" aria-label={`sensors in ${table.metric}`}>
        {table.sensors.map((s) => (
          <li key={s}>
            <span class="swatch" style={{ background: props.colorOf(s) }} aria-hidden="true" />
            {s}
          </li>
        ))}
      </ul>
    </figure>
  );
}
