import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { kiln } from '../support/cli.js';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../support/backends.js';
import { call, startTestServer, type TestServer } from '../support/server.js';



describe('kiln CLI', () => {
  let ts: TestServer;
  let runId = '';
  before(async () => {
    ts = await startTestServer({ store: 'sqlite' });
    const exp = (await call(ts.url, 'POST', '/api/2.0/mlflow/experiments/create', { name: 'cli-exp' })).body.experiment_id;
    for (const [name, acc, lr] of [['a', 0.7, '0.1'], ['b', 0.9, '0.01'], ['c', 0.8, '0.01']] as const) {
      const id = (await call(ts.url, 'POST', '/api/2.0/mlflow/runs/create', { experiment_id: exp, run_name: name })).body.run.info.run_id;
      await call(ts.url, 'POST', '/api/2.0/mlflow/runs/log-batch', { run_id: id, metrics: [{ key: 'acc', value: acc, timestamp: 1 }], params: [{ key: 'lr', value: lr }] });
      if (name === 'b') runId = id;
    }
    await fetch(`${ts.url}/api/v1/runs/${runId}/artifacts/model/weights.bin`, { method: 'PUT', body: 'abc' });
    await fetch(`${ts.url}/api/v1/runs/${runId}/artifacts/notes.txt`, { method: 'PUT', body: 'hello' });
  });
  after(async () => {
    await ts?.stop();
  });
  const env = () => ({ KILN_TRACKING_URI: ts.url });

  it('prints help everywhere and exits 0', async () => {
    for (const args of [['--help'], ['server', '--help'], ['runs', 'search', '--help'], ['experiments', '--help'], ['db', 'upgrade', '--help'], ['runs', 'artifacts', 'download', '--help']]) {
      const r = await kiln(args);
      assert.equal(r.code, 0, args.join(' '));
      assert.match(r.out, /Usage: kiln/);
    }
    assert.match((await kiln(['server', '--help'])).out, /--store <uri>/);
  });

  it('exits 2 on usage errors and 1 on errors', async () => {
    assert.equal((await kiln(['runs', 'search'])).code, 2, 'missing required --experiment');
    assert.equal((await kiln(['no-such-command'])).code, 2);
    const r = await kiln(['experiments', 'get', 'does-not-exist'], env());
    assert.equal(r.code, 1);
    assert.match(r.err, /does-not-exist/);
    const down = await kiln(['experiments', 'list'], { KILN_TRACKING_URI: 'http://127.0.0.1:1' });
    assert.equal(down.code, 1);
    assert.match(down.err, /cannot reach/);
  });

  it('manages experiments', async () => {
    let r = await kiln(['experiments', 'create', 'cli-made', '--tag', 'team=ml', '--json'], env());
    assert.equal(r.code, 0, r.err);
    const id = JSON.parse(r.out).experiment_id as string;
    r = await kiln(['experiments', 'list'], env());
    assert.match(r.out, /ID\s+NAME/);
    assert.match(r.out, /cli-made/);
    assert.equal((await kiln(['experiments', 'rename', 'cli-made', 'cli-renamed'], env())).code, 0);
    r = await kiln(['experiments', 'get', id, '--json'], env());
    assert.equal(JSON.parse(r.out).name, 'cli-renamed');
    assert.deepEqual(JSON.parse(r.out).tags, { team: 'ml' });
    assert.equal((await kiln(['experiments', 'delete', 'cli-renamed'], env())).code, 0);
    r = await kiln(['experiments', 'list', '--view', 'deleted', '--json'], env());
    assert.deepEqual(JSON.parse(r.out).experiments.map((e: { name: string }) => e.name), ['cli-renamed']);
    assert.equal((await kiln(['experiments', 'restore', id], env())).code, 0);
  });

  it('searches runs with filter and order, as a table and as JSON', async () => {
    let r = await kiln(['runs', 'search', '--experiment', 'cli-exp', '--filter', "params.lr = '0.01'", '--order-by', 'metrics.acc DESC', '--json'], env());
    assert.equal(r.code, 0, r.err);
    assert.deepEqual(JSON.parse(r.out).runs.map((x: { run_name: string }) => x.run_name), ['b', 'c']);
    r = await kiln(['runs', 'search', '--experiment', 'cli-exp', '--max-results', '2', '--order-by', 'metrics.acc ASC'], env());
    assert.match(r.out, /RUN ID\s+NAME\s+STATUS/);
    assert.match(r.out, /--page-token/);
    r = await kiln(['runs', 'search', '--experiment', 'cli-exp', '--filter', 'metrics.acc >'], env());
    assert.equal(r.code, 1);
    assert.match(r.err, /position/);
  });

  it('gets, deletes and restores runs', async () => {
    let r = await kiln(['runs', 'get', runId], env());
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /Params/);
    r = await kiln(['runs', 'get', runId, '--json'], env());
    assert.deepEqual(JSON.parse(r.out).metrics.acc, { value: 0.9, step: 0, timestamp: 1 });
    assert.equal((await kiln(['runs', 'delete', runId], env())).code, 0);
    assert.equal(JSON.parse((await kiln(['runs', 'get', runId, '--json'], env())).out).lifecycle_stage, 'deleted');
    assert.equal((await kiln(['runs', 'restore', runId], env())).code, 0);
  });

  it('lists and downloads artifacts', async () => {
    let r = await kiln(['runs', 'artifacts', 'list', runId], env());
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /model\//);
    assert.match(r.out, /notes\.txt/);
    const dest = tempDir();
    r = await kiln(['runs', 'artifacts', 'download', runId, '--dest', dest], env());
    assert.equal(r.code, 0, r.err);
    assert.equal(readFileSync(join(dest, 'model', 'weights.bin'), 'utf8'), 'abc');
    assert.equal(readFileSync(join(dest, 'notes.txt'), 'utf8'), 'hello');
    const one = tempDir();
    r = await kiln(['runs', 'artifacts', 'download', runId, '--path', 'model', '--dest', one], env());
    assert.equal(r.code, 0, r.err);
    assert.ok(existsSync(join(one, 'model', 'weights.bin')));
    assert.ok(!existsSync(join(one, 'notes.txt')));
    rmSync(dest, { recursive: true, force: true });
    rmSync(one, { recursive: true, force: true });
  });

  it('upgrades a database explicitly', async () => {
    const dir = tempDir();
    const store = `sqlite://${join(dir, 'x.db')}`;
    let r = await kiln(['db', 'upgrade', '--store', store]);
    assert.equal(r.code, 0, r.err);
    assert.match(r.out, /Applied 0001_tracking/);
    r = await kiln(['db', 'upgrade', '--store', store]);
    assert.match(r.out, /up to date/);
    rmSync(dir, { recursive: true, force: true });
  });
});
