/** How values, units, ages and times are written on the page. */

/** A reading's value: at most 4 significant decimals, no trailing zeros, a true minus sign kept as `-`. */
export function formatValue(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  const abs = Math.abs(value);
  if (abs !== 0 && (abs >= 1e9 || abs < 1e-4)) return value.toExponential(3);
  const digits = abs >= 1000 ? 1 : abs >= 100 ? 2 : abs >= 1 ? 3 : 4;
  return String(Number(value.toFixed(digits)));
}

/** "4 s", "3 min", "2 h", "5 d": how long ago. A time in the future (a sensor clock ahead) is "now". */
export function formatAge(ms: number): string {
  if (ms < 1_000) return 'now';
  const s = Math.floor(ms / 1_000);
  if (s < 60) return `${s} s ago`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min ago`;
  const h = Math.floor(m / 60);
  if (h < 48) return `${h} h ago`;
  return `${Math.floor(h / 24)} d ago`;
}

/** A time for people, in the browser's zone: `2025-11-21 09:00:05`. */
export function formatTime(ms: number): string {
  const d = new Date(ms);
  const p = (n: number): string => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

/** The value of an `<input type="datetime-local">` for a time (local, to the second). */
export function toLocalInput(ms: number): string {
  return formatTime(ms).replace(' ', 'T');
}

/** A `datetime-local` input's value as ms (the browser's zone), or null when empty or invalid. */
export function fromLocalInput(value: string): number | null {
  if (!value) return null;
  const ms = new Date(value).getTime();
  return Number.isFinite(ms) ? ms : null;
}

export function plural(n: number, one: string, many = `${one}s`): string {
  return `${n.toLocaleString('en')} ${n === 1 ? one : many}`;
}
