import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { pathToFileURL } from 'node:url';
import { openStore, migrateToLatest, type MetadataStore } from '../../src/platform/db/index.js';
import { MIGRATIONS } from '../../src/migrations.js';
import { createArtifactStore } from '../../src/platform/artifacts/index.js';
import { TrackingService } from '../../src/tracking/service.js';
import type { Metric } from '../../src/tracking/types.js';
import { STORE_BACKENDS, freshStore, tempDir, type TestStore } from '../support/backends.js';

const key = (p: Metric) => `${p.key}|${p.step}|${p.timestamp}|${p.value}`;

// Batch writes: each request is stored whole or not at all, each distinct point once, whatever the engine's
// statement shape (rows of placeholders, or one array per column).
for (const backend of STORE_BACKENDS) {
  describe(`metric batches on ${backend}`, () => {
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

    it('stores a 1,000-metric batch with repeated points, NaN and ±Infinity: each distinct point once, the latest value per key', async () => {
      const runId = (await svc.createRun({ experimentId: '0' })).info.runId;
      const batch: Metric[] = [];
      for (let i = 0; i < 990; i++) batch.push({ key: `k${i % 10}`, value: i % 97 === 0 ? NaN : i / 7, timestamp: 1000 + i, step: Math.floor(i / 10) - 20 });
      batch.push({ ...batch[5]! }, { ...batch[6]! }, { ...batch[15]! }); // the same points twice in one batch
      batch.push({ key: 'inf', value: Infinity, timestamp: 1, step: 0 }, { key: 'inf', value: -Infinity, timestamp: 1, step: 1 }, { key: 'inf', value: Infinity, timestamp: 2, step: 1 });
      batch.push({ key: 'tie', value: 3, timestamp: 5, step: 2 }, { key: 'tie', value: 9, timestamp: 5, step: 2 }, { key: 'tie', value: NaN, timestamp: 5, step: 2 }, { key: 'tie', value: 1, timestamp: 4, step: 2 });
      assert.equal(batch.length, 1000);
      await svc.logBatch({ runId, metrics: batch });

      const distinct = new Map(batch.map((p) => [key(p), p]));
      for (const k of [...new Set(batch.map((p) => p.key))]) {
        const expected = [...distinct.values()].filter((p) => p.key === k);
        const h = await svc.getMetricHistory({ runId, key: k, maxPoints: 100_000 });
        assert.equal(h.metrics.length, expected.length, k);
        assert.deepEqual(new Set(h.metrics.map(key)), new Set(expected.map(key)), k);
        const few = await svc.getMetricHistory({ runId, key: k, maxPoints: 10 });
        assert.equal(few.totalPoints, expected.length, `${k}: bucket counts`);
      }
      const latest = new Map((await svc.getRun(runId)).data.metrics.map((m) => [m.key, m]));
      assert.deepEqual(latest.get('k9'), { key: 'k9', value: 989 / 7, timestamp: 1989, step: 78 });
      assert.deepEqual(latest.get('inf'), { key: 'inf', value: Infinity, timestamp: 2, step: 1 });
      assert.deepEqual(latest.get('tie'), { key: 'tie', value: 9, timestamp: 5, step: 2 });

      // The same batch again, with some new points: only those are stored and counted.
      await svc.logBatch({ runId, metrics: [...batch.slice(0, 500), { key: 'k0', value: 42, timestamp: 1, step: 1000 }] });
      const h = await svc.getMetricHistory({ runId, key: 'k0', maxPoints: 10 });
      assert.equal(h.totalPoints, [...distinct.values()].filter((p) => p.key === 'k0').length + 1);
      assert.equal(latest.size, 12);
      assert.deepEqual((await svc.getRun(runId)).data.metrics.find((m) => m.key === 'k0'), { key: 'k0', value: 42, timestamp: 1, step: 1000 });
    });

    it('stores nothing of a refused batch: a missing or deleted run, a changed param', async () => {
      await assert.rejects(svc.logBatch({ runId: 'f'.repeat(32), metrics: [{ key: 'a', value: 1, timestamp: 1, step: 0 }] }), /Run with id=f+ not found/);
      const runId = (await svc.createRun({ experimentId: '0' })).info.runId;
      await svc.logBatch({ runId, params: [{ key: 'lr', value: '0.1' }] });
      await assert.rejects(
        svc.logBatch({ runId, params: [{ key: 'new', value: 'x' }, { key: 'lr', value: '0.2' }], metrics: [{ key: 'a', value: 1, timestamp: 1, step: 0 }] }),
        /Changing param values is not allowed/,
      );
      let run = await svc.getRun(runId);
      assert.deepEqual(run.data.params, [{ key: 'lr', value: '0.1' }]);
      assert.deepEqual(run.data.metrics, []);
      assert.equal((await svc.getMetricHistory({ runId, key: 'a', maxPoints: 10 })).totalPoints, 0);

      await svc.deleteRun(runId);
      await assert.rejects(svc.logBatch({ runId, metrics: [{ key: 'a', value: 1, timestamp: 1, step: 0 }] }), /must be in the 'active' state/);
      await assert.rejects(svc.logBatch({ runId, params: [{ key: 'p', value: '1' }] }), /must be in the 'active' state/);
      await svc.restoreRun(runId);
      run = await svc.getRun(runId);
      assert.deepEqual(run.data.metrics, []);
      assert.deepEqual(run.data.params, [{ key: 'lr', value: '0.1' }]);
      assert.equal((await svc.getMetricHistory({ runId, key: 'a', maxPoints: 10 })).totalPoints, 0);
    });

    it('refuses a params-only batch that changes a stored value as a whole, and keeps same-value repeats idempotent', async () => {
      const runId = (await svc.createRun({ experimentId: '0' })).info.runId;
      await svc.logBatch({ runId, params: [{ key: 'lr', value: '0.1' }, { key: 'depth', value: '3' }] });
      await assert.rejects(svc.logBatch({ runId, params: [{ key: 'fresh', value: 'x' }, { key: 'depth', value: '4' }] }), (e: Error & { details?: unknown }) => {
        assert.match(e.message, /Param with key='depth' was already logged with value='3'.*new value '4'/);
        return true;
      });
      await svc.logBatch({ runId, params: [{ key: 'lr', value: '0.1' }, { key: 'batch', value: '32' }] }); // one repeat, one new
      assert.deepEqual((await svc.getRun(runId)).data.params, [
        { key: 'batch', value: '32' },
        { key: 'depth', value: '3' },
        { key: 'lr', value: '0.1' },
      ]);
    });

    it('settles concurrent params-only batches on the same keys: equal values all pass, a different value is refused whole', async () => {
      const runId = (await svc.createRun({ experimentId: '0' })).info.runId;
      const same = await Promise.allSettled(Array.from({ length: 8 }, (_, i) => svc.logBatch({ runId, params: [{ key: 'shared', value: 'v' }, { key: `own${i}`, value: String(i) }] })));
      assert.deepEqual(same.map((r) => r.status), Array(8).fill('fulfilled'));
      const rival = await Promise.allSettled(Array.from({ length: 6 }, (_, i) => svc.logBatch({ runId, params: [{ key: 'contested', value: `c${i}` }, { key: `mine${i}`, value: 'x' }] })));
      const won = rival.flatMap((r, i) => (r.status === 'fulfilled' ? [i] : []));
      assert.equal(won.length, 1, 'exactly one value of the contested key is stored');
      for (const r of rival) if (r.status === 'rejected') assert.match(String(r.reason), /Changing param values is not allowed/);
      const params = new Map((await svc.getRun(runId)).data.params.map((p) => [p.key, p.value]));
      assert.equal(params.get('contested'), `c${won[0]}`);
      // A refused batch stored none of its keys.
      for (let i = 0; i < 6; i++) assert.equal(params.has(`mine${i}`), i === won[0], `mine${i}`);
      assert.equal(params.size, 1 + 8 + 1 + 1);
    });

    it('creates a run with its tags and ends it', async () => {
      const created = await svc.createRun({ experimentId: '0', runName: 'lifecycle', tags: [{ key: 'team', value: 'vision' }] });
      const runId = created.info.runId;
      await svc.logBatch({ runId, params: Array.from({ length: 10 }, (_, k) => ({ key: `p${k}`, value: String(k) })) });
      const info = await svc.updateRun({ runId, status: 'FINISHED', endTime: 12345 });
      assert.equal(info.status, 'FINISHED');
      const run = await svc.getRun(runId);
      assert.equal(run.info.status, 'FINISHED');
      assert.equal(run.info.endTime, 12345);
      assert.equal(run.info.runName, 'lifecycle');
      assert.deepEqual(run.data.tags, [{ key: 'mlflow.runName', value: 'lifecycle' }, { key: 'team', value: 'vision' }]);
      assert.equal(run.data.params.length, 10);
      await assert.rejects(svc.createRun({ experimentId: '12345' }), /No Experiment with id=12345 exists/);
      await assert.rejects(svc.createRun({ experimentId: 'abc' }), /No Experiment with id=abc exists/);
      const exp = await svc.createExperiment({ name: `gone-${runId}` });
      await svc.deleteExperiment(exp);
      await assert.rejects(svc.createRun({ experimentId: exp }), new RegExp(`The experiment ${exp} must be in the 'active' state. Current state is deleted`));
      const other = await svc.createExperiment({ name: `there-${runId}`, artifactLocation: 'file:///tmp/kiln-elsewhere' });
      const placed = await svc.createRun({ experimentId: other, tags: [{ key: 'a', value: '1' }] });
      assert.equal(placed.info.artifactUri, `file:///tmp/kiln-elsewhere/${placed.info.runId}/artifacts`);
      assert.equal(placed.info.experimentId, other);
      assert.deepEqual((await svc.getRun(placed.info.runId)).data.tags.map((t) => t.key), ['a', 'mlflow.runName']);
      await assert.rejects(svc.updateRun({ runId: 'e'.repeat(32), status: 'FAILED' }), /Run with id=e+ not found/);
      await svc.deleteRun(runId);
      await assert.rejects(svc.updateRun({ runId, status: 'FAILED', endTime: 1 }), /must be in the 'active' state/);
      await svc.restoreRun(runId);
      assert.equal((await svc.getRun(runId)).info.status, 'FINISHED', 'a refused update changes nothing');
    });
  });
}
