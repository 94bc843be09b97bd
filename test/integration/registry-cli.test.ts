import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { kiln } from '../support/cli.js';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { tempDir } from '../support/backends.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { Kiln } from '@kiln-mlops/sdk';
import { linearExpected, linearModel } from '../../src/registry/packaging/test-models.js';
import { parseMLmodel } from '../../src/registry/packaging/mlmodel.js';

/** The registry from the TypeScript SDK and the kiln CLI: log an ONNX model, register, download, gate, promote. */
describe('registry through the SDK and the CLI', () => {
  let ts: TestServer;
  let kilnAs: (user: string) => Kiln;
  const cli = (args: string[], user = 'ana') => kiln([...args, '--tracking-uri', ts.url], { KILN_USER: user });
  before(async () => {
    ts = await startTestServer({ store: 'sqlite' });
    kilnAs = (user) => new Kiln({ trackingUri: ts.url, user });
  });
  after(async () => {
    await ts?.stop();
  });

  it('logs an ONNX model from TypeScript in MLflow layout and registers it', async () => {
    const k = kilnAs('ana');
    const { version, modelUri } = await k.withRun({ experiment: 'sdk-registry' }, async (run) => {
      run.logMetric('val_accuracy', 0.91);
      await run.flush();
      return run.logOnnxModel('model', linearModel({ inputs: 4, outputs: 1 }), { inputExample: [[1, 2, 3, 4]], registeredModelName: 'iris' });
    });
    assert.match(modelUri, /^runs:\/[0-9a-f]{32}\/model$/);
    assert.equal(version?.status, 'READY');
    assert.equal(version?.servable, true);
    assert.equal(version?.user_id, 'ana');
    const listed = await cli(['models', 'list']);
    assert.equal(listed.code, 0, listed.err);
    assert.match(listed.out, /iris\s+1/);
    const versions = await cli(['models', 'versions', 'iris', '--json']);
    assert.equal(JSON.parse(versions.out).versions[0].package.onnx.inputs[0].name, 'x');

    // download by alias and check the files are an MLflow model that runs
    assert.equal((await cli(['models', 'alias', 'set', 'iris', 'champion', '1', '--reason', 'first'])).code, 0);
    const dest = tempDir('kiln-dl-');
    const dl = await cli(['models', 'download', 'models:/iris@champion', '--dest', dest]);
    assert.equal(dl.code, 0, dl.err);
    assert.deepEqual(readdirSync(dest).sort(), ['MLmodel', 'input_example.json', 'model.onnx', 'serving_input_example.json']);
    const mlmodel = parseMLmodel(readFileSync(join(dest, 'MLmodel'), 'utf8'));
    assert.deepEqual(Object.keys(mlmodel.flavors).sort(), ['onnx', 'python_function']);
    const session = await ort.InferenceSession.create(readFileSync(join(dest, 'model.onnx')));
    const out = await session.run({ x: new ort.Tensor('float32', new Float32Array([1, 2, 3, 4]), [1, 4]) });
    assert.ok(Math.abs((out.y!.data as Float32Array)[0]! - linearExpected([[1, 2, 3, 4]])[0]![0]!) < 1e-5);
  });

  it('promotes through gates from the CLI, with exit codes and an approval by another user', async () => {
    const k = kilnAs('ana');
    const weak = await k.withRun({ experiment: 'sdk-registry' }, async (run) => {
      run.logMetric('val_accuracy', 0.5);
      await run.flush();
      return run.logOnnxModel('model', linearModel(), { registeredModelName: 'iris' });
    });
    let r = await cli(['models', 'policy', 'set', 'iris', 'production', '--rule', 'metrics.val_accuracy >= 0.85', '--rule', 'metrics.val_accuracy >= champion - 0.01', '--require-approval']);
    assert.equal(r.code, 0, r.err);
    r = await cli(['models', 'promote', 'iris', String(weak.version!.version), '--alias', 'production']);
    assert.equal(r.code, 1);
    assert.match(r.out, /FAIL\s+metrics\.val_accuracy >= 0\.85\s+failed: 0\.5 >= 0\.85/);
    assert.match(r.out, /REJECTED/);
    r = await cli(['models', 'promote', 'iris', '1', '--alias', 'production', '--dry-run']);
    assert.equal(r.code, 0);
    assert.match(r.out, /PENDING_APPROVAL \(dry run\)/);
    r = await cli(['models', 'promote', 'iris', '1', '--alias', 'production', '--json']);
    const pending = JSON.parse(r.out);
    assert.equal(pending.status, 'PENDING_APPROVAL');
    r = await cli(['models', 'approve', 'iris', String(pending.request_id)], 'ana');
    assert.equal(r.code, 1);
    assert.match(r.err, /different user/);
    r = await cli(['models', 'approve', 'iris', String(pending.request_id), '--reason', 'reviewed'], 'bo');
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /PROMOTED: production now points to version 1/);
    r = await cli(['models', 'history', 'iris', '--json']);
    const kinds = JSON.parse(r.out).events.map((e: any) => `${e.kind}:${e.actor}`);
    for (const k2 of ['promotion_rejected:ana', 'promotion_requested:ana', 'promotion_approved:bo', 'alias_set:bo']) assert.ok(kinds.includes(k2), `${k2} in ${kinds.join(', ')}`);
    r = await cli(['models', 'get', 'iris']);
    assert.match(r.out, /production→v1/);
    assert.match(r.out, /Promotion policies/);

    // usage errors are exit 2, unknown things exit 1
    assert.equal((await cli(['models', 'promote', 'iris', '1'])).code, 2);
    assert.equal((await cli(['models', 'get', 'nope'])).code, 1);
    assert.equal((await cli(['models', 'approve', 'iris', 'abc'])).code, 1);
  });

  it('says dry run once, takes metric. in rules and reproduces a version named by its alias', async () => {
    let r = await cli(['models', 'policy', 'set', 'iris', 'staging', '--rule', 'metric.val_accuracy >= 0.85']);
    assert.equal(r.code, 0, r.err);
    r = await cli(['models', 'promote', 'iris', '2', '--alias', 'staging', '--dry-run']);
    assert.equal(r.code, 1);
    assert.match(r.out, /FAIL\s+metric\.val_accuracy >= 0\.85\s+failed: 0\.5 >= 0\.85/);
    assert.match(r.out, /\nREJECTED \(dry run\): 1 gate failed: metric\.val_accuracy >= 0\.85\n/);
    r = await cli(['models', 'promote', 'iris', '1', '--alias', 'staging', '--dry-run']);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /\nPROMOTED \(dry run\): every gate passed; staging would move to version 1\n/);
    assert.doesNotMatch(r.out, /dry run\): dry run/i);

    const byNumber = await cli(['models', 'reproduce', 'iris', '1', '--json']);
    assert.equal(byNumber.code, 0, byNumber.err);
    const expected = JSON.parse(byNumber.out);
    for (const args of [['iris', 'production'], ['iris@production'], ['models:/iris@production']]) {
      r = await cli(['models', 'reproduce', ...args, '--json']);
      assert.equal(r.code, 0, `${args.join(' ')}: ${r.err}`);
      assert.deepEqual(JSON.parse(r.out), expected, args.join(' '));
    }
    r = await cli(['models', 'reproduce', 'iris', 'production']);
    assert.match(r.out, /^iris version 1 /);
    r = await cli(['models', 'reproduce', 'iris', 'no-such-alias']);
    assert.equal(r.code, 1);
    assert.match(r.err, /no-such-alias/);
  });
});
