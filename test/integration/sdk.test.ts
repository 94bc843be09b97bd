import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync, rmSync } from 'node:fs';
import { createServer as netServer } from 'node:net';
import { join } from 'node:path';
import { Kiln, KilnClient, KilnApiError } from '@kiln-mlops/sdk';
import { loadConfig } from '../../src/platform/config.js';
import { createServer } from '../../src/server.js';
import { STORE_BACKENDS, freshStore, tempDir } from '../support/backends.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { pathToFileURL } from 'node:url';
import { call } from '../support/server.js';
import { weatherCsv } from '../support/fixtures.js';
import { linearModel, notOnnxBytes } from '../../src/registry/packaging/test-models.js';

for (const backend of STORE_BACKENDS) {
  describe(`TypeScript SDK on ${backend}`, () => {
    let ts: TestServer;
    let kiln: Kiln;
    before(async () => {
      ts = await startTestServer({ store: backend });
      kiln = new Kiln({ trackingUri: ts.url, buffer: { flushIntervalMs: 50 } });
    });
    after(async () => {
      await ts?.stop();
    });

    it('logs a first run in three lines and marks it FINISHED', async () => {
      const runId = await kiln.withRun({ experiment: 'sdk-demo', runName: 'first', params: { lr: 0.01, layers: [64, 32] } }, async (run) => {
        for (let step = 0; step < 2500; step++) run.logMetric('loss', 1 / (step + 1), step);
        run.logMetrics({ acc: 0.9, f1: NaN }, 7);
        await run.setTag('team', 'vision');
        return run.id;
      });
      const run = await kiln.client.getRun(runId);
      assert.equal(run.info.status, 'FINISHED');
      assert.ok(run.info.endTime !== null);
      assert.equal(run.info.runName, 'first');
      assert.deepEqual(Object.fromEntries(run.data.params.map((p) => [p.key, p.value])), { layers: '[64,32]', lr: '0.01' });
      const h = await kiln.client.getMetricHistory({ runId, key: 'loss' });
      assert.equal(h.metrics.length, 2500, 'every buffered point is stored by end()');
      assert.ok(Number.isNaN(run.data.metrics.find((m) => m.key === 'f1')!.value));
      assert.equal(run.data.tags.find((t) => t.key === 'team')?.value, 'vision');
    });

    it('marks the run FAILED and rethrows when the callback throws', async () => {
      let id = '';
      await assert.rejects(
        kiln.withRun({ experiment: 'sdk-demo' }, async (run) => {
          id = run.id;
          run.logMetric('x', 1);
          throw new Error('boom');
        }),
        /boom/,
      );
      const run = await kiln.client.getRun(id);
      assert.equal(run.info.status, 'FAILED');
      assert.equal(run.data.metrics.find((m) => m.key === 'x')?.value, 1, 'metrics logged before the failure are kept');
    });

    it('supports nested runs, dataset inputs, artifacts and search', async () => {
      const parent = await kiln.startRun({ experiment: 'sdk-nested' });
      const child = await kiln.startRun({ experiment: 'sdk-nested', parentRunId: parent.id, runName: 'child' });
      await child.logInput({ name: 'weather', digest: 'd1', sourceType: 'local', source: 'weather.csv' }, 'training');
      const dir = tempDir();
      mkdirSync(join(dir, 'plots'));
      writeFileSync(join(dir, 'plots', 'a.txt'), 'hello');
      writeFileSync(join(dir, 'model.onnx'), Buffer.from([1, 2, 3]));
      await child.logArtifacts(dir);
      await child.logText('{"k": 1}', 'meta/info.json');
      await child.end();
      await parent.end();
      const exp = await kiln.client.getExperimentByName('sdk-nested');
      const found = await kiln.client.searchRuns({ experimentIds: [exp.experimentId], filter: `tags.mlflow.parentRunId = '${parent.id}'` });
      assert.deepEqual(found.items.map((r) => r.info.runName), ['child']);
      assert.equal(found.items[0]!.inputs.datasetInputs[0]!.dataset.name, 'weather');
      const root = await kiln.client.listArtifacts(child.id);
      assert.deepEqual(root.files.map((f) => f.path), ['meta', 'model.onnx', 'plots']);
      assert.equal((await kiln.client.downloadArtifact(child.id, 'plots/a.txt')).toString(), 'hello');
      assert.deepEqual([...(await kiln.client.downloadArtifact(child.id, 'model.onnx'))], [1, 2, 3]);
      rmSync(dir, { recursive: true, force: true });
    });

    it('surfaces API errors with code and status', async () => {
      const client = new KilnClient({ trackingUri: ts.url });
      await assert.rejects(client.getRun('0'.repeat(32)), (e: unknown) => e instanceof KilnApiError && e.status === 404 && e.code === 'RESOURCE_DOES_NOT_EXIST');
    });

    it('returns the API shapes from client.registry and client.data, as the HTTP API sends them', async () => {
      const v1 = async (path: string) => (await call(ts.url, 'GET', `/api/v1${path}`)).body;
      const { version } = await kiln.withRun({ experiment: 'sdk-shapes' }, (run) => run.logOnnxModel('model', linearModel({ inputs: 3 }), { inputExample: [[1, 2, 3]], registeredModelName: 'shapes' }));
      assert.ok(version);
      assert.equal(version.status, 'READY', version.status_message ?? '');
      assert.deepEqual(version.package?.onnx?.inputs.map((t) => t.name), ['x']);
      const r = kiln.client.registry;
      assert.deepEqual(await r.getVersion('shapes', version.version), (await v1(`/models/shapes/versions/${version.version}`)).version);
      assert.deepEqual(await r.getModel('shapes'), (await v1('/models/shapes')).model);
      assert.deepEqual(await r.history('shapes'), (await v1('/models/shapes/history')).events);
      assert.deepEqual(await r.reproduce('shapes', version.version), await v1(`/models/shapes/versions/${version.version}/reproduce`));
      assert.deepEqual(await r.listFiles('shapes', 1), await v1('/models/shapes/versions/1/files'));

      const dir = tempDir();
      writeFileSync(join(dir, 'w1.csv'), weatherCsv(100, 1));
      writeFileSync(join(dir, 'w2.csv'), weatherCsv(100, 2, true));
      const d = kiln.client.data;
      const added = await d.add(join(dir, 'w1.csv'), { name: 'sdk-weather' });
      await d.add(join(dir, 'w2.csv'), { name: 'sdk-weather' });
      rmSync(dir, { recursive: true, force: true });
      assert.equal(added.created, true);
      assert.deepEqual(added.version, (await v1('/datasets/sdk-weather/versions/v1')).version);
      assert.deepEqual(await d.get('sdk-weather@v1'), added.version);
      assert.deepEqual(await d.getDataset('sdk-weather'), (await v1('/datasets/sdk-weather')).dataset);
      assert.deepEqual((await d.versions('sdk-weather')).items, (await v1('/datasets/sdk-weather/versions')).versions);
      assert.deepEqual(await d.schema('sdk-weather@v1'), await v1('/datasets/sdk-weather/versions/v1/schema'));
      assert.deepEqual(await d.diff('sdk-weather@v1', 'sdk-weather@v2'), await v1('/datasets/diff?a=sdk-weather@v1&b=sdk-weather@v2'));
      const validation = await d.validate('sdk-weather@v2', { schemaRef: 'sdk-weather@v1' });
      assert.equal(validation.ok, false);
      assert.ok(validation.anomalies.some((a) => a.type === 'UNSEEN_CATEGORIES' && a.column === 'city'));
      assert.deepEqual(await d.validations('sdk-weather@v2'), [validation]);
    });

    it('has the server inspect a logged ONNX model, and leaves nothing behind when it is refused', async () => {
      const run = await kiln.startRun({ experiment: 'sdk-onnx' });
      await assert.rejects(run.logOnnxModel('junk', notOnnxBytes()), (e: unknown) => e instanceof KilnApiError && e.status === 400 && /not an ONNX model/.test(e.message));
      const mismatch = { inputs: { kind: 'tensors' as const, tensors: [{ name: 'x', dtype: 'int64', shape: [-1, 4] }] } };
      await assert.rejects(run.logOnnxModel('wrong', linearModel(), { signature: mismatch }), /the signature does not match the ONNX model/);
      assert.deepEqual((await kiln.client.listArtifacts(run.id)).files, [], 'no partial model folder');
      const logged = await run.logOnnxModel('model', linearModel());
      assert.equal(logged.version, undefined);
      const files = (await kiln.client.listArtifacts(run.id, 'model')).files.map((f) => f.path);
      assert.deepEqual(files, ['model/MLmodel', 'model/model.onnx'], 'no Python environment for a model no Python produced');
      // Refused writes fail the run, even those the caller awaited and caught.
      await assert.rejects(run.end(), (e: unknown) => e instanceof AggregateError && e.errors.length === 2);
      assert.equal((await kiln.client.getRun(run.id)).info.status, 'FAILED');
    });

    it('downsamples a long history server-side keeping the spike', async () => {
      const run = await kiln.startRun({ experiment: 'sdk-downsample' });
      for (let i = 0; i < 20_000; i++) run.logMetric('m', i === 12_345 ? 1e6 : Math.sin(i / 100), i);
      await run.end();
      const h = await kiln.client.getMetricHistory({ runId: run.id, key: 'm', maxPoints: 500 });
      assert.ok(h.downsampled);
      assert.equal(h.totalPoints, 20_000);
      assert.ok(h.metrics.length <= 500 && h.metrics.length > 400, `${h.metrics.length} points`);
      assert.ok(h.metrics.some((m) => m.value === 1e6 && m.step === 12_345), "the spike is kept at its own step");
      const steps = h.metrics.map((m) => m.step);
      assert.deepEqual(steps, [...steps].sort((a, b) => a - b), 'points come in step order');
    });
  });
}

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = netServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

describe('SDK buffering across a brief server restart', () => {
  it('loses nothing when the server goes away and comes back', async () => {
    const store = await freshStore('sqlite');
    const dir = tempDir();
    const port = await freePort();
    const config = loadConfig({ host: '127.0.0.1', port, storeUri: store.uri, artifactsUri: pathToFileURL(join(dir, 'a')).href, logLevel: 'silent', home: dir }, {});
    let server = await createServer(config);
    await server.listen();
    const kiln = new Kiln({ trackingUri: `http://127.0.0.1:${port}`, buffer: { flushIntervalMs: 20, maxBatch: 200 } });
    const run = await kiln.startRun({ experiment: 'restart' });
    try {
      for (let i = 0; i < 1000; i++) run.logMetric('m', i, i);
      await run.flush();
      await server.close();
      for (let i = 1000; i < 3000; i++) run.logMetric('m', i, i); // server is down: queued and retried
      await new Promise((r) => setTimeout(r, 400));
      server = await createServer(config);
      await server.listen();
      await run.end();
      const h = await kiln.client.getMetricHistory({ runId: run.id, key: 'm' });
      assert.equal(h.metrics.length, 3000);
      assert.deepEqual(h.metrics.map((m) => m.step), Array.from({ length: 3000 }, (_, i) => i));
    } finally {
      await server.close();
      await store.drop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
