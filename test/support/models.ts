import assert from 'node:assert/strict';
import { buildOnnxModelPackage } from '../../src/registry/packaging/write-package.js';
import { inspectOnnx } from '../../src/registry/packaging/onnx-inspect.js';
import { call } from './server.js';

/**
 * Registers ONNX bytes as a new version of `name` the way an MLflow client does: a run, the MLflow model folder
 * logged under `model/` through the artifact proxy, then a model version from `runs:/<id>/model`. Returns the
 * version number (the registered model is created when missing).
 */
export async function registerOnnx(url: string, name: string, onnx: Uint8Array, opts: { headers?: Record<string, string>; inputExample?: unknown; aliases?: string[]; /** dataset inputs the run logs (POST /api/v1/runs/{id}/inputs) */ inputs?: unknown[] } = {}): Promise<number> {
  const headers = opts.headers ?? {};
  const mlflow = (method: string, path: string, body?: unknown) => call(url, method, `/api/2.0/mlflow${path}`, body, headers);
  const run = await mlflow('POST', '/runs/create', { experiment_id: '0' });
  assert.equal(run.status, 200, run.text);
  const info = run.body.run.info;
  if (opts.inputs) {
    const r = await call(url, 'POST', `/api/v1/runs/${info.run_id}/inputs`, { datasets: opts.inputs }, headers);
    assert.ok(r.status < 300, r.text);
  }
  const files = await buildOnnxModelPackage({ inspect: inspectOnnx, onnx, ...(opts.inputExample !== undefined ? { inputExample: opts.inputExample } : {}) });
  for (const f of files) {
    const r = await fetch(`${url}/api/2.0/mlflow-artifacts/artifacts/${String(info.artifact_uri).replace('mlflow-artifacts:/', '')}/model/${f.path}`, { method: 'PUT', body: f.bytes, headers });
    assert.equal(r.status, 200, await r.text());
  }
  const got = await mlflow('GET', `/registered-models/get?name=${encodeURIComponent(name)}`);
  if (got.status === 404) assert.equal((await mlflow('POST', '/registered-models/create', { name })).status, 200);
  const v = await mlflow('POST', '/model-versions/create', { name, source: `runs:/${info.run_id}/model`, run_id: info.run_id });
  assert.equal(v.status, 200, v.text);
  assert.equal(v.body.model_version.status, 'READY', v.text);
  const version = Number(v.body.model_version.version);
  for (const alias of opts.aliases ?? []) assert.equal((await mlflow('POST', '/registered-models/alias', { name, alias, version: String(version) })).status, 200);
  return version;
}
