/**
 * The time controls of a room view: the presets (15 min, 1 h, 24 h, 7 d), a custom range (From,
 * To), and zoom in, out and reset, which do by keyboard what dragging on a chart does. Each
 * change goes to the URL; the room view reads it back from there.
 */
import { useState } from 'preact/hooks';
import { fromLocalInput, toLocalInput } from '../format.ts';
import { PRESETS, type Range, type Span, type ViewWindow } from './view-window.ts';

export interface RangeBarProps {
  range: Range;
  window: ViewWindow;
  onRange: (range: Range) => void;
  onZoom: (zoom: Span | null) => void;
}

export function RangeBar({ range, window: view, onRange, onZoom }: RangeBarProps) {
  const [from, setFrom] = useState(() => toLocalInput(view.from));
  const [to, setTo] = useState(() => toLocalInput(view.to));
  const [problem, setProblem] = useState<string | null>(null);

  const applyCustom = (event: Event): void => {
    event.preventDefault();
    const f = fromLocalInput(from);
    const t = fromLocalInput(to);
    if (f === null || t === null) return setProblem('Give both a start and an end.');
    if (t <= f) return setProblem('The end must be after the start.');
    setProblem(null);
    onRange({ kind: 'custom', from: f, to: t });
  };

  const zoomBy = (factor: number): void => {
    const mid = (view.from + view.to) / 2;
    const half = ((view.to - view.from) * factor) / 2;
    onZoom({ from: Math.round(mid - half), to: Math.round(mid + half) });
  };

  return (
    <div class="range-bar">
      <div class="presets" role="group" aria-label="Time range">
        {PRESETS.map((p) => (
          <button
            key={p.key}
            type="button"
            aria-pressed={range.kind === 'preset' && range.preset.key === p.key && !view.zoomed}
            onClick={() => onRange({ kind: 'preset', preset: p })}
          >
            {p.label}
          </button>
        ))}
      </div>
      <div class="zoom" role="group" aria-label="Zoom">
        <button type="button" onClick={() => zoomBy(0.5)}>
          Zoom in
        </button>
        <button type="button" onClick={() => zoomBy(2)}>
          Zoom out
        </button>
        {view.zoomed && (
          <button type="button" onClick={() => onZoom(null)}>
            Reset zoom
          </button>
        )}
      </div>
      <details class="custom" open={range.kind === 'custom'}>
        <summary>Custom range</summary>
        <form class="custom-range" onSubmit={applyCustom} aria-label="Custom range">
          <label>
            From <input type="datetime-local" step="1" value={from} onInput={(e) => setFrom(e.currentTarget.value)} />
          </label>
          <label>
            To <input type="datetime-local" step="1" value={to} onInput={(e) => setTo(e.currentTarget.value)} />
          </label>
          <button type="submit">Show range</button>
          {problem && (
            <span class="problem" role="alert">
              {problem}
            </span>
          )}
        </form>
      </details>
    </div>
  );
}
