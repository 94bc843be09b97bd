import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { kiln } from '../support/cli.js';
import { STORE_BACKENDS } from '../support/backends.js';
import { call, startTestServer, type TestServer } from '../support/server.js';
import { createHash } from 'node:crypto';
import { linearModel } from '../../src/registry/packaging/test-models.js';
import { buildOnnxModelPackage } from '../../src/registry/packaging/write-package.js';
import { inspectOnnx } from '../../src/registry/packaging/onnx-inspect.js';
import { ReproduceService } from '../../src/registry/reproduce.js';
import { ModelFiles } from '../../src/registry/files.js';
import { versionJson } from '../../src/registry/json.js';
import { ModelPackage, ReproductionRecipe } from '../../src/registry/schemas.js';
import { weatherCsv } from '../support/fixtures.js';

/** What a body holds once it went through JSON (undefined fields gone), to compare with what the server sent. */
const asJson = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;

/** Lineage: dataset inputs → runs (nested) → model versions, both ways; and reproduction recipes. */
for (const backend of STORE_BACKENDS) {
  describe(`lineage on ${backend}`, () => {
    let ts: TestServer;
    let parent = '';
    let child = '';
    const mlflow = (path: string, body?: unknown, method = 'POST') => call(ts.url, method, `/api/2.0/mlflow${path}`, body);
    const v1 = (path: string) => call(ts.url, 'GET', `/api/v1${path}`);

    before(async () => {
      ts = await startTestServer({ store: backend });
      parent = (await mlflow('/runs/create', { experiment_id: '0', run_name: 'sweep' })).body.run.info.run_id;
      child = (
        await mlflow('/runs/create', {
          experiment_id: '0',
          run_name: 'trial-1',
          tags: [
            { key: 'mlflow.parentRunId', value: parent },
            { key: 'mlflow.source.git.commit', value: 'f'.repeat(40) },
            { key: 'mlflow.source.name', value: 'train.py' },
            { key: 'mlflow.source.git.repoURL', value: 'https://example.com/ml/weather.git' },
          ],
        })
      ).body.run.info.run_id;
      await mlflow('/runs/log-batch', { run_id: child, params: [{ key: 'lr', value: '0.01' }] });
      await mlflow('/runs/log-inputs', {
        run_id: child,
        datasets: [{ dataset: { name: 'weather-train', digest: 'abc123', source_type: 'local', source: '/data/train.csv' }, tags: [{ key: 'mlflow.data.context', value: 'training' }] }],
      });
      const files = await buildOnnxModelPackage({ onnx: linearModel(), inspect: inspectOnnx });
      const info = (await mlflow(`/runs/get?run_id=${child}`, undefined, 'GET')).body.run.info;
      for (const f of files) await fetch(`${ts.url}/api/2.0/mlflow-artifacts/artifacts/${info.artifact_uri.replace('mlflow-artifacts:/', '')}/model/${f.path}`, { method: 'PUT', body: f.bytes });
      await mlflow('/registered-models/create', { name: 'weather' });
      await mlflow('/model-versions/create', { name: 'weather', source: `runs:/${child}/model`, run_id: child });
      await mlflow('/model-versions/create', { name: 'weather', source: `runs:/${child}/model`, run_id: child });
      await ts.server.services.registry.whenSettled();
    });
    after(async () => {
      await ts?.stop();
    });

    it('walks upstream from a model version to its run, the parent run and the data', async () => {
      const r = await v1(`/lineage?node=${encodeURIComponent('models:/weather/1')}&direction=up&depth=3`);
      assert.equal(r.status, 200, r.text);
      const ids = r.body.nodes.map((n: any) => n.id).sort();
      assert.deepEqual(ids, ['dataset-digest:abc123', 'models:/weather/1', `runs:/${child}`, `runs:/${parent}`].sort());
      const edges = r.body.edges.map((e: any) => `${e.from} -${e.relation}-> ${e.to}`).sort();
      assert.deepEqual(edges, [`dataset-digest:abc123 -used-by-> runs:/${child}`, `runs:/${child} -registered-from-> models:/weather/1`, `runs:/${parent} -parent-of-> runs:/${child}`].sort());
      assert.equal(r.body.edges.find((e: any) => e.relation === 'used-by').attributes.context, 'training');
      // depth limits the walk
      const shallow = await v1(`/lineage?node=${encodeURIComponent('models:/weather/1')}&depth=1`);
      assert.deepEqual(shallow.body.nodes.map((n: any) => n.kind).sort(), ['model_version', 'run']);
    });

    it('walks downstream from the data to every model it fed', async () => {
      const r = await v1(`/lineage?node=${encodeURIComponent('dataset-digest:abc123')}&direction=down&depth=2`);
      assert.equal(r.status, 200, r.text);
      assert.deepEqual(r.body.nodes.filter((n: any) => n.kind === 'model_version').map((n: any) => n.id).sort(), ['models:/weather/1', 'models:/weather/2']);
      const fromParent = await v1(`/lineage?node=${encodeURIComponent(`runs:/${parent}`)}&direction=down&depth=2`);
      assert.deepEqual(fromParent.body.nodes.map((n: any) => n.kind).sort(), ['model_version', 'model_version', 'run', 'run']);
      const both = await v1(`/lineage?node=${encodeURIComponent(`runs:/${child}`)}&direction=both&depth=1`);
      assert.equal(both.body.nodes.length, 5);
    });

    it('refuses bad nodes and depths', async () => {
      for (const [q, status] of [
        ['node=weather', 400],
        ['node=models%3A%2Fweather%2F99', 404],
        ['node=models%3A%2Fnope%2F1', 404],
        ['node=datasets%3A%2Fnope%2F1', 404],
        [`node=runs%3A%2F${'0'.repeat(32)}`, 404],
        ['node=models%3A%2Fweather%2F1&depth=0', 400],
        ['node=models%3A%2Fweather%2F1&depth=11', 400],
        ['node=models%3A%2Fweather%2F1&direction=sideways', 400],
        ['', 400],
      ] as const) {
        const r = await v1(`/lineage?${q}`);
        assert.equal(r.status, status, `${q}: ${r.text}`);
      }
    });

    it('prints the tree and the reproduction recipe from the CLI', async () => {
      const tree = await kiln(['lineage', 'models:/weather@latest', '--tracking-uri', ts.url]);
      assert.equal(tree.code, 0, tree.err);
      assert.match(tree.out, /^models:\/weather\/2 {2}weather v2 \(READY\)/);
      assert.match(tree.out, /└─ registered-from runs:\/[0-9a-f]{32} {2}trial-1/);
      assert.match(tree.out, /used-by \[training\] dataset-digest:abc123 {2}weather-train \(abc123\) \(not a Kiln dataset\)/);
      const recipe = (await v1('/models/weather/versions/1/reproduce')).body;
      assert.equal(recipe.code.git_commit, 'f'.repeat(40));
      assert.equal(recipe.code.entry_point, 'train.py');
      assert.deepEqual(recipe.params, { lr: '0.01' });
      assert.equal(recipe.datasets[0].digest, 'abc123');
      assert.equal(recipe.datasets[0].kiln_version, null);
      // The model was written by the TypeScript packager: no Python environment is invented for it.
      assert.equal(recipe.environment.requirements, null);
      assert.equal(recipe.environment.python_env, null);
      assert.ok(recipe.gaps.some((g: string) => /not a Kiln dataset version/.test(g)));
      const printed = await kiln(['models', 'reproduce', 'weather', '1', '--tracking-uri', ts.url]);
      assert.equal(printed.code, 0, printed.err);
      assert.match(printed.out, /git commit\s+f{40}/);
      assert.match(printed.out, /git clone https:\/\/example.com\/ml\/weather.git && git checkout f{40}/);
    });

    it('sends every field of a package and a recipe that the services return', async () => {
      // A run that recorded everything a recipe has room for: code, params, runtime, a Kiln dataset version, an input example.
      const v1json = async (method: string, path: string, body?: unknown) => {
        const r = await call(ts.url, method, `/api/v1${path}`, body);
        assert.ok(r.status < 300, `${method} ${path}: ${r.status} ${r.text}`);
        return r.body;
      };
      const csv = weatherCsv(50, 7);
      const sha = createHash('sha256').update(csv).digest('hex');
      await fetch(`${ts.url}/api/v1/data/blobs/${sha}`, { method: 'PUT', body: csv, headers: { 'content-type': 'application/octet-stream' } });
      const data = (await v1json('POST', '/datasets/weather-full/versions', { files: [{ path: 'w.csv', sha256: sha, bytes: csv.length }] })).version;
      const tags = {
        'mlflow.source.type': 'LOCAL',
        'mlflow.source.name': 'train.py',
        'mlflow.source.git.commit': 'e'.repeat(40),
        'mlflow.source.git.repoURL': 'https://example.com/ml/weather.git',
        'mlflow.source.git.branch': 'main',
        'mlflow.project.entryPoint': 'main',
        'kiln.source.git.dirty': 'false',
        'kiln.runtime.node': 'v20.0.0',
        'kiln.runtime.platform': 'linux-x64',
        'kiln.runtime.manifest': 'train/package.json',
        'kiln.runtime.manifest.sha256': 'a'.repeat(64),
        'kiln.runtime.lockfile': 'train/package-lock.json',
        'kiln.runtime.lockfile.sha256': 'b'.repeat(64),
      };
      const run = (await v1json('POST', '/runs', { experiment_id: '0', run_name: 'full', user_id: 'ana', tags })).run;
      await v1json('POST', `/runs/${run.run_id}/log`, { params: { lr: '0.1', epochs: '3' } });
      await v1json('PATCH', `/runs/${run.run_id}`, { status: 'FINISHED', end_time: Date.now() });
      await v1json('POST', `/runs/${run.run_id}/inputs`, {
        datasets: [{ name: 'weather-full', digest: data.mlflow_digest, source_type: 'kiln', source: 'kiln://datasets/weather-full/v1', tags: { 'mlflow.data.context': 'training' } }],
      });
      const files = await buildOnnxModelPackage({ onnx: linearModel({ inputs: 3 }), inputExample: [[1, 2, 3]], metadata: { team: 'ml' }, runId: run.run_id, artifactPath: 'model', inspect: inspectOnnx });
      for (const f of files) await fetch(`${ts.url}/api/v1/runs/${run.run_id}/artifacts/model/${f.path}`, { method: 'PUT', body: f.bytes });
      await v1json('POST', '/models', { name: 'full' });
      await v1json('POST', '/models/full/versions', { source: `runs:/${run.run_id}/model`, run_id: run.run_id });
      await ts.server.services.registry.whenSettled();

      const version = (await v1json('GET', '/models/full/versions/1')).version;
      assert.equal(version.status, 'READY', version.status_message);
      assert.deepEqual(version, asJson(versionJson(await ts.server.services.registry.getVersion('full', '1'))));
      // The fixture exercises every field a package of an MLflow ONNX folder has, so the comparison covers them.
      const pkg = version.package;
      assert.deepEqual(Object.keys(pkg ?? {}).sort(), Object.keys(ModelPackage.properties).filter((k) => k !== 'status_message' && k !== 'not_servable_reason').sort());
      assert.deepEqual(pkg?.onnx?.inputs, [{ name: 'x', type: 'float32', shape: ['N', 3] }]);
      assert.deepEqual(pkg?.signature?.inputs, { kind: 'tensors', tensors: [{ name: 'x', dtype: 'float32', shape: [-1, 3] }] });
      assert.deepEqual(pkg?.mlmodel?.metadata, { team: 'ml' });
      assert.equal(pkg?.input_example?.type, 'ndarray');

      // An MLmodel as users write them: composite columns, params, and keys kept as the file has them.
      const odd = [
        'artifact_path: odd',
        'flavors:',
        '  sklearn: {pickled_model: m.pkl, extra: [1, {a: null}]}',
        '  python_function: null',
        'model_uuid: 12345',
        'time_created: 2020',
        'saved_input_example_info: {artifact_path: ex.json, type: dataframe, pandas_orient: null, format: 3, other: [x]}',
        'signature:',
        `  inputs: '[{"type": "array", "items": {"type": "string"}, "name": "tokens", "required": false}, {"type": "map", "values": {"type": "long"}, "name": "m"}, {"type": "any", "name": "z"}]'`,
        `  params: '[{"name": "k", "type": "long", "default": [1, 2], "shape": [-1]}]'`,
      ].join('\n');
      await fetch(`${ts.url}/api/v1/runs/${run.run_id}/artifacts/odd/MLmodel`, { method: 'PUT', body: odd });
      await v1json('POST', '/models/full/versions', { source: `runs:/${run.run_id}/odd` });
      await ts.server.services.registry.whenSettled();
      const oddVersion = (await v1json('GET', '/models/full/versions/2')).version;
      assert.deepEqual(oddVersion, asJson(versionJson(await ts.server.services.registry.getVersion('full', '2'))));
      assert.deepEqual(oddVersion.package?.mlmodel?.saved_input_example_info, { artifact_path: 'ex.json', type: 'dataframe', pandas_orient: null, format: 3, other: ['x'] });
      assert.deepEqual(oddVersion.package?.mlmodel?.extra, { time_created: 2020 });

      const reproduce = new ReproduceService(ts.server.services.registry, ts.server.services.tracking, new ModelFiles(ts.server.services.registry, ts.server.artifacts), ts.server.services.data);
      const recipe = await v1json('GET', '/models/full/versions/1/reproduce');
      assert.deepEqual(recipe, asJson(await reproduce.recipe('full', 1)));
      assert.deepEqual(Object.keys(recipe), Object.keys(ReproductionRecipe.properties));
      // Nothing is missing from this run, so every field of the recipe carries a value, but for the Python
      // environment, which a model written by the TypeScript packager does not have.
      const { python_version, requirements, conda, python_env, ...nodeEnvironment } = recipe.environment;
      assert.deepEqual([python_version, requirements, conda, python_env], [null, null, null, null]);
      assert.ok(!JSON.stringify({ ...recipe, environment: nodeEnvironment }).includes('null'), JSON.stringify(recipe));
      assert.deepEqual(recipe.gaps, []);
      assert.deepEqual(recipe.datasets[0]?.kiln_version, { name: 'weather-full', version: 1, digest: data.digest });
      assert.equal(recipe.environment.runtime['kiln.runtime.node'], 'v20.0.0');
      assert.equal(recipe.environment.node_version, 'v20.0.0');
      assert.equal(recipe.environment.lockfile_sha256, 'b'.repeat(64));
      assert.equal(recipe.code.git_dirty, false);
      assert.ok(recipe.steps.includes(`cd train && npm ci  # Node v20.0.0; train/package.json (sha256 ${'a'.repeat(64)}) with train/package-lock.json (sha256 ${'b'.repeat(64)})`), JSON.stringify(recipe.steps));
      assert.ok(!recipe.steps.some((x: string) => x.startsWith('pip install')), 'a Node run is not reproduced with pip');
    });

    it('names every missing piece of a recipe: repository, uncommitted changes, unpinned data, environment', async () => {
      const v1json = async (method: string, path: string, body?: unknown) => {
        const r = await call(ts.url, method, `/api/v1${path}`, body);
        assert.ok(r.status < 300, `${method} ${path}: ${r.status} ${r.text}`);
        return r.body;
      };
      const register = async (name: string, tags: Record<string, string>, inputs: unknown[] = []) => {
        const run = (await v1json('POST', '/runs', { experiment_id: '0', tags })).run;
        if (inputs.length) await v1json('POST', `/runs/${run.run_id}/inputs`, { datasets: inputs });
        await fetch(`${ts.url}/api/v1/runs/${run.run_id}/artifacts/model/model.onnx`, { method: 'PUT', body: linearModel(), headers: { 'content-type': 'application/octet-stream' } });
        await v1json('POST', '/models', { name });
        const v = (await v1json('POST', `/models/${name}/versions`, { source: `runs:/${run.run_id}/model`, run_id: run.run_id })).version;
        await ts.server.services.registry.whenSettled();
        return (await v1json('GET', `/models/${name}/versions/${v.version}/reproduce`)) as { gaps: string[]; code: { git_dirty: boolean | null } };
      };
      // A Node run with a commit but no repository, a dirty tree, no lockfile, and no dataset inputs.
      let recipe = await register('gappy', { 'mlflow.source.name': 'train.ts', 'mlflow.source.git.commit': 'c'.repeat(40), 'kiln.source.git.dirty': 'true', 'kiln.runtime.node': 'v22.1.0', 'kiln.runtime.manifest': 'package.json', 'kiln.runtime.manifest.sha256': 'd'.repeat(64) });
      const expect = (patterns: RegExp[]) => {
        for (const p of patterns) assert.ok(recipe.gaps.some((g) => p.test(g)), `${p} in ${JSON.stringify(recipe.gaps)}`);
        assert.equal(recipe.gaps.length, patterns.length, JSON.stringify(recipe.gaps));
      };
      expect([/no repository URL was recorded/, /uncommitted changes when the run started/, /no dataset inputs/, /no lockfile was recorded beside package\.json/]);
      assert.equal(recipe.code.git_dirty, true);

      // No commit and nothing about the environment; a dataset that is not a Kiln version.
      recipe = await register('bare', {}, [{ name: 'raw', digest: 'ffff0000', source_type: 'local', source: '/data/raw.csv' }]);
      expect([/no git commit was recorded/, /no repository URL was recorded/, /dataset raw \(ffff0000\) is not a Kiln dataset version/, /no environment was recorded/]);
      assert.ok(!recipe.gaps.some((g) => /uncommitted/.test(g)), 'no commit: nothing to say about the tree');

      // A commit whose tree state was not recorded, a Node run without a manifest.
      recipe = await register('unknown-tree', { 'mlflow.source.git.commit': 'c'.repeat(40), 'mlflow.source.git.repoURL': 'https://example.com/r.git', 'kiln.runtime.node': 'v22.1.0' });
      expect([/whether the working tree had uncommitted changes was not recorded/, /no dataset inputs/, /no package manifest was recorded/]);
    });
  });
}
