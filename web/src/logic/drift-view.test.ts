import { test } from 'node:test';
import assert from 'node:assert/strict';
import { heatCell, isRowWindow, labelledColumns, overlayBars, toShares, windowLabel } from './drift-view.js';

test('heat cells: drifted by PSI band, stable, no data', () => {
  assert.deepEqual(heatCell(undefined), { state: 'no-data', level: 0 });
  assert.deepEqual(heatCell({ method: 'ks', statistic: null, drifted: false, psi: null }), { state: 'no-data', level: 0 });
  assert.deepEqual(heatCell({ method: 'ks', statistic: 0.3, drifted: false, psi: 0.01 }), { state: 'stable', level: 1 });
  assert.deepEqual(heatCell({ method: 'ks', statistic: 0.3, drifted: false, psi: 0.15 }), { state: 'stable', level: 2 });
  assert.deepEqual(heatCell({ method: 'ks', statistic: 0.01, drifted: true, psi: 0.05 }), { state: 'drifted', level: 1 });
  assert.deepEqual(heatCell({ method: 'ks', statistic: 0.01, drifted: true, psi: 0.3 }), { state: 'drifted', level: 3 });
  assert.deepEqual(heatCell({ method: 'psi', statistic: 2, drifted: true, psi: 2 }), { state: 'drifted', level: 4 });
});

test('window labels: UTC days, times, row-count windows', () => {
  const day = Date.UTC(2024, 2, 2);
  assert.equal(windowLabel(day, '1d'), '2024-03-02');
  assert.equal(windowLabel(day, '7d'), '2024-03-02');
  assert.equal(windowLabel(day + 3_600_000, '1h'), '2024-03-02 01:00 UTC');
  assert.equal(windowLabel(day + 30_000, '30s'), '2024-03-02 00:00:30 UTC');
  assert.equal(windowLabel(12, '10000 rows'), '#12');
  assert.equal(isRowWindow('1 row'), true);
  assert.equal(isRowWindow('1h'), false);
});

test('overlay bars: each side in shares of its own total, on one scale', () => {
  assert.deepEqual(toShares([1, 3]), [0.25, 0.75]);
  assert.deepEqual(toShares([0, 0]), [0, 0]);
  const bars = overlayBars(['a', 'b'], [10, 30], [2, 2], 100, 60);
  assert.deepEqual(
    bars.map((b) => [b.label, b.reference, b.current, b.x, b.width, b.refHeight, b.curHeight]),
    [
      ['a', 0.25, 0.5, 0, 50, 20, 40],
      ['b', 0.75, 0.5, 50, 50, 60, 40],
    ],
  );
  assert.deepEqual(
    overlayBars(['a'], [0], [0], 10, 10).map((b) => b.refHeight + b.curHeight),
    [0],
  );
});

test('labelled columns: evenly spaced, the last always', () => {
  assert.deepEqual([...labelledColumns(3, 10)].sort((a, b) => a - b), [0, 1, 2]);
  assert.deepEqual([...labelledColumns(10, 3)].sort((a, b) => a - b), [1, 5, 9]);
  assert.equal(labelledColumns(0, 5).size, 0);
});
