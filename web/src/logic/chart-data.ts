/**
 * Metric histories as charts need them: JSON (columnar, values may be "NaN" / "Infinity" strings) → aligned
 * arrays, x modes, EMA smoothing, the min/max envelope of a downsampled history, and several runs merged onto
 * one x axis. Pure: no DOM, unit-tested in chart-data.test.ts.
 */

import type { MetricHistory } from '../../../src/tracking/schemas.js';

export type XMode = 'step' | 'wall' | 'relative';
export const X_MODES: readonly XMode[] = ['step', 'wall', 'relative'];


/** One curve: x ascending; y null where there is no finite value (NaN, ±Infinity, missing). */
export interface Curve {
  x: number[];
  y: (number | null)[];
  /** Band bounds when the history was downsampled (same length as x). */
  lo?: (number | null)[];
  hi?: (number | null)[];
  /** Points whose value was NaN or ±Infinity. */
  nonFinite: number;
}

export function parseValue(v: unknown): number {
  if (typeof v === 'number') return v;
  if (v === 'NaN') return NaN;
  if (v === 'Infinity') return Infinity;
  if (v === '-Infinity') return -Infinity;
  if (typeof v === 'string' && v.trim() !== '') return Number(v);
  return NaN;
}

/** x of a point in a mode: the step, wall time in seconds (what uPlot's time axis wants), or seconds since `t0`. */
export function xOf(mode: XMode, step: number, timestampMs: number, t0Ms: number): number {
  if (mode === 'step') return step;
  if (mode === 'wall') return timestampMs / 1000;
  return (timestampMs - t0Ms) / 1000;
}

/**
 * History → curve. Relative time counts from `t0Ms` (the run's start) or else the first timestamp. Points are
 * sorted by x (wall time need not follow step order). When the history is downsampled (pairs of min and max per
 * step range) the envelope is rebuilt: each point gets the min and max of its range.
 */
export function toCurve(h: MetricHistory, mode: XMode, opts: { t0Ms?: number; maxPoints?: number } = {}): Curve {
  const n = Math.min(h.steps.length, h.timestamps.length, h.values.length);
  let t0 = opts.t0Ms ?? Infinity;
  if (opts.t0Ms === undefined) for (let i = 0; i < n; i++) t0 = Math.min(t0, h.timestamps[i]!);
  const idx = Array.from({ length: n }, (_, i) => i);
  const xs = idx.map((i) => xOf(mode, h.steps[i]!, h.timestamps[i]!, t0));
  let sorted = true;
  for (let i = 1; i < n; i++) if (xs[i]! < xs[i - 1]!) sorted = false;
  if (!sorted) idx.sort((a, b) => xs[a]! - xs[b]! || h.steps[a]! - h.steps[b]!);
  const x: number[] = new Array(n);
  const y: (number | null)[] = new Array(n);
  let nonFinite = 0;
  for (let k = 0; k < n; k++) {
    const i = idx[k]!;
    x[k] = xs[i]!;
    const v = parseValue(h.values[i]);
    if (Number.isFinite(v)) y[k] = v;
    else {
      y[k] = null;
      nonFinite++;
    }
  }
  const curve: Curve = { x, y, nonFinite };
  if (h.downsampled && n > 0) {
    const env = envelope(idx.map((i) => h.steps[i]!), y, opts.maxPoints ?? n);
    curve.lo = env.lo;
    curve.hi = env.hi;
  }
  return curve;
}

/**
 * The band of a downsampled history. The server cuts the step range into about maxPoints/2 − 2 equal groups and
 * sends each group's min and max point; grouping the points again by step with the same width gives each point
 * its group's bounds.
 */
export function envelope(steps: readonly number[], y: readonly (number | null)[], maxPoints: number): { lo: (number | null)[]; hi: (number | null)[] } {
  const n = steps.length;
  let first = Infinity;
  let last = -Infinity;
  for (const s of steps) {
    first = Math.min(first, s);
    last = Math.max(last, s);
  }
  const groups = Math.max(1, Math.floor(maxPoints / 2) - 2);
  const width = Math.max(1, Math.ceil((last - first + 1) / groups));
  const lo: (number | null)[] = new Array(n).fill(null);
  const hi: (number | null)[] = new Array(n).fill(null);
  const min = new Map<number, number>();
  const max = new Map<number, number>();
  const g = steps.map((s) => Math.floor((s - first) / width));
  for (let i = 0; i < n; i++) {
    const v = y[i];
    if (v === null || v === undefined) continue;
    const k = g[i]!;
    min.set(k, Math.min(min.get(k) ?? Infinity, v));
    max.set(k, Math.max(max.get(k) ?? -Infinity, v));
  }
  for (let i = 0; i < n; i++) {
    if (y[i] === null) continue;
    lo[i] = min.get(g[i]!) ?? null;
    hi[i] = max.get(g[i]!) ?? null;
  }
  return { lo, hi };
}

/**
 * TensorBoard's smoothing: an exponential moving average with weight in [0, 1), debiased so the start is not pulled
 * towards zero. Gaps (null) stay gaps and do not reset the average.
 */
export function ema(y: readonly (number | null)[], weight: number): (number | null)[] {
  if (!(weight > 0)) return [...y];
  const w = Math.min(weight, 0.999);
  let last = 0;
  let count = 0;
  return y.map((v) => {
    if (v === null) return null;
    last = last * w + (1 - w) * v;
    count++;
    return last / (1 - Math.pow(w, count));
  });
}

/** Values a log scale can draw: non-positive ones become gaps. */
export function forLog(y: readonly (number | null)[]): (number | null)[] {
  return y.map((v) => (v !== null && v > 0 ? v : null));
}

/**
 * Several curves on one x axis (uPlot's aligned data): the sorted union of their x values, and for each curve its y
 * at those x (null where it has no point). Duplicate x within a curve keep the last value.
 */
export function mergeCurves(curves: readonly { x: readonly number[]; y: readonly (number | null)[] }[]): { x: number[]; ys: (number | null)[][] } {
  const all = new Set<number>();
  for (const c of curves) for (const v of c.x) all.add(v);
  const x = [...all].sort((a, b) => a - b);
  const pos = new Map<number, number>();
  x.forEach((v, i) => pos.set(v, i));
  const ys = curves.map((c) => {
    const out: (number | null)[] = new Array(x.length).fill(null);
    for (let i = 0; i < c.x.length; i++) out[pos.get(c.x[i]!)!] = c.y[i] ?? null;
    return out;
  });
  return { x, ys };
}

/** At most this many distinct x values count as "few": the chart frames them instead of stretching the axis to them. */
export const FEW_POINTS = 3;

/**
 * The x range for a chart with few points, so that one point is drawn in the middle of a small range around its
 * step (not at the edge of a default 0–100 axis) and two or three points are not on the edges; undefined when there
 * are more points (the axis follows the data).
 */
export function xRangeFor(xs: readonly number[], mode: XMode): [number, number] | undefined {
  const distinct = new Set(xs.filter((v) => Number.isFinite(v)));
  if (distinct.size === 0 || distinct.size > FEW_POINTS) return undefined;
  const min = Math.min(...distinct);
  const max = Math.max(...distinct);
  if (min === max) {
    const pad = mode === 'step' ? 1 : 60;
    return [min - pad, max + pad];
  }
  const pad = (max - min) * 0.1;
  return [min - pad, max + pad];
}

/** How many points to ask the server for: about two per pixel of chart width, within [200, 5000]. */
export function maxPointsFor(widthPx: number): number {
  return Math.max(200, Math.min(5000, Math.round((widthPx || 600) * 2)));
}

/**
 * Colours for series told apart by hue: Tableau 10, ordered so that the first few are as far apart as possible
 * (blue, orange, green, red, purple...). Assigned by position (the first compared run gets the first colour),
 * so two or three runs never share a family of hues.
 */
export const PALETTE = ['#4e79a7', '#f28e2b', '#59a14f', '#e15759', '#b07aa1', '#76b7b2', '#edc948', '#ff9da7', '#9c755f', '#bab0ac'];
export function colorFor(index: number): string {
  return PALETTE[index % PALETTE.length]!;
}

/** CIE L*a*b* of a `#rrggbb` colour (D65), to measure how far apart two colours look. */
export function toLab(hex: string): [number, number, number] {
  const n = parseInt(hex.slice(1), 16);
  const lin = (c: number) => {
    const v = c / 255;
    return v <= 0.04045 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4);
  };
  const [r, g, b] = [lin((n >> 16) & 255), lin((n >> 8) & 255), lin(n & 255)];
  const x = (0.4124 * r + 0.3576 * g + 0.1805 * b) / 0.95047;
  const y = 0.2126 * r + 0.7152 * g + 0.0722 * b;
  const z = (0.0193 * r + 0.1192 * g + 0.9505 * b) / 1.08883;
  const f = (t: number) => (t > 216 / 24389 ? Math.cbrt(t) : (24389 / 27 * t + 16) / 116);
  return [116 * f(y) - 16, 500 * (f(x) - f(y)), 200 * (f(y) - f(z))];
}

/** The CIE76 distance between two colours (about 2.3 is just noticeable; over 40, clearly different colours). */
export function colorDistance(a: string, b: string): number {
  const [l1, a1, b1] = toLab(a);
  const [l2, a2, b2] = toLab(b);
  return Math.hypot(l1 - l2, a1 - a2, b1 - b2);
}
