import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import * as ort from 'onnxruntime-node';
import { asyncBufferFromFile, parquetReadObjects } from 'hyparquet';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ARTIFACT_BACKENDS, STORE_BACKENDS, tempDir } from '../support/backends.js';
import { call, startTestServer, type TestServer } from '../support/server.js';
import { registerOnnx } from '../support/models.js';
import { oipGrpcClient, type OipGrpcClient } from '../support/grpc.js';
import { linearModel } from '../../src/registry/packaging/test-models.js';

/**
 * The serving journey on every backend: a registered ONNX model deployed, answered over OIP REST (JSON and binary),
 * gRPC and MLflow's scoring protocol with the numbers onnxruntime gives for the same inputs; a promotion rolled
 * forward under load without a failed request; a shadow's disagreement reported; rollback; the payload log.
 */
const X = [
  [1, 2, 3, 4],
  [0.5, -1, 2.25, 8],
  [0, 0, 0, 0],
];

async function direct(model: Uint8Array, rows: number[][]): Promise<number[]> {
  const s = await ort.InferenceSession.create(model);
  const out = await s.run({ x: new ort.Tensor('float32', Float32Array.from(rows.flat()), [rows.length, rows[0]!.length]) });
  await s.release();
  return Array.from(out.y!.data as Float32Array);
}

for (const backend of STORE_BACKENDS) {
  for (const artifacts of ARTIFACT_BACKENDS) {
    describe(`serving on ${backend} with ${artifacts} artifacts`, () => {
      let ts: TestServer;
      let grpc: OipGrpcClient;
      const v1Model = linearModel({ inputs: 4 });
      const v2Model = linearModel({ inputs: 4, scale: 2 });
      const api = (method: string, path: string, body?: unknown) => call(ts.url, method, `/api/v1${path}`, body);
      const infer = (name: string, rows: number[][], extra: Record<string, unknown> = {}, headers: Record<string, string> = {}) =>
        call(ts.url, 'POST', `/v2/models/${name}/infer`, { inputs: [{ name: 'x', shape: [rows.length, 4], datatype: 'FP32', data: rows }], ...extra }, headers);

      before(async () => {
        ts = await startTestServer({ store: backend, artifacts, config: { inferBodyLimit: 1_000_000 }, capabilities: { serving: { grpcPort: 0, followIntervalMs: 100, guardIntervalMs: 100, payloadFlushMs: 20 } } });
        assert.equal(await registerOnnx(ts.url, 'rain', v1Model, { aliases: ['production'] }), 1);
        assert.equal(await registerOnnx(ts.url, 'rain', v2Model), 2);
        grpc = oipGrpcClient(ts.server.services.serving.grpcPort());
      });
      after(async () => {
        grpc?.close();
        await ts?.stop();
      });

      it('deploys models:/rain@production and answers OIP REST with the numbers onnxruntime gives', async () => {
        const created = await api('POST', '/deployments', { name: 'rain', model: 'models:/rain@production' });
        assert.equal(created.status, 200, created.text);
        assert.equal(created.body.deployment.revision, 1);
        assert.deepEqual(created.body.deployment.resolved.targets, [{ model: 'models:/rain@production', name: 'rain', version: 1, weight: 1 }]);
        assert.equal(created.body.deployment.project, 'default');
        const r = await infer('rain', X, { id: 'req-1' });
        assert.equal(r.status, 200, r.text);
        assert.equal(r.body.id, 'req-1');
        assert.equal(r.headers.get('x-request-id'), 'req-1');
        // Answers for programs: nosniff, none of the document headers the UI and the API send.
        assert.equal(r.headers.get('x-content-type-options'), 'nosniff');
        assert.equal(r.headers.get('content-security-policy'), null);
        assert.equal(r.body.model_name, 'rain');
        assert.equal(r.body.model_version, '1');
        assert.deepEqual(r.body.outputs[0].shape, [3, 1]);
        assert.equal(r.body.outputs[0].datatype, 'FP32');
        assert.deepEqual(r.body.outputs[0].data, await direct(v1Model, X));
        // Flat data, an explicit version, a requested output subset, and no id (one is generated and echoed).
        const flat = await call(ts.url, 'POST', '/v2/models/rain/versions/1/infer', { inputs: [{ name: 'x', shape: [1, 4], datatype: 'FP32', data: [1, 2, 3, 4] }], outputs: [{ name: 'y' }] });
        assert.equal(flat.status, 200, flat.text);
        assert.deepEqual(flat.body.outputs[0].data, await direct(v1Model, [X[0]!]));
        assert.match(flat.body.id, /^[0-9a-f-]{36}$/);
        assert.equal(flat.headers.get('x-request-id'), flat.body.id);
      });

      it('answers OIP health, server and model metadata, readiness', async () => {
        assert.deepEqual((await call(ts.url, 'GET', '/v2/health/live')).body, { live: true });
        assert.deepEqual((await call(ts.url, 'GET', '/v2/health/ready')).body, { ready: true });
        const meta = await call(ts.url, 'GET', '/v2');
        assert.equal(meta.body.name, 'kiln');
        assert.ok(meta.body.extensions.includes('binary_tensor_data'));
        const m = await call(ts.url, 'GET', '/v2/models/rain');
        assert.equal(m.status, 200, m.text);
        assert.deepEqual(m.body, { name: 'rain', versions: ['1'], platform: 'onnx_onnxv1', inputs: [{ name: 'x', datatype: 'FP32', shape: [-1, 4] }], outputs: [{ name: 'y', datatype: 'FP32', shape: [-1, 1] }] });
        assert.deepEqual((await call(ts.url, 'GET', '/v2/models/rain/ready')).body, { name: 'rain', ready: true });
        assert.deepEqual((await call(ts.url, 'GET', '/v2/models/rain/versions/1/ready')).body, { name: 'rain', ready: true });
        const missing = await call(ts.url, 'GET', '/v2/models/nope/ready');
        assert.equal(missing.status, 404);
        assert.match(missing.body.error, /Deployment 'nope' does not exist/);
      });

      it('answers gRPC (typed contents and raw bytes) with the same numbers', async () => {
        assert.deepEqual(await grpc.call('ServerLive', {}), { live: true });
        assert.deepEqual(await grpc.call('ModelReady', { name: 'rain' }), { ready: true });
        const md = await grpc.call('ModelMetadata', { name: 'rain' });
        assert.equal(md.platform, 'onnx_onnxv1');
        assert.deepEqual(md.inputs, [{ name: 'x', datatype: 'FP32', shape: ['-1', '4'] }]);
        const typed = await grpc.call('ModelInfer', { model_name: 'rain', id: 'g1', inputs: [{ name: 'x', datatype: 'FP32', shape: [3, 4], contents: { fp32_contents: X.flat() } }] });
        assert.equal(typed.id, 'g1');
        assert.equal(typed.model_version, '1');
        assert.deepEqual(typed.outputs[0].shape, ['3', '1']);
        const out = new Float32Array(new Uint8Array(typed.raw_output_contents[0]).buffer);
        assert.deepEqual(Array.from(out), await direct(v1Model, X));
        const raw = await grpc.call('ModelInfer', { model_name: 'rain', inputs: [{ name: 'x', datatype: 'FP32', shape: [3, 4] }], raw_input_contents: [Buffer.from(Float32Array.from(X.flat()).buffer)] });
        assert.deepEqual(Array.from(new Float32Array(new Uint8Array(raw.raw_output_contents[0]).buffer)), await direct(v1Model, X));
        await assert.rejects(grpc.call('ModelInfer', { model_name: 'rain', inputs: [{ name: 'x', datatype: 'FP32', shape: [3, 4], contents: { fp32_contents: [1] } }] }), (e: any) => e.code === 3 && /12 values/.test(e.details));
        await assert.rejects(grpc.call('ModelInfer', { model_name: 'nope', inputs: [] }), (e: any) => e.code === 5);
      });

      it("scores MLflow's /invocations payloads by changing only the URL", async () => {
        // The registered package has a tensor signature (derived from the ONNX model): MLflow turns every payload into
        // an array, and its ONNX flavor answers a dict of outputs.
        const expected = { y: (await direct(v1Model, X)).map((v) => [v]) };
        const url = '/deployments/rain/invocations';
        for (const body of [{ inputs: X }, { instances: X }, { dataframe_split: { columns: ['a', 'b', 'c', 'd'], data: X } }]) {
          const r = await call(ts.url, 'POST', url, body);
          assert.equal(r.status, 200, r.text);
          assert.deepEqual(r.body, { predictions: expected }, JSON.stringify(body));
        }
        const csv = await fetch(ts.url + url, { method: 'POST', headers: { 'content-type': 'text/csv' }, body: 'a,b,c,d\n' + X.map((r) => r.join(',')).join('\n') });
        assert.equal(csv.status, 200);
        assert.deepEqual(await csv.json(), { predictions: expected });
        const bad = await call(ts.url, 'POST', url, { nothing: 1 });
        assert.equal(bad.status, 400);
        assert.equal(typeof bad.body.message, 'string');
      });

      it('answers the binary tensor data extension', async () => {
        const header = Buffer.from(JSON.stringify({ inputs: [{ name: 'x', shape: [3, 4], datatype: 'FP32', parameters: { binary_data_size: 48 } }], outputs: [{ name: 'y', parameters: { binary_data: true } }] }));
        const body = Buffer.concat([header, Buffer.from(Float32Array.from(X.flat()).buffer)]);
        const r = await fetch(`${ts.url}/v2/models/rain/infer`, { method: 'POST', headers: { 'content-type': 'application/octet-stream', 'inference-header-content-length': String(header.length) }, body });
        assert.equal(r.status, 200, await r.clone().text());
        const n = Number(r.headers.get('inference-header-content-length'));
        const bytes = Buffer.from(await r.arrayBuffer());
        const json = JSON.parse(bytes.subarray(0, n).toString());
        assert.equal(json.outputs[0].parameters.binary_data_size, 12);
        const ys = bytes.subarray(n);
        assert.deepEqual(Array.from(new Float32Array(ys.buffer.slice(ys.byteOffset, ys.byteOffset + ys.length))), await direct(v1Model, X));
        const short = await fetch(`${ts.url}/v2/models/rain/infer`, { method: 'POST', headers: { 'content-type': 'application/octet-stream', 'inference-header-content-length': String(header.length) }, body: body.subarray(0, body.length - 4) });
        assert.equal(short.status, 400);
        assert.ok(typeof ((await short.json()) as { error?: unknown }).error === 'string');
        const past = await fetch(`${ts.url}/v2/models/rain/infer`, { method: 'POST', headers: { 'content-type': 'application/octet-stream', 'inference-header-content-length': '99999' }, body });
        assert.equal(past.status, 400);
      });

      it('refuses bad input with a clear 4xx in the OIP shape and keeps serving', async () => {
        const cases: [string, unknown, number, RegExp][] = [
          ['malformed JSON', '{"inputs": [', 400, /JSON/],
          ['no inputs', {}, 400, /inputs/],
          ['wrong datatype', { inputs: [{ name: 'x', shape: [1, 4], datatype: 'INT64', data: [1, 2, 3, 4] }] }, 400, /FP32/],
          ['shape mismatch', { inputs: [{ name: 'x', shape: [1, 5], datatype: 'FP32', data: [1, 2, 3, 4, 5] }] }, 400, /x/],
          ['data count', { inputs: [{ name: 'x', shape: [2, 4], datatype: 'FP32', data: [1, 2, 3] }] }, 400, /x/],
          ['NaN', { inputs: [{ name: 'x', shape: [1, 4], datatype: 'FP32', data: ['NaN', 1, 2, 3] }] }, 400, /x/],
          ['unknown input', { inputs: [{ name: 'z', shape: [1, 4], datatype: 'FP32', data: [1, 2, 3, 4] }] }, 400, /z/],
          ['unknown output', { inputs: [{ name: 'x', shape: [1, 4], datatype: 'FP32', data: [1, 2, 3, 4] }], outputs: [{ name: 'nope' }] }, 400, /nope/],
          ['unknown datatype', { inputs: [{ name: 'x', shape: [1, 4], datatype: 'FP128', data: [1, 2, 3, 4] }] }, 400, /FP128/],
        ];
        for (const [what, body, status, message] of cases) {
          const r = await call(ts.url, 'POST', '/v2/models/rain/infer', body);
          assert.equal(r.status, status, `${what}: ${r.text}`);
          assert.match(r.body.error, message, what);
        }
        const missing = await infer('nope', X);
        assert.equal(missing.status, 404);
        const huge = await call(ts.url, 'POST', '/v2/models/rain/infer', { inputs: [{ name: 'x', shape: [100_000, 4], datatype: 'FP32', data: new Array(400_000).fill(1.5) }] });
        assert.equal(huge.status, 413);
        assert.equal((await infer('rain', X)).status, 200);
      });

      it('refuses to deploy what the registry does not mark servable, saying why', async () => {
        // Files outside the server's store are registered READY without inspection: not servable.
        assert.equal((await call(ts.url, 'POST', '/api/2.0/mlflow/registered-models/create', { name: 'outside' })).status, 200);
        const ext = await call(ts.url, 'POST', '/api/2.0/mlflow/model-versions/create', { name: 'outside', source: 's3://another-bucket/model' });
        assert.equal(ext.body.model_version.status, 'READY', ext.text);
        const refused = await api('POST', '/deployments', { name: 'outside', model: 'models:/outside/1' });
        assert.equal(refused.status, 400);
        assert.match(refused.body.message, /not servable: .*outside this server's artifact store/);
        const missing = await api('POST', '/deployments', { name: 'ghost', model: 'models:/ghost/1' });
        assert.equal(missing.status, 404);
        assert.match(missing.body.message, /ghost/);
        const noVersion = await api('POST', '/deployments', { name: 'rain9', model: 'models:/rain/9' });
        assert.equal(noVersion.status, 404, noVersion.text);
        const badUri = await api('POST', '/deployments', { name: 'bad', model: 'runs:/abc/model' });
        assert.equal(badUri.status, 400);
        const dup = await api('POST', '/deployments', { name: 'rain', model: 'models:/rain/1' });
        assert.equal(dup.status, 409);
        const badName = await api('POST', '/deployments', { name: 'a b', model: 'models:/rain/1' });
        assert.equal(badName.status, 400);
      });

      it('rolls forward when the alias moves, under load, without one failed request', async () => {
        let stop = false;
        let failures = 0;
        let ok = 0;
        const seen = new Set<string>();
        const worker = async () => {
          while (!stop) {
            const r = await infer('rain', [X[0]!]);
            if (r.status === 200) {
              ok++;
              seen.add(r.body.model_version);
            } else failures++;
          }
        };
        const load = Promise.all(Array.from({ length: 8 }, worker));
        await new Promise((r) => setTimeout(r, 150));
        assert.equal((await call(ts.url, 'POST', '/api/2.0/mlflow/registered-models/alias', { name: 'rain', alias: 'production', version: '2' })).status, 200);
        for (let i = 0; i < 200 && !seen.has('2'); i++) await new Promise((r) => setTimeout(r, 25));
        await new Promise((r) => setTimeout(r, 150));
        stop = true;
        await load;
        assert.equal(failures, 0);
        assert.ok(seen.has('2'), 'never served version 2');
        assert.ok(ok > 20, `only ${ok} requests`);
        const d = (await api('GET', '/deployments/rain')).body.deployment;
        assert.equal(d.resolved.targets[0].version, 2);
        const revs = (await api('GET', '/deployments/rain/revisions')).body.revisions;
        assert.equal(revs[0].kind, 'alias_moved');
        assert.equal(revs[0].actor, 'kiln');
        assert.match(revs[0].reason, /version 1 → 2/);
        const r = await infer('rain', X);
        assert.deepEqual(r.body.outputs[0].data, await direct(v2Model, X));
      });

      it('mirrors to a shadow, logs its answers beside the primary and reports disagreement', async () => {
        const u = await api('PATCH', '/deployments/rain', { shadow: { model: 'models:/rain/1', fraction: 1 }, reason: 'compare with the old one' });
        assert.equal(u.status, 200, u.text);
        await ts.server.services.serving.plane.settled();
        for (let i = 0; i < 5; i++) assert.equal((await infer('rain', X, { id: `shadow-${i}` })).status, 200);
        let stats: any;
        for (let i = 0; i < 100; i++) {
          stats = (await api('GET', '/deployments/rain/stats')).body;
          if (stats.versions.find((v: any) => v.role === 'shadow')?.disagreement_rate !== null) break;
          await new Promise((r) => setTimeout(r, 20));
        }
        const shadow = stats.versions.find((v: any) => v.role === 'shadow');
        assert.equal(shadow.version, 1);
        assert.equal(shadow.disagreement_rate, 1);
        await ts.server.services.serving.payloadLog.flush();
        const p = (await api('GET', '/deployments/rain/payloads?request_id=shadow-0')).body.payloads;
        assert.equal(p.length, 1);
        assert.equal(p[0].version, 2);
        assert.equal(p[0].shadow.version, 1);
        assert.equal(p[0].shadow.agrees, false);
        assert.deepEqual(p[0].shadow.outputs[0].data, await direct(v1Model, X));
      });

      it('rolls back to an earlier configuration in one call', async () => {
        const before = (await api('GET', '/deployments/rain')).body.deployment;
        assert.notEqual(before.config.shadow, null);
        const r = await api('POST', '/deployments/rain/rollback', {});
        assert.equal(r.status, 200, r.text);
        const d = r.body.deployment;
        assert.equal(d.revision, before.revision + 1);
        assert.equal(d.config.shadow, null);
        const revs = (await api('GET', '/deployments/rain/revisions')).body.revisions;
        assert.equal(revs[0].kind, 'rolled_back');
        // Back to the first revision: it served version 1 through the alias, which has moved since: version 1 is pinned.
        const first = await api('POST', '/deployments/rain/rollback', { to: 1 });
        assert.equal(first.status, 200, first.text);
        assert.deepEqual(first.body.deployment.config.targets, [{ model: 'models:/rain/1', weight: 1 }]);
        await ts.server.services.serving.plane.settled();
        assert.equal((await infer('rain', X)).body.model_version, '1');
        assert.equal((await api('POST', '/deployments/rain/rollback', { to: 99 })).status, 404);
      });

      it('finds payloads by request id, version and time, and exports them as JSON lines and Parquet', async () => {
        const id = `find-me-${backend}-${artifacts}`;
        assert.equal((await infer('rain', [X[1]!], { id })).status, 200);
        await ts.server.services.serving.payloadLog.flush();
        const page = (await api('GET', `/deployments/rain/payloads?request_id=${id}`)).body.payloads;
        assert.equal(page.length, 1);
        assert.equal(page[0].protocol, 'oip-rest');
        assert.equal(page[0].status, 200);
        assert.deepEqual(page[0].inputs, [{ name: 'x', datatype: 'FP32', shape: [1, 4], data: X[1] }]);
        const all = (await api('GET', '/deployments/rain/payloads?max_results=1000')).body.payloads;
        assert.ok(all.length > 10);
        const jsonl = await fetch(`${ts.url}/api/v1/deployments/rain/payloads?format=jsonl&request_id=${id}`);
        assert.equal(jsonl.status, 200);
        const lines = (await jsonl.text()).trim().split('\n').map((l) => JSON.parse(l));
        assert.equal(lines.length, 1);
        assert.equal(lines[0].request_id, id);
        const pq = await fetch(`${ts.url}/api/v1/deployments/rain/payloads?format=parquet`);
        assert.equal(pq.status, 200);
        const file = join(tempDir('kiln-pq-'), 'p.parquet');
        writeFileSync(file, Buffer.from(await pq.arrayBuffer()));
        const rows = await parquetReadObjects({ file: await asyncBufferFromFile(file) });
        assert.equal(rows.length, all.length);
        assert.ok(rows.some((r) => (r as { request_id?: string }).request_id === id));
      });
    });
  }
}
