import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { colorDistance, ema, envelope, forLog, maxPointsFor, mergeCurves, PALETTE, parseValue, toCurve, xRangeFor } from './chart-data.js';
import type { Double, MetricHistory } from '../../../src/tracking/schemas.js';

const hist = (values: Double[], extra: Partial<MetricHistory> = {}): MetricHistory => ({
  key: 'loss',
  steps: values.map((_, i) => i),
  timestamps: values.map((_, i) => 1_000_000 + i * 500),
  values,
  downsampled: false,
  ...extra,
});

describe('chart data', () => {
  it('parses the JSON doubles the API sends', () => {
    assert.equal(parseValue(1.5), 1.5);
    assert.ok(Number.isNaN(parseValue('NaN')));
    assert.equal(parseValue('Infinity'), Infinity);
    assert.equal(parseValue('-Infinity'), -Infinity);
    assert.ok(Number.isNaN(parseValue(null)));
  });

  it('turns non-finite values into gaps and counts them', () => {
    const c = toCurve(hist([1, 'NaN', 3, 'Infinity', '-Infinity', 6]), 'step');
    assert.deepEqual(c.x, [0, 1, 2, 3, 4, 5]);
    assert.deepEqual(c.y, [1, null, 3, null, null, 6]);
    assert.equal(c.nonFinite, 3);
    assert.equal(c.lo, undefined);
  });

  it('puts x in steps, wall seconds or seconds since the start, sorted by x', () => {
    const h = hist([1, 2, 3]);
    assert.deepEqual(toCurve(h, 'wall').x, [1000, 1000.5, 1001]);
    assert.deepEqual(toCurve(h, 'relative').x, [0, 0.5, 1]);
    assert.deepEqual(toCurve(h, 'relative', { t0Ms: 999_000 }).x, [1, 1.5, 2]);
    const shuffled = { ...h, timestamps: [3000, 1000, 2000] };
    const c = toCurve(shuffled, 'wall');
    assert.deepEqual(c.x, [1, 2, 3]);
    assert.deepEqual(c.y, [2, 3, 1]);
  });

  it('smooths like TensorBoard (debiased EMA), keeping gaps', () => {
    assert.deepEqual(ema([1, 2, 3], 0), [1, 2, 3]);
    const s = ema([10, null, 10, 10], 0.9);
    assert.equal(s[1], null);
    for (const v of [s[0], s[2], s[3]]) assert.ok(Math.abs((v as number) - 10) < 1e-9, 'a constant stays constant');
    const r = ema([0, 1], 0.5);
    assert.equal(r[0], 0);
    assert.ok(Math.abs((r[1] as number) - 2 / 3) < 1e-9);
  });

  it('rebuilds the min/max envelope of a downsampled history', () => {
    // 2 groups of width 50 over steps 0..99 (maxPoints 8 → 2 groups): each sends its min and max point
    const steps = [3, 40, 60, 99];
    const y = [1, 5, -2, 7];
    const env = envelope(steps, y, 8);
    assert.deepEqual(env.lo, [1, 1, -2, -2]);
    assert.deepEqual(env.hi, [5, 5, 7, 7]);
    const c = toCurve({ key: 'k', steps, timestamps: [1, 2, 3, 4], values: [1, 5, -2, 7], downsampled: true }, 'step', { maxPoints: 8 });
    assert.deepEqual(c.hi, [5, 5, 7, 7]);
  });

  it('drops non-positive values for a log scale', () => {
    assert.deepEqual(forLog([1, 0, -1, null, 2]), [1, null, null, null, 2]);
  });

  it('merges several runs onto one x axis', () => {
    const m = mergeCurves([
      { x: [0, 1, 2], y: [1, 2, 3] },
      { x: [1, 3], y: [10, 30] },
    ]);
    assert.deepEqual(m.x, [0, 1, 2, 3]);
    assert.deepEqual(m.ys, [
      [1, 2, 3, null],
      [null, 10, null, 30],
    ]);
  });

  it('asks for about two points per pixel', () => {
    assert.equal(maxPointsFor(800), 1600);
    assert.equal(maxPointsFor(10), 200);
    assert.equal(maxPointsFor(100_000), 5000);
  });

  it('has series colours that stay distinct: the first three far apart, none of the ten close', () => {
    assert.equal(new Set(PALETTE).size, PALETTE.length);
    for (let i = 0; i < 3; i++) for (let j = i + 1; j < 3; j++) assert.ok(colorDistance(PALETTE[i]!, PALETTE[j]!) > 60, `${PALETTE[i]} vs ${PALETTE[j]}`);
    for (let i = 0; i < PALETTE.length; i++) for (let j = i + 1; j < PALETTE.length; j++) assert.ok(colorDistance(PALETTE[i]!, PALETTE[j]!) > 20, `${PALETTE[i]} vs ${PALETTE[j]}`);
    assert.ok(colorDistance('#2563eb', '#4f46e5') < 25, 'blue and indigo are what the check rejects');
  });

  it('frames the x axis around the steps there are: one point, a few, many', () => {
    assert.deepEqual(xRangeFor([7], 'step'), [6, 8]);
    assert.deepEqual(xRangeFor([0], 'step'), [-1, 1]);
    assert.deepEqual(xRangeFor([3, 5], 'step'), [2.8, 5.2]);
    assert.equal(xRangeFor([0, 1, 2, 3], 'step'), undefined, 'enough points: the axis follows the data');
    assert.deepEqual(xRangeFor([1000], 'wall'), [940, 1060]);
    assert.equal(xRangeFor([], 'step'), undefined);
  });
});
