/** What the monitor pages draw, computed without the DOM: heatmap cells, window labels, histogram overlays. */

/** The figures of one column in one window, as GET /monitors/:name/windows gives them. */
export interface CellFigures {
  readonly method: string;
  readonly statistic: number | null;
  readonly drifted: boolean;
  readonly psi: number | null;
}

export type HeatState = 'drifted' | 'stable' | 'no-data';

/** A heatmap cell: drifted (red, darker the larger the PSI), stable (green, darker the closer to drifting), or no data (grey). */
export interface HeatCell {
  readonly state: HeatState;
  /** 1 (faint) to 4 (strong); 0 for no data. */
  readonly level: 0 | 1 | 2 | 3 | 4;
}

/** PSI bands: < 0.1 stable, 0.1–0.25 moderate, ≥ 0.25 major. */
const PSI_STEPS = [0.1, 0.25, 0.5] as const;

export function heatCell(c: CellFigures | undefined): HeatCell {
  if (!c || c.statistic === null) return { state: 'no-data', level: 0 };
  const psi = c.psi ?? 0;
  const level = (1 + PSI_STEPS.filter((s) => psi >= s).length) as 1 | 2 | 3 | 4;
  if (c.drifted) return { state: 'drifted', level };
  // Not drifted: a PSI in the moderate band still shows (a shade closer to the threshold), never red.
  return { state: 'stable', level: psi >= PSI_STEPS[0] ? 2 : 1 };
}

/** Whether the monitor's windows are numbered by row count ("10000 rows") rather than placed in time. */
export const isRowWindow = (window: string): boolean => /rows?$/.test(window.trim());

const pad = (n: number) => String(n).padStart(2, '0');

/**
 * A window's start as its label: the window number for row-count windows; the UTC date for whole-day windows (they are
 * aligned to UTC days); the UTC date and time otherwise.
 */
export function windowLabel(start: number, window: string): string {
  if (isRowWindow(window)) return `#${start}`;
  const d = new Date(start);
  const day = `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`;
  if (/^\d+\s*[dw]$/.test(window.trim())) return day;
  const secs = d.getUTCSeconds() === 0 ? '' : `:${pad(d.getUTCSeconds())}`;
  return `${day} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}${secs} UTC`;
}

/** Counts as shares of their sum (all zeros when there are none). */
export function toShares(counts: readonly number[]): number[] {
  const total = counts.reduce((a, b) => a + b, 0);
  return counts.map((c) => (total > 0 ? c / total : 0));
}

export interface OverlayBar {
  readonly label: string;
  readonly reference: number;
  readonly current: number;
  /** x of the bin's group, its width, and the two bars' heights in a w×h box (same scale for both sides). */
  readonly x: number;
  readonly width: number;
  readonly refHeight: number;
  readonly curHeight: number;
}

/**
 * The reference's and the window's histograms side by side per bin, each normalised to shares of its own total, on
 * one scale (the largest share of either side is the full height).
 */
export function overlayBars(labels: readonly string[], reference: readonly number[], current: readonly number[], w: number, h: number): OverlayBar[] {
  const r = toShares(reference);
  const c = toShares(current);
  const max = Math.max(0, ...r, ...c);
  const bw = labels.length > 0 ? w / labels.length : 0;
  return labels.map((label, i) => ({
    label,
    reference: r[i] ?? 0,
    current: c[i] ?? 0,
    x: i * bw,
    width: bw,
    refHeight: max > 0 ? ((r[i] ?? 0) / max) * h : 0,
    curHeight: max > 0 ? ((c[i] ?? 0) / max) * h : 0,
  }));
}

/** Which window labels to print under a heatmap of `n` columns, at most `max` of them (evenly spaced, the last always). */
export function labelledColumns(n: number, max: number): Set<number> {
  const out = new Set<number>();
  if (n <= 0) return out;
  const step = Math.max(1, Math.ceil(n / Math.max(1, max)));
  for (let i = n - 1; i >= 0; i -= step) out.add(i);
  return out;
}
