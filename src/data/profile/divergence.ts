/** Jensen–Shannon divergence between the distributions that two column profiles describe. */
import type { ColumnProfile } from './types.js';

/** JS divergence (base 2, in [0, 1]) of two discrete distributions given as non-negative weights. */
export function jsDivergence(p: readonly number[], q: readonly number[]): number {
  const sp = p.reduce((a, b) => a + b, 0);
  const sq = q.reduce((a, b) => a + b, 0);
  if (sp <= 0 || sq <= 0) return sp === sq ? 0 : 1;
  let js = 0;
  for (let i = 0; i < p.length; i++) {
    const a = (p[i] ?? 0) / sp;
    const b = (q[i] ?? 0) / sq;
    const m = (a + b) / 2;
    if (a > 0) js += 0.5 * a * Math.log2(a / m);
    if (b > 0) js += 0.5 * b * Math.log2(b / m);
  }
  return Math.min(1, Math.max(0, js));
}

/**
 * Fraction of values ≤ x estimated from a 101-point CDF (the 0..100th percentiles): the largest rank whose
 * percentile is ≤ x, interpolated linearly towards the next percentile when x falls strictly between two.
 */
export function cdfAt(cdf: readonly number[], x: number): number {
  const n = cdf.length - 1;
  if (n < 1) return 0;
  if (x < cdf[0]!) return 0;
  if (x >= cdf[n]!) return 1;
  let lo = 0;
  let hi = n;
  while (hi - lo > 1) {
    const mid = (lo + hi) >> 1;
    if (cdf[mid]! <= x) lo = mid;
    else hi = mid;
  }
  const a = cdf[lo]!;
  const b = cdf[hi]!;
  const frac = b > a ? (x - a) / (b - a) : 0;
  return (lo + frac) / n;
}

/**
 * Probability mass of each bin of `edges`, plus an underflow (< edges[0]) and an overflow (> last edge) bin,
 * from a compact CDF. Both profiles are binned the same way, so identical data gives divergence 0.
 */
export function binMasses(cdf: readonly number[], edges: readonly number[]): number[] {
  const out: number[] = [];
  let prev = 0;
  const below = edges.length ? cdfBelow(cdf, edges[0]!) : 0;
  out.push(below);
  prev = below;
  for (let i = 1; i < edges.length; i++) {
    const f = cdfAt(cdf, edges[i]!);
    out.push(Math.max(0, f - prev));
    prev = Math.max(prev, f);
  }
  out.push(Math.max(0, 1 - prev));
  return out;
}

/** Fraction strictly below x (0 when x ≤ the minimum). */
function cdfBelow(cdf: readonly number[], x: number): number {
  if (cdf.length === 0 || x <= cdf[0]!) return 0;
  return cdfAt(cdf, x - Math.abs(x) * 1e-12 - 1e-300);
}

/** The frequency table of a non-numeric column: categories, else top values, with the rest as "others". */
function frequencies(c: ColumnProfile): Map<string, number> | null {
  if (c.type === 'boolean') return new Map([['true', c.true_count ?? 0], ['false', c.false_count ?? 0]]);
  const list = c.categories ?? c.top;
  if (!list) return null;
  const m = new Map(list.map((v) => [v.value, v.count] as const));
  const listed = list.reduce((a, v) => a + v.count, 0);
  if (c.count > listed) m.set('\u0000others', c.count - listed);
  return m;
}

const NUMERIC = new Set(['integer', 'float']);

/**
 * Divergence of `current` from `baseline`: numeric columns on the baseline's histogram edges (both re-binned
 * from their CDFs), other columns on value frequencies (union of the values each lists, others lumped).
 * Null when the columns are not comparable (different kinds, no values).
 */
export function columnDivergence(baseline: ColumnProfile, current: ColumnProfile): number | null {
  if (baseline.count === 0 || current.count === 0) return null;
  if (NUMERIC.has(baseline.type) && NUMERIC.has(current.type)) {
    const edges = baseline.histogram?.edges;
    // A stored profile holds null for an edge that overflowed a double: such bins cannot be compared.
    if (!baseline.cdf || !current.cdf || !edges || !edges.every((e): e is number => e !== null)) return null;
    return jsDivergence(binMasses(baseline.cdf, edges), binMasses(current.cdf, edges));
  }
  if (NUMERIC.has(baseline.type) !== NUMERIC.has(current.type)) return null;
  const a = frequencies(baseline);
  const b = frequencies(current);
  if (!a || !b) return null;
  const keys = [...new Set([...a.keys(), ...b.keys()])];
  return jsDivergence(keys.map((k) => a.get(k) ?? 0), keys.map((k) => b.get(k) ?? 0));
}
