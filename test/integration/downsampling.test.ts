import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { openStore, migrateToLatest, type MetadataStore } from '../../src/platform/db/index.js';
import { MIGRATIONS } from '../../src/migrations.js';
import { pathToFileURL } from 'node:url';
import { createArtifactStore } from '../../src/platform/artifacts/index.js';
import { TrackingService } from '../../src/tracking/service.js';
import type { Metric } from '../../src/tracking/types.js';
import { STORE_BACKENDS, freshStore, tempDir, type TestStore } from '../support/backends.js';

function rng(seed: number) {
  return () => {
    seed = (seed * 1664525 + 1013904223) % 4294967296;
    return seed / 4294967296;
  };
}

for (const backend of STORE_BACKENDS) {
  describe(`downsampled histories on ${backend}`, () => {
    let test: TestStore;
    let store: MetadataStore;
    let svc: TrackingService;
    before(async () => {
      test = await freshStore(backend);
      store = await openStore(test.uri);
      await migrateToLatest(store, MIGRATIONS);
      svc = new TrackingService(store, await createArtifactStore(pathToFileURL(tempDir('kiln-art-')).href));
    });
    after(async () => {
      await store?.close();
      await test?.drop();
    });

    it('stores a point once whether it comes again in a later batch or twice in one, and still counts new points of a mixed batch', async () => {
      const runId = (await svc.createRun({ experimentId: '0' })).info.runId;
      const p = (step: number, value = step / 10) => ({ key: 'k', value, timestamp: 5000 + step, step });
      await svc.logBatch({ runId, metrics: [p(0), p(1)] });
      await svc.logBatch({ runId, metrics: [p(1), p(2), p(2), p(3, NaN)] }); // one stored before, one twice in the batch
      await svc.logBatch({ runId, metrics: [p(4), p(4)] }); // all new, one twice
      const h = await svc.getMetricHistory({ runId, key: 'k', maxPoints: 100 });
      assert.equal(h.totalPoints, 5);
      assert.deepEqual(h.metrics.map((m) => [m.step, m.value]), [[0, 0], [1, 0.1], [2, 0.2], [3, NaN], [4, 0.4]]);
      // The bucket summaries agree with the points: a downsampled read of the same history counts the same.
      const d = await svc.getMetricHistory({ runId, key: 'k', maxPoints: 2 });
      assert.equal(d.totalPoints, 5);
      const run = await svc.getRun(runId);
      assert.deepEqual(run.data.metrics.map((m) => [m.key, m.step, m.value]), [['k', 4, 0.4]]);
    });

    it('refuses points for a run that is not active, storing none of them', async () => {
      const runId = (await svc.createRun({ experimentId: '0' })).info.runId;
      await svc.deleteRun(runId);
      await assert.rejects(svc.logBatch({ runId, metrics: [{ key: 'k', value: 1, timestamp: 1, step: 0 }] }), /must be in the 'active' state/);
      await assert.rejects(svc.logBatch({ runId: 'f'.repeat(32), metrics: [{ key: 'k', value: 1, timestamp: 1, step: 0 }] }), /not found/);
      await svc.restoreRun(runId);
      assert.equal((await svc.getMetricHistory({ runId, key: 'k', maxPoints: 10 })).totalPoints, 0);
    });

    for (let trial = 0; trial < 12; trial++) {
      it(`keeps the envelope, real points and counts (random history ${trial})`, async () => {
        const r = rng(1000 + trial);
        const runId = (await svc.createRun({ experimentId: '0' })).info.runId;
        const n = 500 + Math.floor(r() * 6000);
        const stepScale = [1, 3, 50, 1000][trial % 4]!;
        const offset = trial % 3 === 0 ? -5000 : 0;
        const points: Metric[] = [];
        for (let i = 0; i < n; i++) {
          const step = offset + Math.floor(i * stepScale * (0.5 + r()));
          const roll = r();
          const value = roll < 0.01 ? NaN : roll < 0.015 ? (r() < 0.5 ? Infinity : -Infinity) : roll < 0.02 ? 1000 * (r() - 0.5) : Math.sin(i / 50) + r() * 0.1;
          points.push({ key: 'm', value, timestamp: 1000 + i, step });
        }
        for (let i = 0; i < points.length; i += 1000) await svc.logBatch({ runId, metrics: points.slice(i, i + 1000) });
        await svc.logBatch({ runId, metrics: points.slice(0, 300) }); // a retried batch stores nothing new
        const stored = new Map<string, Metric>();
        for (const p of points) stored.set(`${p.step}|${p.timestamp}|${p.value}`, p);
        const all = [...stored.values()];
        const steps = all.map((p) => p.step).sort((a, b) => a - b);
        const ranges: [number | undefined, number | undefined][] = [[undefined, undefined], [steps[Math.floor(steps.length / 4)], steps[Math.floor((3 * steps.length) / 4)]], [undefined, steps[Math.floor(steps.length / 3)]]];
        for (const maxPoints of [10, 100, 1000, 100_000]) {
          for (const [startStep, endStep] of ranges) {
            const inRange = all.filter((p) => (startStep === undefined || p.step >= startStep) && (endStep === undefined || p.step <= endStep));
            const h = await svc.getMetricHistory({ runId, key: 'm', maxPoints, startStep, endStep });
            const where = `maxPoints=${maxPoints} range=${startStep}..${endStep}`;
            assert.equal(h.totalPoints, inRange.length, `total ${where}`);
            assert.equal(h.downsampled, inRange.length > maxPoints, `downsampled ${where}`);
            assert.ok(h.metrics.length <= maxPoints, `at most maxPoints ${where}`);
            for (let i = 1; i < h.metrics.length; i++) assert.ok(h.metrics[i]!.step >= h.metrics[i - 1]!.step, `step order ${where}`);
            for (const p of h.metrics) assert.ok(stored.has(`${p.step}|${p.timestamp}|${p.value}`), `a real point ${JSON.stringify(p)} ${where}`);
            const finite = inRange.filter((p) => !Number.isNaN(p.value)).map((p) => p.value);
            if (finite.length > 0) {
              const values = h.metrics.map((p) => p.value);
              assert.ok(values.includes(Math.max(...finite)), `the maximum survives ${where}`);
              assert.ok(values.includes(Math.min(...finite)), `the minimum survives ${where}`);
            }
          }
        }
      });
    }
  });
}
