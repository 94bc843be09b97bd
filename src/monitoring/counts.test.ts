import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ColumnCounter, binLabels, mergeInto, type CategoricalReference, type NumericReference } from './counts.js';
import { quantileSorted } from './reference.js';

const numeric = (edges: number[]): NumericReference => ({ name: 'x', kind: 'numeric', edges, counts: new Array(edges.length + 1).fill(0), missing: 0, invalid: 0, mean: 0, std: 1, unique: 10, percentiles: [] });

test('numeric values fall in left-closed bins on the edges (as np.histogram), with open bins below and above', () => {
  const c = new ColumnCounter(numeric([0, 1, 2, 5]));
  for (const x of [-1, 0, 0.5, 1, 1.0000001, 2, 5, 5.5, NaN]) c.addNumber(x);
  // below | [0,1) | [1,2) | [2,5] | above
  assert.deepEqual(c.counts.c, [1, 2, 2, 2, 1]);
  assert.equal(c.counts.m, 1);
  assert.equal(c.counts.lo, -1);
  assert.equal(c.counts.hi, 5.5);
  assert.deepEqual(binLabels(c.ref), ['< 0', '[0, 1)', '[1, 2)', '[2, 5]', '> 5']);
  const flat = new ColumnCounter(numeric([3, 3]));
  for (const x of [2, 3, 3, 4]) flat.addNumber(x);
  assert.deepEqual(flat.counts.c, [1, 2, 1]);
});

test('text fields: decimals as Number() reads them, missing tokens, NaN as missing, infinities and words as invalid', () => {
  const c = new ColumnCounter(numeric([0, 1, 2]));
  for (const s of ['0.5', '1', '1.50', '-0', '', 'NA', 'null', 'NaN', 'inf', '-Infinity', 'abc', '1e0', ' 2']) c.addText(s);
  assert.deepEqual(c.counts.c, [0, 2, 4, 0]);
  assert.equal(c.counts.m, 4);
  assert.equal(c.counts.i, 3);
  // The fast path for plain decimals lands every value where Number() would.
  const edges = Array.from({ length: 11 }, (_, i) => i / 10 - 0.5);
  const a = new ColumnCounter(numeric(edges));
  const b = new ColumnCounter(numeric(edges));
  let seed = 7;
  const rand = () => ((seed = (seed * 16807) % 2147483647) / 2147483647);
  for (let i = 0; i < 20000; i++) {
    const s = ((rand() - 0.5) * 1.2).toFixed(1 + (i % 12));
    a.addText(s);
    b.addNumber(Number(s));
  }
  assert.deepEqual(a.counts.c, b.counts.c);
});

test('categories: the reference top-k, the rest as other; numeric categories compared as numbers', () => {
  const ref: CategoricalReference = { name: 'c', kind: 'categorical', categories: ['1', '2'], counts: [0, 0, 0], missing: 0, invalid: 0, unique: 2, numeric: true };
  const c = new ColumnCounter(ref);
  for (const v of ['1', '1.0', 2, '3', null, true]) c.addValue(v);
  assert.deepEqual(c.counts.c, [2, 1, 2]);
  assert.equal(c.counts.m, 1);
  const merged = mergeInto({ rows: 1, cols: { c: { c: [1, 0, 0], m: 0, i: 0 } } }, { rows: 2, cols: { c: c.counts } });
  assert.deepEqual(merged.cols.c!.c, [3, 1, 2]);
  assert.equal(merged.rows, 3);
});

test("quantiles as NumPy's default (linear interpolation), to the double", () => {
  const v = Float64Array.from([1, 2, 3, 4, 10]);
  // np.quantile([1, 2, 3, 4, 10], q) with NumPy 1.24
  assert.equal(quantileSorted(v, 0.5), 3);
  assert.equal(quantileSorted(v, 0.1), 1.4);
  assert.equal(quantileSorted(v, 0.9), 7.6000000000000005);
});
