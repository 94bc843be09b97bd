/**
 * Drift between a reference and a current window, both given as counts over the same bins (the reference first).
 * Counts are non-negative numbers, not necessarily integers. Pure functions that allocate nothing but their result:
 * invalid input (lengths that differ, a negative or non-finite count, a side that sums to 0) gives NaN, never a throw.
 * Each matches the SciPy expression named in its comment to 1e-9 (src/monitoring/stats/stats.test.ts).
 */
import { chi2Sf, kolmogorovSf, normalTwoSidedP } from './special.js';

/** Counts per bin: a plain array or a typed array. */
export type Counts = ArrayLike<number>;

export interface TestResult {
  statistic: number;
  pvalue: number;
}

export interface ChiSquareResult extends TestResult {
  df: number;
}

/** Σ counts, or NaN when any count is negative or not finite. */
function total(c: Counts): number {
  let s = 0;
  for (let i = 0; i < c.length; i++) {
    const v = c[i]!;
    if (!(v >= 0 && v < Infinity)) return NaN;
    s += v;
  }
  return s;
}

/** Both totals when the two sides have the same, non-zero number of bins and both sum to a positive number, else null. */
function totals(ref: Counts, cur: Counts): [number, number] | null {
  if (ref.length !== cur.length || ref.length === 0) return null;
  const sr = total(ref);
  const sc = total(cur);
  return sr > 0 && sc > 0 ? [sr, sc] : null;
}

/**
 * Population stability index Σ (q − p)·ln(q/p), p = ref/Σref and q = cur/Σcur, natural log; every proportion below
 * `eps` counts as `eps` (no renormalisation), so an empty bin on one side gives a large but finite term.
 * numpy: `p = np.maximum(ref/ref.sum(), eps); q = np.maximum(cur/cur.sum(), eps); np.sum((q - p)*np.log(q/p))`.
 */
export function psi(ref: Counts, cur: Counts, eps = 1e-4): number {
  const t = totals(ref, cur);
  if (!t) return NaN;
  let s = 0;
  for (let i = 0; i < ref.length; i++) {
    const p = Math.max(ref[i]! / t[0], eps);
    const q = Math.max(cur[i]! / t[1], eps);
    if (p !== q) s += (q - p) * Math.log(q / p);
  }
  return s;
}

/**
 * Jensen–Shannon distance with base-2 logarithms, in [0, 1]: √(½·KL(p‖m) + ½·KL(q‖m)) with p, q the normalised
 * counts and m = (p + q)/2. scipy.spatial.distance.jensenshannon(ref, cur, base=2) (clamped to [0, 1] against
 * rounding, where SciPy would take the square root of a −1e-17).
 */
export function jsDistance(ref: Counts, cur: Counts): number {
  const t = totals(ref, cur);
  if (!t) return NaN;
  let js = 0;
  for (let i = 0; i < ref.length; i++) {
    const p = ref[i]! / t[0];
    const q = cur[i]! / t[1];
    const m = (p + q) / 2;
    if (p > 0) js += p * Math.log(p / m);
    if (q > 0) js += q * Math.log(q / m);
  }
  return Math.sqrt(Math.min(1, Math.max(0, js / (2 * Math.LN2))));
}

/**
 * First Wasserstein (earth mover's) distance between the two binned distributions, each bin's mass sitting at its
 * representative value: ∫|F_ref − F_cur|, in the units of `positions`. scipy.stats.wasserstein_distance(positions,
 * positions, ref, cur). `positions` is expected ascending (duplicates allowed); other orders are sorted first. The
 * caller divides by the reference's standard deviation for a unit-free figure.
 */
export function wassersteinBinned(positions: Counts, ref: Counts, cur: Counts): number {
  const k = positions.length;
  const t = totals(ref, cur);
  if (!t || positions.length !== ref.length) return NaN;
  let sorted = true;
  for (let i = 0; i < k; i++) {
    const x = positions[i]!;
    if (!Number.isFinite(x)) return NaN;
    if (i > 0 && x < positions[i - 1]!) sorted = false;
  }
  let order: number[] | null = null;
  if (!sorted) {
    order = Array.from({ length: k }, (_, i) => i);
    order.sort((a, b) => positions[a]! - positions[b]!);
  }
  let d = 0;
  let fr = 0;
  let fc = 0;
  for (let j = 0; j < k - 1; j++) {
    const i = order ? order[j]! : j;
    const next = order ? order[j + 1]! : j + 1;
    fr += ref[i]!;
    fc += cur[i]!;
    d += Math.abs(fr / t[0] - fc / t[1]) * (positions[next]! - positions[i]!);
  }
  return d;
}

/**
 * Two-sample Kolmogorov–Smirnov test on binned counts. D = max over the bin boundaries of |F_ref − F_cur| (the
 * cumulative proportions); the p-value is the asymptotic Kolmogorov distribution's, kstwobign.sf(D·√(nm/(n+m))) with
 * n, m the two totals: no small-sample correction, and, since ties within a bin are invisible, conservative next
 * to the test on raw values. numpy/SciPy: `D = np.max(np.abs(np.cumsum(ref)/ref.sum() - np.cumsum(cur)/cur.sum()))`.
 */
export function ksBinned(ref: Counts, cur: Counts): TestResult {
  const t = totals(ref, cur);
  if (!t) return { statistic: NaN, pvalue: NaN };
  let d = 0;
  let fr = 0;
  let fc = 0;
  for (let i = 0; i < ref.length; i++) {
    fr += ref[i]!;
    fc += cur[i]!;
    d = Math.max(d, Math.abs(fr / t[0] - fc / t[1]));
  }
  const en = (t[0] * t[1]) / (t[0] + t[1]);
  return { statistic: d, pvalue: kolmogorovSf(d * Math.sqrt(en)) };
}

/**
 * Pearson χ² goodness of fit of the current counts to the reference proportions. expected_i = max(ref_i/Σref, eps),
 * renormalised to sum 1, times Σcur; statistic Σ (cur − expected)²/expected; df = k − 1 for k bins; p = chi2.sf.
 * scipy.stats.chisquare(cur, f_exp=expected). One bin gives df 0 and a NaN p-value, as SciPy does.
 */
export function chiSquare(ref: Counts, cur: Counts, eps = 1e-4): ChiSquareResult {
  const t = totals(ref, cur);
  const df = ref.length - 1;
  if (!t || !(eps >= 0) || df < 0) return { statistic: NaN, pvalue: NaN, df: NaN };
  let norm = 0;
  for (let i = 0; i < ref.length; i++) norm += Math.max(ref[i]! / t[0], eps);
  let s = 0;
  for (let i = 0; i < ref.length; i++) {
    const e = (Math.max(ref[i]! / t[0], eps) / norm) * t[1];
    const diff = cur[i]! - e;
    s += (diff * diff) / e;
  }
  return { statistic: s, pvalue: chi2Sf(s, df), df };
}

/**
 * Two-proportion z-test with the pooled proportion p̂ = (x₁ + x₂)/(n₁ + n₂):
 * z = (x₁/n₁ − x₂/n₂) / √(p̂(1 − p̂)(1/n₁ + 1/n₂)), two-sided p = 2·norm.sf(|z|) (statsmodels proportions_ztest).
 * z > 0 when the reference rate is the higher. When p̂ is 0 or 1 (no variance) z = 0 and p = 1 (statsmodels gives NaN). NaN unless
 * 0 ≤ x ≤ n and n > 0 on both sides.
 */
export function zTestProportions(refPositive: number, refTotal: number, curPositive: number, curTotal: number): TestResult {
  const ok = (x: number, n: number) => n > 0 && n < Infinity && x >= 0 && x <= n;
  if (!ok(refPositive, refTotal) || !ok(curPositive, curTotal)) return { statistic: NaN, pvalue: NaN };
  const pooled = (refPositive + curPositive) / (refTotal + curTotal);
  if (pooled <= 0 || pooled >= 1) return { statistic: 0, pvalue: 1 };
  const z = (refPositive / refTotal - curPositive / curTotal) / Math.sqrt(pooled * (1 - pooled) * (1 / refTotal + 1 / curTotal));
  return { statistic: z, pvalue: normalTwoSidedP(z) };
}
