import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { weatherCsv } from '../support/fixtures.js';
import { kiln } from '../support/cli.js';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../support/backends.js';
import { call, startTestServer, type TestServer } from '../support/server.js';
import { Kiln } from '@kiln-mlops/sdk';
import { linearModel } from '../../src/registry/packaging/test-models.js';

/** "Which model is in production, trained on what?": data versions, validation, a gated promotion, lineage, reproduction. */
describe('journey: version data, train, gate a promotion on validated data, trace it back', () => {
  let ts: TestServer;
  const dir = tempDir('kiln-journey-');
  const cli = (args: string[], user = 'ana') => kiln([...args, '--tracking-uri', ts.url], { KILN_USER: user });
  const train = async (dataRef: string, accuracy: number) => {
    const k = new Kiln({ trackingUri: ts.url, user: 'ana' });
    return k.withRun({ experiment: 'rain', params: { lr: 0.01 } }, async (run) => {
      await run.logDatasetInput(dataRef, 'training');
      run.logMetric('val_accuracy', accuracy);
      await run.flush();
      return (await run.logOnnxModel('model', linearModel({ inputs: 3 }), { registeredModelName: 'rain' })).version!;
    });
  };
  before(async () => {
    ts = await startTestServer({ store: 'sqlite' });
    writeFileSync(join(dir, 'weather-1.csv'), weatherCsv(400, 1));
    writeFileSync(join(dir, 'weather-2.csv'), weatherCsv(400, 2, true));
    writeFileSync(join(dir, 'weather-3.csv'), weatherCsv(400, 3));
  });
  after(async () => {
    await ts?.stop();
  });

  it('walks the whole journey', async () => {
    for (const n of [1, 2, 3]) {
      const r = await cli(['data', 'add', join(dir, `weather-${n}.csv`), '--name', 'weather']);
      assert.equal(r.code, 0, r.err);
    }
    // a model trained on drifted data is held back by the data gate
    const drifted = await train('weather@v2', 0.93);
    let r = await cli(['models', 'policy', 'set', 'rain', 'production', '--rule', 'metrics.val_accuracy >= 0.85', '--require-data-validation']);
    assert.equal(r.code, 0, r.err);
    r = await cli(['models', 'promote', 'rain', String(drifted.version), '--alias', 'production']);
    assert.equal(r.code, 1);
    assert.match(r.out, /FAIL\s+training data validated\s+failed: weather@v2 has never been validated/);
    r = await cli(['data', 'validate', 'weather@v2', '--schema', 'weather@v1']);
    assert.equal(r.code, 1, r.out + r.err);
    r = await cli(['models', 'promote', 'rain', String(drifted.version), '--alias', 'production']);
    assert.equal(r.code, 1);
    assert.match(r.out, /weather@v2 failed its latest validation against weather@v1/);

    // the model trained on clean data passes every gate
    const clean = await train('weather@v3', 0.9);
    r = await cli(['data', 'validate', 'weather@v3', '--schema', 'weather@v1', '--threshold', '0.5']);
    assert.equal(r.code, 0, r.out + r.err);
    r = await cli(['models', 'promote', 'rain', String(clean.version), '--alias', 'production', '--reason', 'clean data']);
    assert.equal(r.code, 0, r.out + r.err);
    assert.match(r.out, /PASS\s+training data validated\s+passed: weather@v3 validated/);

    // which model is in production, trained on what?
    r = await cli(['lineage', 'models:/rain@production']);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, new RegExp(`^models:/rain/${clean.version}`));
    assert.match(r.out, /used-by \[training\] datasets:\/weather\/3 {2}weather@v3 sha256:[0-9a-f]{12}/);
    r = await cli(['models', 'reproduce', 'rain', String(clean.version), '--json']);
    const recipe = JSON.parse(r.out);
    assert.equal(recipe.datasets[0].kiln_version.name, 'weather');
    assert.equal(recipe.datasets[0].kiln_version.version, 3);
    assert.deepEqual(recipe.params, { lr: '0.01' });
    assert.equal(recipe.environment.runtime['kiln.runtime.node'], process.version);

    // and downstream: what did the drifted data feed?
    const down = (await call(ts.url, 'GET', `/api/v1/lineage?node=${encodeURIComponent('datasets:/weather/2')}&direction=down&depth=2`)).body;
    assert.deepEqual(down.nodes.filter((n: any) => n.kind === 'model_version').map((n: any) => n.id), [`models:/rain/${drifted.version}`]);
    const history = (await call(ts.url, 'GET', '/api/v1/models/rain/history')).body.events.map((e: any) => e.kind);
    assert.deepEqual(history.filter((k: string) => k.startsWith('promotion_') || k === 'alias_set'), ['promotion_rejected', 'promotion_rejected', 'alias_set']);
  });
});
