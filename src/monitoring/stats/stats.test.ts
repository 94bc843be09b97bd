import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chi2Sf, kolmogorovSf, logGamma, normalTwoSidedP, regularizedGammaQ } from './special.js';
import { chiSquare, jsDistance, ksBinned, psi, wassersteinBinned, zTestProportions } from './drift.js';
import { ClassificationAccumulator, RegressionAccumulator, classificationMetrics, regressionMetrics, type ClassificationRow } from './performance.js';

/**
 * Reference values from NumPy, SciPy and scikit-learn (scripts/fixtures/monitoring-stats.py). With a Python that has
 * them (KILN_PYTHON, else /usr/bin/python3) the script runs now; without, the committed output
 * (test/fixtures/monitoring/stats.json) stands in, unless KILN_TEST_REQUIRE is 'all' or names 'python'.
 */
const SCRIPT = 'scripts/fixtures/monitoring-stats.py';
const FIXTURE = 'test/fixtures/monitoring/stats.json';

/** The repository root: the nearest folder above this file (src/ or dist/src/) that holds the script. */
function repoRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, SCRIPT))) return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error(`no ${SCRIPT} above ${fileURLToPath(import.meta.url)}`);
    dir = up;
  }
}

const ROOT = repoRoot();
const PYTHON = process.env.KILN_PYTHON || '/usr/bin/python3';
const PYTHON_REQUIRED = (process.env.KILN_TEST_REQUIRE ?? '')
  .split(',')
  .map((s) => s.trim())
  .some((s) => s === 'all' || s === 'python');

/** Why the Python side cannot run, or null when it can. */
function pythonMissing(): string | null {
  try {
    execFileSync(PYTHON, ['-c', 'import numpy, scipy, sklearn'], { stdio: 'pipe', timeout: 60_000 });
    return null;
  } catch (e) {
    const err = e as { stderr?: Buffer; message: string };
    const detail = err.stderr?.toString().trim().split('\n').pop() || err.message;
    return `${PYTHON} cannot import numpy, scipy and sklearn (${detail})`;
  }
}

const MISSING = pythonMissing();
const committed = () => JSON.parse(readFileSync(join(ROOT, FIXTURE), 'utf8'));
let cache: { data: any; source: string } | undefined;
function reference(): { data: any; source: string } {
  if (cache) return cache;
  if (MISSING) {
    if (PYTHON_REQUIRED) throw new Error(`KILN_TEST_REQUIRE asks for python: ${MISSING}; apt-get install python3-scipy python3-sklearn, or set KILN_PYTHON`);
    cache = { data: committed(), source: `${FIXTURE} (committed; ${MISSING})` };
  } else {
    const out = execFileSync(PYTHON, [join(ROOT, SCRIPT)], { cwd: ROOT, encoding: 'utf8', maxBuffer: 64 << 20, timeout: 120_000 });
    cache = { data: JSON.parse(out), source: `${SCRIPT} run by ${PYTHON}` };
  }
  return cache;
}

/** A number of the fixture: non-finite values are written as strings, null stays null. */
function num(v: unknown): number | null {
  if (v === null) return null;
  if (v === 'NaN') return NaN;
  if (v === 'Infinity') return Infinity;
  if (v === '-Infinity') return -Infinity;
  assert.equal(typeof v, 'number', `fixture value ${JSON.stringify(v)}`);
  return v as number;
}
const nums = (a: unknown[]) => a.map((v) => num(v)!);
const NON_FINITE = ['NaN', 'Infinity', '-Infinity'];

const SMALLEST_NORMAL = 2.2250738585072014e-308;
/**
 * |actual − expected| ≤ 1e-9·max(1, |expected|); with `tails`, also ≤ 1e-9·|expected| for a tiny expected value that
 * is still a normal double (p-values far in a tail).
 */
function close(actual: number | null, expected: unknown, what: string, tails = false): void {
  const e = num(expected);
  if (e === null || actual === null) return assert.equal(actual, e, what);
  if (!Number.isFinite(e)) return assert.ok(Object.is(actual, e) || (Number.isNaN(e) && Number.isNaN(actual)), `${what}: ${actual}, expected ${e}`);
  let tol = 1e-9 * Math.max(1, Math.abs(e));
  if (tails && Math.abs(e) >= SMALLEST_NORMAL) tol = Math.min(tol, 1e-9 * Math.abs(e));
  if (tails && e === 0) tol = SMALLEST_NORMAL;
  assert.ok(Math.abs(actual - e) <= tol, `${what}: ${actual}, expected ${e} (difference ${actual - e})`);
}

test('reference values: the script run now, or the committed fixture when Python lacks SciPy / scikit-learn', (t) => {
  const { data, source } = reference();
  t.diagnostic(`reference values from ${source}; ${JSON.stringify(data.versions)}`);
  assert.ok(data.drift.length >= 40 && data.classification.length >= 15 && data.regression.length >= 10);
});

test('the committed fixture holds the cases the script makes, with the same values to 1e-9', (t) => {
  if (MISSING) return t.skip(`the script cannot run: ${MISSING}`);
  const fresh = reference().data;
  const old = committed();
  const walk = (a: unknown, b: unknown, path: string): void => {
    if (typeof b === 'number' || NON_FINITE.includes(b as string)) return close(num(a), b, path);
    if (Array.isArray(b)) {
      assert.ok(Array.isArray(a) && a.length === b.length, `${path}: length`);
      return b.forEach((v, i) => walk((a as unknown[])[i], v, `${path}[${i}]`));
    }
    if (b && typeof b === 'object') {
      if (path === '.versions') return;
      assert.deepEqual(Object.keys(a as object).sort(), Object.keys(b).sort(), `${path}: keys`);
      for (const [k, v] of Object.entries(b)) walk((a as Record<string, unknown>)[k], v, `${path}.${k}`);
      return;
    }
    assert.equal(a, b, path);
  };
  walk(old, fresh, '');
});

test('special functions match SciPy (gammaln, gammaincc, chi2.sf, 2·norm.sf, kstwobign.sf)', () => {
  const s = reference().data.special;
  for (const [x, y] of s.logGamma) close(logGamma(num(x)!), y, `logGamma(${x})`, true);
  for (const [a, x, y] of s.regularizedGammaQ) close(regularizedGammaQ(num(a)!, num(x)!), y, `Q(${a}, ${x})`, true);
  for (const [x, df, y] of s.chi2Sf) close(chi2Sf(num(x)!, num(df)!), y, `chi2Sf(${x}, ${df})`, true);
  for (const [z, y] of s.normalTwoSidedP) close(normalTwoSidedP(num(z)!), y, `normalTwoSidedP(${z})`, true);
  for (const [l, y] of s.kolmogorovSf) close(kolmogorovSf(num(l)!), y, `kolmogorovSf(${l})`, true);
});

test('drift statistics match NumPy / SciPy on binned counts', () => {
  for (const c of reference().data.drift) {
    const [pos, ref, cur] = [nums(c.positions), nums(c.ref), nums(c.cur)];
    close(psi(ref, cur), c.psi, `${c.name}: psi`);
    close(jsDistance(ref, cur), c.js, `${c.name}: js`);
    close(wassersteinBinned(pos, ref, cur), c.wasserstein, `${c.name}: wasserstein`);
    const ks = ksBinned(ref, cur);
    close(ks.statistic, c.ks.statistic, `${c.name}: ks statistic`);
    close(ks.pvalue, c.ks.pvalue, `${c.name}: ks pvalue`, true);
    const chi = chiSquare(ref, cur);
    close(chi.statistic, c.chi2.statistic, `${c.name}: chi2 statistic`);
    close(chi.pvalue, c.chi2.pvalue, `${c.name}: chi2 pvalue`, true);
    assert.equal(chi.df, c.chi2.df, `${c.name}: chi2 df`);
  }
});

test('two-proportion z-test matches the pooled test with SciPy normal p-values', () => {
  for (const c of reference().data.ztest) {
    const r = zTestProportions(c.refPositive, c.refTotal, c.curPositive, c.curTotal);
    const what = `z-test ${c.refPositive}/${c.refTotal} vs ${c.curPositive}/${c.curTotal}`;
    close(r.statistic, c.statistic, `${what}: z`);
    close(r.pvalue, c.pvalue, `${what}: p`, true);
  }
});

test('classification metrics match scikit-learn', () => {
  for (const c of reference().data.classification) {
    const got = classificationMetrics(c.rows as ClassificationRow[], c.positive ?? undefined);
    for (const k of ['accuracy', 'precision', 'recall', 'f1', 'roc_auc', 'log_loss'] as const) close(got[k], c.expected[k], `${c.name}: ${k}`);
    assert.equal(got.support, c.expected.support, `${c.name}: support`);
  }
});

test('regression metrics match scikit-learn', () => {
  for (const c of reference().data.regression) {
    const got = regressionMetrics(c.rows.map((r: any) => ({ label: num(r.label)!, prediction: num(r.prediction)! })));
    for (const k of ['mae', 'rmse', 'mape'] as const) close(got[k], c.expected[k], `${c.name}: ${k}`);
    assert.equal(got.support, c.expected.support, `${c.name}: support`);
  }
});

test('identical distributions drift by nothing', () => {
  for (const counts of [[5, 0, 3, 2], [1], [1e7, 3, 0, 0, 12], [4, 4, 1, 9]]) {
    const same = [...counts];
    assert.equal(psi(counts, same), 0);
    assert.equal(jsDistance(counts, same), 0);
    assert.equal(wassersteinBinned(counts.map((_, i) => i), counts, same), 0);
    assert.deepEqual(ksBinned(counts, same), { statistic: 0, pvalue: 1 });
  }
  // χ² compares with the eps-floored reference, so only bins above the floor give exactly 0
  assert.deepEqual(chiSquare([4, 4, 1, 9], [4, 4, 1, 9]), { statistic: 0, pvalue: 1, df: 3 });
  assert.ok(chiSquare([5, 0, 3, 2], [5, 0, 3, 2]).statistic > 0);
  // proportional counts are the same distribution
  assert.ok(psi([1, 2, 3], [10, 20, 30]) < 1e-15);
  assert.ok(jsDistance([1, 2, 3], [10, 20, 30]) < 1e-7);
  assert.deepEqual(zTestProportions(30, 100, 300, 1000), { statistic: 0, pvalue: 1 });
});

test('swapping the windows keeps the symmetric measures and flips z', () => {
  const a = [10, 0, 5, 7, 1];
  const b = [2, 9, 3, 0, 6];
  const pos = [0, 1, 2.5, 4, 8];
  assert.equal(psi(a, b), psi(b, a));
  assert.ok(Math.abs(jsDistance(a, b) - jsDistance(b, a)) < 1e-15);
  assert.ok(Math.abs(wassersteinBinned(pos, a, b) - wassersteinBinned(pos, b, a)) < 1e-15);
  assert.deepEqual(ksBinned(a, b), ksBinned(b, a));
  const z1 = zTestProportions(30, 100, 45, 120);
  const z2 = zTestProportions(45, 120, 30, 100);
  assert.equal(z1.statistic, -z2.statistic);
  assert.equal(z1.pvalue, z2.pvalue);
  // disjoint two-bin distributions: the largest possible JS distance, mass moved by the full gap
  assert.equal(jsDistance([1, 0], [0, 1]), 1);
  assert.equal(wassersteinBinned([0, 3], [1, 0], [0, 1]), 3);
  // positions in another order are sorted (with their counts) first
  assert.ok(Math.abs(wassersteinBinned([8, 0, 4, 1, 2.5], [1, 10, 7, 0, 5], [6, 2, 0, 9, 3]) - wassersteinBinned(pos, a, b)) < 1e-15);
});

test('empty or invalid counts give NaN, never a throw', () => {
  const nan = { statistic: NaN, pvalue: NaN };
  for (const [ref, cur] of [
    [[], []],
    [[0, 0], [1, 2]],
    [[1, 2], [0, 0]],
    [[1, 2], [1, 2, 3]],
    [[1, -1, 3], [1, 1, 1]],
    [[1, NaN], [1, 1]],
    [[1, Infinity], [1, 1]],
  ] as number[][][]) {
    assert.ok(Number.isNaN(psi(ref!, cur!)), `psi ${ref} ${cur}`);
    assert.ok(Number.isNaN(jsDistance(ref!, cur!)), `js ${ref} ${cur}`);
    assert.ok(Number.isNaN(wassersteinBinned(ref!.map((_, i) => i), ref!, cur!)), `wasserstein ${ref} ${cur}`);
    assert.deepEqual(ksBinned(ref!, cur!), nan);
    assert.deepEqual(chiSquare(ref!, cur!), { ...nan, df: NaN });
  }
  assert.ok(Number.isNaN(wassersteinBinned([0, NaN], [1, 1], [1, 1])));
  for (const args of [
    [0, 0, 1, 2],
    [3, 2, 1, 2],
    [-1, 2, 1, 2],
    [1, 2, NaN, 2],
    [1, Infinity, 1, 2],
  ]) {
    assert.deepEqual(zTestProportions(...(args as [number, number, number, number])), nan, `z-test ${args}`);
  }
  assert.deepEqual(zTestProportions(0, 10, 0, 20), { statistic: 0, pvalue: 1 });
  assert.deepEqual(zTestProportions(10, 10, 20, 20), { statistic: 0, pvalue: 1 });
  for (const v of [logGamma(NaN), regularizedGammaQ(0, 1), regularizedGammaQ(1, -1), chi2Sf(1, 0), normalTwoSidedP(NaN), kolmogorovSf(NaN)]) assert.ok(Number.isNaN(v));
});

test('special functions at closed forms and limits', () => {
  for (const x of [1e-3, 0.5, 1, 7.5, 40, 700]) close(regularizedGammaQ(1, x), Math.exp(-x), `Q(1, ${x})`, true);
  for (const x of [0.1, 2, 30, 1000]) close(chi2Sf(x, 2), Math.exp(-x / 2), `chi2Sf(${x}, 2)`, true);
  for (let n = 1, f = 1; n < 25; f *= n, n++) close(logGamma(n), Math.log(f), `logGamma(${n})`);
  assert.equal(regularizedGammaQ(3, 0), 1);
  assert.equal(regularizedGammaQ(3, Infinity), 0);
  assert.equal(chi2Sf(0, 4), 1);
  assert.equal(chi2Sf(-1, 4), 1);
  assert.equal(normalTwoSidedP(0), 1);
  assert.equal(normalTwoSidedP(-Infinity), 0);
  assert.equal(kolmogorovSf(0), 1);
  assert.equal(kolmogorovSf(40), 0);
  close(normalTwoSidedP(1.959963984540054), 0.05, 'normalTwoSidedP(1.96)');
  // the median of Gamma(a) is a − 1/3 + O(1/a): Q(a, a) = ½ − 1/(3√(2πa)) + O(1/a)
  close(regularizedGammaQ(1e8, 1e8), 0.5 - 1 / (3 * Math.sqrt(2 * Math.PI * 1e8)), 'Q(1e8, 1e8)');
});

test('classification: conventions for empty windows, missing scores, the default positive class', () => {
  assert.deepEqual(classificationMetrics([]), { accuracy: null, precision: null, recall: null, f1: null, roc_auc: null, log_loss: null, support: 0 });
  const rows: ClassificationRow[] = [
    { label: 'yes', prediction: 'yes', score: 0.9 },
    { label: 'no', prediction: 'yes', score: 0.6 },
    { label: 'yes', prediction: 'no', score: 0.4 },
    { label: 'no', prediction: 'no', score: 0.4 },
  ];
  const m = classificationMetrics(rows);
  // positive 'yes' (the larger); the tie at 0.4 between a positive and a negative counts half
  assert.deepEqual(m, { ...m, accuracy: 0.5, precision: 0.5, recall: 0.5, f1: 0.5, roc_auc: 0.625, support: 4 });
  assert.equal(classificationMetrics([...rows, { label: 'no', prediction: 'no' }]).roc_auc, null);
  assert.equal(classificationMetrics(rows.map((r) => ({ ...r, label: 'no' }))).roc_auc, null);
  // nothing predicted positive: precision 0, not NaN
  assert.equal(classificationMetrics([{ label: '1', prediction: '0' }, { label: '0', prediction: '0' }]).precision, 0);
  // a row fed to the accumulator one at a time gives what the batch gives
  const acc = new ClassificationAccumulator();
  rows.forEach((r) => acc.add(r));
  assert.deepEqual(acc.result(), m);
  assert.equal(acc.support, 4);
});

test('regression: empty windows, skipped rows, the accumulator', () => {
  assert.deepEqual(regressionMetrics([]), { mae: null, rmse: null, mape: null, support: 0 });
  const m = regressionMetrics([
    { label: 2, prediction: 3 },
    { label: -4, prediction: -1 },
    { label: NaN, prediction: 1 },
  ]);
  assert.deepEqual(m, { mae: 2, rmse: Math.sqrt(5), mape: (0.5 + 0.75) / 2, support: 2 });
  const acc = new RegressionAccumulator();
  acc.add({ label: 2, prediction: 3 });
  acc.add({ label: -4, prediction: -1 });
  assert.deepEqual(acc.result(), m);
});
