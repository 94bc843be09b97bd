import { test } from 'node:test';
import assert from 'node:assert/strict';
import { histogramBars } from './histogram.js';

test('histogram bars scale to the tallest bin', () => {
  const bars = histogramBars([1, 4, 2, 0], 100, 40, 0);
  assert.equal(bars.length, 4);
  assert.deepEqual(bars.map((b) => b.height), [10, 40, 20, 0]);
  assert.deepEqual(bars.map((b) => b.y), [30, 0, 20, 40]);
  assert.deepEqual(bars.map((b) => b.x), [0, 25, 50, 75]);
});

test('no bars without counts', () => {
  assert.deepEqual(histogramBars([], 100, 40), []);
  assert.deepEqual(histogramBars([0, 0], 100, 40), []);
});
