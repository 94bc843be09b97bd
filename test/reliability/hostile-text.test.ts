import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { STORE_BACKENDS } from '../support/backends.js';
import { call, startTestServer, type TestServer } from '../support/server.js';

/**
 * Hostile text at every endpoint family that takes text, on every metadata backend: NUL and unpaired surrogates are
 * refused everywhere (400 naming the field, never a 500, nothing stored); bidirectional controls are refused in names.
 */

const RUN = '__RUN__';
const EXP = '__EXP__';
const MODEL = 'hostile-model';

/** Text no endpoint accepts. */
const ILL_FORMED: Record<string, string> = { NUL: 'a\u0000b', 'lone high surrogate': 'a\uD800b', 'lone low surrogate': 'a\uDC00b' };
/** Text no name accepts. */
const NAME_ONLY: Record<string, string> = { 'right-to-left override': 'evil\u202Etxt.exe', 'first-strong isolate': 'a\u2068b', 'C1 control': 'a\u0085b', 'escape control': 'a\u001bb' };

interface Case {
  readonly name: string;
  readonly method: string;
  readonly path: (x: string) => string;
  readonly body?: (x: string) => unknown;
  /** The field the error names. */
  readonly field: RegExp;
}

const M = '/api/2.0/mlflow';
const V1 = '/api/v1';
const hook = { url: 'https://hooks.example.com/kiln', events: ['model_created'] };
const mlflowHook = { url: 'https://hooks.example.com/kiln', events: [{ entity: 'registered_model', action: 'created' }] };
const q = encodeURIComponent;

/** Endpoints taking free text (any well-formed text but NUL is fine there). */
const TEXT_CASES: Case[] = [
  { name: 'MLflow experiment tag value', method: 'POST', path: () => `${M}/experiments/set-experiment-tag`, body: (x) => ({ experiment_id: EXP, key: 'k', value: x }), field: /'value'/ },
  { name: 'MLflow experiment create tag', method: 'POST', path: () => `${M}/experiments/create`, body: (x) => ({ name: 'fine-name', tags: [{ key: 'k', value: x }] }), field: /'tags\[0\]\.value'/ },
  { name: 'MLflow run create tag', method: 'POST', path: () => `${M}/runs/create`, body: (x) => ({ experiment_id: EXP, tags: [{ key: 'k', value: x }] }), field: /'tags\[0\]\.value'/ },
  { name: 'MLflow run set-tag value', method: 'POST', path: () => `${M}/runs/set-tag`, body: (x) => ({ run_id: RUN, key: 'k', value: x }), field: /'value'/ },
  { name: 'MLflow run set-tag key', method: 'POST', path: () => `${M}/runs/set-tag`, body: (x) => ({ run_id: RUN, key: x, value: 'v' }), field: /'key'/ },
  { name: 'MLflow log-parameter value', method: 'POST', path: () => `${M}/runs/log-parameter`, body: (x) => ({ run_id: RUN, key: 'p', value: x }), field: /'value'/ },
  { name: 'MLflow log-batch param value', method: 'POST', path: () => `${M}/runs/log-batch`, body: (x) => ({ run_id: RUN, params: [{ key: 'p2', value: x }] }), field: /'params\[0\]\.value'/ },
  { name: 'MLflow log-batch tag key', method: 'POST', path: () => `${M}/runs/log-batch`, body: (x) => ({ run_id: RUN, tags: [{ key: x, value: 'v' }] }), field: /'tags\[0\]\.key'/ },
  { name: 'MLflow run search filter', method: 'POST', path: () => `${M}/runs/search`, body: (x) => ({ experiment_ids: [EXP], filter: `params.p = '${x}'` }), field: /'filter'/ },
  { name: 'MLflow registered model description', method: 'PATCH', path: () => `${M}/registered-models/update`, body: (x) => ({ name: MODEL, description: x }), field: /'description'/ },
  { name: 'MLflow registered model tag', method: 'POST', path: () => `${M}/registered-models/set-tag`, body: (x) => ({ name: MODEL, key: 'k', value: x }), field: /'value'/ },
  { name: 'MLflow alias', method: 'POST', path: () => `${M}/registered-models/alias`, body: (x) => ({ name: MODEL, alias: x, version: '1' }), field: /'alias'/ },
  { name: 'MLflow model version description', method: 'POST', path: () => `${M}/model-versions/create`, body: (x) => ({ name: MODEL, source: `runs:/${RUN}/model`, description: x }), field: /'description'/ },
  { name: 'MLflow webhook description', method: 'POST', path: () => `${M}/webhooks`, body: (x) => ({ name: 'h', ...mlflowHook, description: x }), field: /'description'/ },
  { name: 'native run tag', method: 'POST', path: () => `${V1}/runs/${RUN}/tags`, body: (x) => ({ key: 'k', value: x }), field: /'value'/ },
  { name: 'native param as an object key', method: 'POST', path: () => `${V1}/runs/${RUN}/log`, body: (x) => ({ params: { [x]: '1' } }), field: /'params\.a\\u/ },
  { name: 'native model description', method: 'PATCH', path: () => `${V1}/models/${MODEL}`, body: (x) => ({ description: x }), field: /'description'/ },
  { name: 'native model tag', method: 'PUT', path: () => `${V1}/models/${MODEL}/tags/k`, body: (x) => ({ value: x }), field: /'value'/ },
  { name: 'native dataset description', method: 'POST', path: () => `${V1}/datasets/hostile/versions`, body: (x) => ({ files: [{ path: 'a.csv', sha256: '0'.repeat(64), bytes: 1 }], description: x }), field: /'description'/ },
  { name: 'native webhook description', method: 'POST', path: () => `${V1}/webhooks`, body: (x) => ({ name: 'h', ...hook, description: x }), field: /'description'/ },
];

/** Endpoints taking names: they refuse ill-formed text and control and bidirectional characters too. */
const NAME_CASES: Case[] = [
  { name: 'MLflow experiment name', method: 'POST', path: () => `${M}/experiments/create`, body: (x) => ({ name: x }), field: /'name'|experiment name/ },
  { name: 'MLflow experiment rename', method: 'POST', path: () => `${M}/experiments/update`, body: (x) => ({ experiment_id: EXP, new_name: x }), field: /'new_name'|experiment name/ },
  { name: 'MLflow run name', method: 'POST', path: () => `${M}/runs/create`, body: (x) => ({ experiment_id: EXP, run_name: x }), field: /'run_name'|run name/ },
  { name: 'MLflow run rename', method: 'POST', path: () => `${M}/runs/update`, body: (x) => ({ run_id: RUN, run_name: x }), field: /'run_name'|run name/ },
  { name: 'MLflow mlflow.runName tag', method: 'POST', path: () => `${M}/runs/set-tag`, body: (x) => ({ run_id: RUN, key: 'mlflow.runName', value: x }), field: /'value'|run name/ },
  { name: 'MLflow mlflow.runName in log-batch', method: 'POST', path: () => `${M}/runs/log-batch`, body: (x) => ({ run_id: RUN, tags: [{ key: 'mlflow.runName', value: x }] }), field: /'tags\[0\]\.value'|run name/ },
  { name: 'MLflow registered model name', method: 'POST', path: () => `${M}/registered-models/create`, body: (x) => ({ name: x }), field: /'name'|model name/ },
  { name: 'MLflow webhook name', method: 'POST', path: () => `${M}/webhooks`, body: (x) => ({ name: x, ...mlflowHook }), field: /'name'|webhook name/ },
  { name: 'native experiment name', method: 'POST', path: () => `${V1}/experiments`, body: (x) => ({ name: x }), field: /'name'|experiment name/ },
  { name: 'native run name', method: 'POST', path: () => `${V1}/runs`, body: (x) => ({ experiment_id: EXP, run_name: x }), field: /'run_name'|run name/ },
  { name: 'native model name', method: 'POST', path: () => `${V1}/models`, body: (x) => ({ name: x }), field: /'name'|model name/ },
  { name: 'native webhook name', method: 'POST', path: () => `${V1}/webhooks`, body: (x) => ({ name: x, ...hook }), field: /'name'|webhook name/ },
];

/** NUL through the query string and the path (an unpaired surrogate cannot be percent-encoded as UTF-8). */
const URL_CASES: Case[] = [
  { name: 'MLflow get-by-name query', method: 'GET', path: () => `${M}/experiments/get-by-name?experiment_name=${q('a\u0000b')}`, field: /query parameter 'experiment_name'/ },
  { name: 'MLflow registered model get query', method: 'GET', path: () => `${M}/registered-models/get?name=${q('a\u0000b')}`, field: /query parameter 'name'/ },
  { name: 'MLflow metric history key query', method: 'GET', path: () => `${M}/metrics/get-history?run_id=${RUN}&metric_key=${q('m\u0000')}`, field: /query parameter 'metric_key'/ },
  { name: 'native experiment by name path', method: 'GET', path: () => `${V1}/experiments/by-name/${q('a\u0000b')}`, field: /path parameter 'name'/ },
  { name: 'native model path', method: 'GET', path: () => `${V1}/models/${q('a\u0000b')}`, field: /path parameter 'name'/ },
  { name: 'native model search filter', method: 'GET', path: () => `${V1}/models?filter=${q("name = 'a\u0000'")}`, field: /query parameter 'filter'/ },
  { name: 'native dataset list filter', method: 'GET', path: () => `${V1}/datasets?name_like=${q('a\u0000')}`, field: /query parameter 'name_like'/ },
];

for (const backend of STORE_BACKENDS) {
  describe(`hostile text on ${backend}`, () => {
    let ts: TestServer;
    let runId = '';
    let expId = '';

    /** Everything a client can list, to check that a refused request stored nothing. */
    const snapshot = async () => {
      const exps = await call(ts.url, 'POST', `${M}/experiments/search`, { view_type: 'ALL', max_results: 1000 });
      const ids = exps.body.experiments.map((e: { experiment_id: string }) => e.experiment_id);
      const runs = await call(ts.url, 'POST', `${M}/runs/search`, { experiment_ids: ids, run_view_type: 'ALL', max_results: 1000 });
      const models = await call(ts.url, 'GET', `${V1}/models?max_results=1000`);
      const versions = await call(ts.url, 'GET', `${V1}/model-versions?max_results=1000`);
      const hooks = await call(ts.url, 'GET', `${V1}/webhooks`);
      const data = await call(ts.url, 'GET', `${V1}/datasets`);
      return JSON.stringify([exps.body, runs.body, models.body, versions.body, hooks.body, data.body]);
    };

    const send = async (c: Case, x: string) => {
      const sub = (s: string) => s.replaceAll(RUN, runId).replaceAll(EXP, expId);
      const body = c.body === undefined ? undefined : sub(JSON.stringify(c.body(x)));
      const res = await fetch(ts.url + sub(c.path(x)), { method: c.method, headers: body === undefined ? {} : { 'content-type': 'application/json' }, body });
      return { status: res.status, text: await res.text() };
    };

    const expectRefused = async (c: Case, x: string) => {
      const before = await snapshot();
      const r = await send(c, x);
      assert.equal(r.status, 400, `${c.name}: ${r.text.slice(0, 300)}`);
      const parsed = JSON.parse(r.text) as { error_code: string; message: string };
      assert.equal(parsed.error_code, 'INVALID_PARAMETER_VALUE', r.text);
      assert.match(parsed.message, c.field, 'the message names the field');
      assert.equal(await snapshot(), before, 'nothing was stored');
    };

    before(async () => {
      ts = await startTestServer({ store: backend });
      expId = (await call(ts.url, 'POST', `${M}/experiments/create`, { name: 'hostile' })).body.experiment_id;
      runId = (await call(ts.url, 'POST', `${M}/runs/create`, { experiment_id: expId })).body.run.info.run_id;
      await call(ts.url, 'POST', `${M}/runs/log-batch`, { run_id: runId, metrics: [{ key: 'm', value: 1, timestamp: 1, step: 0 }], params: [{ key: 'p', value: 'x' }] });
      assert.equal((await call(ts.url, 'POST', `${M}/registered-models/create`, { name: MODEL })).status, 200);
    });
    after(async () => {
      await ts?.stop();
    });

    for (const c of [...TEXT_CASES, ...NAME_CASES]) {
      for (const [kind, x] of Object.entries(ILL_FORMED)) {
        it(`${c.name}: ${kind} → 400`, () => expectRefused(c, x));
      }
    }
    for (const c of NAME_CASES) {
      for (const [kind, x] of Object.entries(NAME_ONLY)) {
        it(`${c.name}: ${kind} → 400`, () => expectRefused({ ...c, field: /name/ }, x));
      }
    }
    for (const c of URL_CASES) {
      it(`${c.name}: NUL → 400`, () => expectRefused(c, ''));
    }

    it('accepts well-formed text: emoji (surrogate pairs), right-to-left script, tabs and newlines in free text', async () => {
      const value = 'ok 🔥 שלום\tline\nnext';
      let r = await call(ts.url, 'POST', `${M}/runs/set-tag`, { run_id: runId, key: 'note', value });
      assert.equal(r.status, 200, r.text);
      r = await call(ts.url, 'GET', `${M}/runs/get?run_id=${runId}`);
      assert.equal(r.body.run.data.tags.find((t: { key: string }) => t.key === 'note').value, value);
      r = await call(ts.url, 'POST', `${M}/experiments/create`, { name: 'שלום 🔥' });
      assert.equal(r.status, 200, r.text);
    });

    it('a raw artifact upload holding NUL bytes and invalid UTF-8 is stored as given', async () => {
      const bytes = Buffer.from([0x00, 0xed, 0xa0, 0x80, 0xff, 0x00]);
      const path = `${M.replace('mlflow', 'mlflow-artifacts')}/artifacts/${expId}/${runId}/artifacts/raw.bin`;
      let res = await fetch(ts.url + path, { method: 'PUT', body: bytes });
      assert.equal(res.status, 200, await res.text());
      res = await fetch(ts.url + path);
      assert.deepEqual(Buffer.from(await res.arrayBuffer()), bytes);
    });
  });
}
