/**
 * Drift figures from binned counts: per column PSI, Jensen–Shannon distance, normalised Wasserstein distance,
 * Kolmogorov–Smirnov, chi-squared and the two-proportion z-test, data quality (missing, out of range, invalid), and
 * the dataset's drift share. O(columns × bins): nothing here looks at rows.
 *
 * The default method per column follows Evidently's table (reference rows ≤ 1000: KS for numeric columns, chi-squared
 * for categories, z-test for two; more rows: normalised Wasserstein for numeric columns, Jensen–Shannon for
 * categories), with Evidently's thresholds: p < 0.05 for tests, distance ≥ 0.1 for distances (PSI: ≥ 0.1).
 */
import type { ColumnDrift, DriftMethod } from '@kiln-mlops/sdk/contract/monitoring-schemas';
import { binLabels, type ColumnCounts, type ColumnReference, type WindowCounts } from './counts.js';
import { chiSquare, jsDistance, ksBinned, psi, wassersteinBinned, zTestProportions } from './stats/drift.js';

/** Reference rows up to which tests (KS, chi-squared, z) are the default, as in Evidently. */
export const SMALL_REFERENCE = 1000;
export const PSI_BANDS = { moderate: 0.1, major: 0.25 } as const;
export const TESTS: ReadonlySet<DriftMethod> = new Set(['ks', 'chisquare', 'z']);

export function defaultMethod(ref: ColumnReference, referenceRows: number): DriftMethod {
  if (ref.kind === 'numeric') return referenceRows <= SMALL_REFERENCE ? 'ks' : 'wasserstein';
  if (referenceRows <= SMALL_REFERENCE) return ref.unique <= 2 ? 'z' : 'chisquare';
  return 'jensenshannon';
}

export function defaultThreshold(method: DriftMethod): number {
  return TESTS.has(method) ? 0.05 : 0.1;
}

/** Whether a figure of `method` passes its threshold. */
export function isDrift(method: DriftMethod, value: number | null, threshold: number): boolean {
  if (value === null || !Number.isFinite(value)) return false;
  return TESTS.has(method) ? value < threshold : value >= threshold;
}

const fin = (x: number): number | null => (Number.isFinite(x) ? x : null);

/** [below+first, …, last+above]: the outer bins folded into the end bins, as PSI on decile bins usually is. */
function folded(c: readonly number[]): number[] {
  if (c.length <= 3) return [c.reduce((a, b) => a + b, 0)];
  const out = c.slice(1, c.length - 1);
  out[0]! += c[0]!;
  out[out.length - 1]! += c[c.length - 1]!;
  return out;
}

export interface ColumnSettings {
  readonly method?: DriftMethod;
  readonly threshold?: number;
}

/** The figures of one column: `cur` compared with `base` (the reference's counts, or a previous window's). */
export function columnDrift(ref: ColumnReference, referenceRows: number, base: ColumnCounts, cur: ColumnCounts | undefined, settings: ColumnSettings = {}, withBins = true): ColumnDrift {
  const method = settings.method ?? defaultMethod(ref, referenceRows);
  const threshold = settings.threshold ?? defaultThreshold(method);
  const c = cur ?? { c: new Array<number>(ref.counts.length).fill(0), m: 0, i: 0 };
  const r = base.c;
  const present = c.c.reduce((a, b) => a + b, 0);
  const rows = present + c.m + c.i;
  const out: ColumnDrift = {
    kind: ref.kind,
    method,
    statistic: null,
    threshold,
    drifted: false,
    psi: null,
    psi_band: null,
    js: null,
    wasserstein: null,
    ks_statistic: null,
    ks_pvalue: null,
    chi2_pvalue: null,
    z_pvalue: null,
    rows,
    missing_rate: rows > 0 ? c.m / rows : null,
    out_of_range_rate: null,
    invalid: c.i,
    bins: withBins ? binLabels(ref) : [],
    reference_counts: withBins ? [...r] : [],
    current_counts: withBins ? [...c.c] : [],
  };
  const baseTotal = r.reduce((a, b) => a + b, 0);
  if (present === 0 || baseTotal === 0) return out;
  if (ref.kind === 'numeric') {
    const n = c.c.length;
    out.out_of_range_rate = (c.c[0]! + c.c[n - 1]!) / present;
    out.psi = fin(psi(folded(r), folded(c.c)));
    out.js = fin(jsDistance(r, c.c));
    const e = ref.edges;
    const positions = new Array<number>(n);
    // Outer bins sit at the mean of the values in them (the base's when the current has none there).
    const mean = (sum: number | undefined, count: number, fallback: number) => (count > 0 && sum !== undefined ? sum / count : fallback);
    positions[0] = Math.min(e[0]!, mean(c.lo, c.c[0]!, mean(base.lo, r[0]!, e[0]!)));
    for (let k = 1; k < n - 1; k++) positions[k] = (e[k - 1]! + e[k]!) / 2;
    positions[n - 1] = Math.max(e[e.length - 1]!, mean(c.hi, c.c[n - 1]!, mean(base.hi, r[n - 1]!, e[e.length - 1]!)));
    out.wasserstein = fin(wassersteinBinned(positions, r, c.c) / Math.max(ref.std, 0.001));
    const ks = ksBinned(r, c.c);
    out.ks_statistic = fin(ks.statistic);
    out.ks_pvalue = fin(ks.pvalue);
    if (method === 'chisquare') out.chi2_pvalue = fin(chiSquare(r, c.c).pvalue);
  } else {
    const other = c.c[c.c.length - 1]!;
    out.out_of_range_rate = other > 0 && r[r.length - 1] === 0 ? other / present : 0;
    out.psi = fin(psi(r, c.c));
    out.js = fin(jsDistance(r, c.c));
    out.chi2_pvalue = fin(chiSquare(r, c.c).pvalue);
    if (ref.categories.length <= 2 && ref.categories.length > 0) out.z_pvalue = fin(zTestProportions(r[0]!, baseTotal, c.c[0]!, present).pvalue);
  }
  if (out.psi !== null) out.psi_band = out.psi >= PSI_BANDS.major ? 'major' : out.psi >= PSI_BANDS.moderate ? 'moderate' : 'stable';
  out.statistic = statisticOf(method, out, ref, r, c.c);
  out.drifted = isDrift(method, out.statistic, threshold);
  return out;
}

function statisticOf(method: DriftMethod, d: ColumnDrift, ref: ColumnReference, r: readonly number[], c: readonly number[]): number | null {
  switch (method) {
    case 'ks':
      return d.ks_pvalue;
    case 'chisquare':
      return d.chi2_pvalue ?? fin(chiSquare(r, c).pvalue);
    case 'z': {
      if (d.z_pvalue !== null) return d.z_pvalue;
      // A numeric column asked for a z-test: the share below the reference median against the rest.
      const half = Math.floor(r.length / 2);
      const sum = (a: readonly number[], from: number, to: number) => a.slice(from, to).reduce((x, y) => x + y, 0);
      return fin(zTestProportions(sum(r, 0, half), sum(r, 0, r.length), sum(c, 0, half), sum(c, 0, c.length)).pvalue);
    }
    case 'wasserstein':
      return ref.kind === 'numeric' ? d.wasserstein : d.js;
    case 'jensenshannon':
      return d.js;
    case 'psi':
      return d.psi;
  }
}

export interface DatasetDrift {
  readonly features: Record<string, ColumnDrift>;
  readonly drift_share: number | null;
  readonly dataset_drift: boolean;
  readonly drifted_features: number;
  readonly missing_rate: number | null;
  readonly out_of_range_rate: number | null;
}

/** Figures of every feature and the dataset's drift share (features with no data in the window don't count). */
export function datasetDrift(
  refs: readonly ColumnReference[],
  referenceRows: number,
  base: (name: string) => ColumnCounts | undefined,
  window: WindowCounts,
  settings: (name: string) => ColumnSettings,
  shareThreshold: number,
  withBins = true,
): DatasetDrift {
  const features: Record<string, ColumnDrift> = {};
  let checked = 0;
  let drifted = 0;
  let rows = 0;
  let missing = 0;
  let present = 0;
  let outside = 0;
  for (const ref of refs) {
    const b = base(ref.name);
    const d = b ? columnDrift(ref, referenceRows, b, window.cols[ref.name], settings(ref.name), withBins) : columnDrift(ref, referenceRows, { c: ref.counts, m: ref.missing, i: ref.invalid }, window.cols[ref.name], settings(ref.name), withBins);
    features[ref.name] = d;
    rows += d.rows;
    missing += window.cols[ref.name]?.m ?? 0;
    if (d.statistic !== null) {
      checked++;
      if (d.drifted) drifted++;
    }
    if (d.out_of_range_rate !== null) {
      const p = d.rows - (window.cols[ref.name]?.m ?? 0) - d.invalid;
      present += p;
      outside += d.out_of_range_rate * p;
    }
  }
  const share = checked > 0 ? drifted / checked : null;
  return {
    features,
    drift_share: share,
    dataset_drift: share !== null && share >= shareThreshold,
    drifted_features: drifted,
    missing_rate: rows > 0 ? missing / rows : null,
    out_of_range_rate: present > 0 ? outside / present : null,
  };
}
