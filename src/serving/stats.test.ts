import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RollingStats } from './stats.js';

test('rolling figures: rate, error rate and latency quantiles over a window, older seconds forgotten', () => {
  let now = 1_000_000;
  const s = new RollingStats(() => now);
  for (let i = 1; i <= 100; i++) s.record(i, i % 10 !== 0);
  const w = s.window(60);
  assert.equal(w.requests, 100);
  assert.equal(w.errors, 10);
  assert.equal(w.errorRate, 0.1);
  // Log-scale buckets (×1.2): quantiles within 20 % above the true value.
  assert.ok(w.p50Ms! >= 50 && w.p50Ms! <= 60, String(w.p50Ms));
  assert.ok(w.p99Ms! >= 99 && w.p99Ms! <= 119, String(w.p99Ms));
  assert.equal(w.disagreementRate, null);
  now += 61_000;
  assert.equal(s.window(60).requests, 0);
  assert.equal(s.window(60).p99Ms, null);
  assert.equal(s.totalRequests, 100);
  s.compared(true);
  s.compared(false);
  assert.equal(s.window(60).disagreementRate, 0.5);
});

test('a slot reused after the ring wrapped starts from zero', () => {
  let now = 0;
  const s = new RollingStats(() => now);
  s.record(5, false);
  now += 600_000; // the same slot, ten minutes later
  s.record(1, true);
  const w = s.window(1);
  assert.equal(w.requests, 1);
  assert.equal(w.errors, 0);
});
