import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HyperLogLog, KllSketch, SpaceSaving, mulberry32 } from './sketch.js';
import { jsDivergence, cdfAt } from './divergence.js';

function rankError(sorted: Float64Array, q: number, v: number): number {
  // fraction of values < v and ≤ v; the error is the distance from q to that interval
  let lo = 0;
  let hi = sorted.length;
  while (lo < hi) {
    const m = (lo + hi) >> 1;
    if (sorted[m]! < v) lo = m + 1;
    else hi = m;
  }
  const below = lo / sorted.length;
  let lo2 = lo;
  hi = sorted.length;
  while (lo2 < hi) {
    const m = (lo2 + hi) >> 1;
    if (sorted[m]! <= v) lo2 = m + 1;
    else hi = m;
  }
  const upTo = lo2 / sorted.length;
  return q < below ? below - q : q > upTo ? q - upTo : 0;
}

test('KLL quantiles stay within the documented 1% rank error on 200k values (uniform, normal, skewed)', () => {
  const rnd = mulberry32(7);
  const gens: Record<string, () => number> = {
    uniform: () => rnd() * 1000,
    normal: () => Math.sqrt(-2 * Math.log(rnd() + 1e-12)) * Math.cos(2 * Math.PI * rnd()),
    exponential: () => -Math.log(rnd() + 1e-12),
    sorted: (() => {
      let i = 0;
      return () => i++;
    })(),
  };
  for (const [name, gen] of Object.entries(gens)) {
    const n = 200_000;
    const sk = new KllSketch();
    const all = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const x = gen();
      all[i] = x;
      sk.update(x);
    }
    all.sort();
    const qs = Array.from({ length: 99 }, (_, i) => (i + 1) / 100);
    const got = sk.quantiles(qs);
    let worst = 0;
    qs.forEach((q, i) => (worst = Math.max(worst, rankError(all, q, got[i]!))));
    assert.ok(worst <= 0.01, `${name}: worst rank error ${worst}`);
    const hist = sk.histogram([all[0]!, (all[0]! + all[n - 1]!) / 2, all[n - 1]!]);
    assert.equal(hist[0]! + hist[1]!, n, 'histogram weights sum to n');
  }
});

test('KLL is exact on small inputs (nearest-rank quantiles)', () => {
  const sk = new KllSketch();
  for (const x of [5, 1, 4, 2, 3, 10, 9, 8, 7, 6]) sk.update(x);
  assert.deepEqual(sk.quantiles([0, 0.1, 0.25, 0.5, 0.75, 1]), [1, 1, 3, 5, 8, 10]);
  assert.deepEqual(sk.histogram([1, 5.5, 10]), [5, 5]);
});

test('KLL gives the same answers for the same seed (profiles are reproducible)', () => {
  const a = new KllSketch(400, 3);
  const b = new KllSketch(400, 3);
  for (let i = 0; i < 50_000; i++) {
    a.update((i * 7919) % 10007);
    b.update((i * 7919) % 10007);
  }
  assert.deepEqual(a.quantiles([0.1, 0.5, 0.9]), b.quantiles([0.1, 0.5, 0.9]));
});

test('HyperLogLog estimates within 3% (≈ 4 standard errors)', () => {
  for (const n of [1000, 50_000, 300_000]) {
    const h = new HyperLogLog();
    for (let i = 0; i < n; i++) h.add(`value-${i}`);
    for (let i = 0; i < n; i += 3) h.add(`value-${i}`); // duplicates do not count
    const e = h.estimate();
    assert.ok(Math.abs(e - n) / n < 0.03, `n=${n} estimate=${e}`);
  }
});

test('frequent-items summary keeps heavy hitters with bounded undercount', () => {
  const ss = new SpaceSaving(256);
  const rnd = mulberry32(1);
  const truth = new Map<string, number>();
  for (let i = 0; i < 200_000; i++) {
    const v = rnd() < 0.3 ? `hot${Math.floor(rnd() * 5)}` : `cold${Math.floor(rnd() * 1e6)}`;
    truth.set(v, (truth.get(v) ?? 0) + 1);
    ss.add(v);
  }
  const entries = ss.entries();
  for (let i = 0; i < 5; i++) {
    const e = entries.find((x) => x.value === `hot${i}`);
    assert.ok(e, `hot${i} retained`);
    const t = truth.get(`hot${i}`)!;
    assert.ok(e.count <= t && t <= e.count + e.error, `hot${i}: ${e.count}..${e.count + e.error} vs ${t}`);
  }
});

test('Jensen–Shannon divergence: 0 for equal, 1 for disjoint, symmetric', () => {
  assert.equal(jsDivergence([1, 2, 3], [2, 4, 6]), 0);
  assert.equal(jsDivergence([1, 0], [0, 1]), 1);
  const a = jsDivergence([0.5, 0.5], [0.9, 0.1]);
  assert.ok(Math.abs(a - jsDivergence([0.9, 0.1], [0.5, 0.5])) < 1e-12);
  assert.ok(a > 0 && a < 1);
  assert.equal(cdfAt([0, 1, 2], 1), 0.5);
});
