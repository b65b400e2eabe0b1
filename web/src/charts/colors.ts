/**
 * A colour per sensor, the same in every chart of a room (the sensor's place among the room's
 * sensors, sorted), readable on the light and the dark background. As hex, so a test can look
 * for a series' pixels on the canvas.
 */

/** Tableau 10 without its grey (the axes' colour): distinct, and mid-light enough for both schemes. */
const PALETTE = ['#1f77b4', '#ff7f0e', '#2ca02c', '#d62728', '#9467bd', '#8c564b', '#e377c2', '#bcbd22', '#17becf'] as const;

function hex(n: number): string {
  return Math.round(n * 255)
    .toString(16)
    .padStart(2, '0');
}

/** HSL (h in degrees, s and l from 0 to 1) as #rrggbb. */
function hslHex(h: number, s: number, l: number): string {
  const a = s * Math.min(l, 1 - l);
  const f = (n: number): number => {
    const k = (n + h / 30) % 12;
    return l - a * Math.max(-1, Math.min(k - 3, 9 - k, 1));
  };
  return `#${hex(f(0))}${hex(f(8))}${hex(f(4))}`;
}

/** The colour of the `index`-th sensor: the palette, then hues a golden angle apart. */
export function seriesColor(index: number): string {
  if (index < PALETTE.length) return PALETTE[index]!;
  return hslHex((index * 137.508 + 20) % 360, 0.65, 0.5);
}

/** The same colour with an alpha, for the min-max band. */
export function withAlpha(color: string, alpha: number): string {
  return `${color}${hex(alpha)}`;
}
