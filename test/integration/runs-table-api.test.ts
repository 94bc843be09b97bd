import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { STORE_BACKENDS } from '../support/backends.js';
import { call, startTestServer, type TestServer } from '../support/server.js';

/** What the runs table reads besides the search: an experiment's keys, counts (grouped) and random-access pages. */
for (const backend of STORE_BACKENDS) {
  describe(`runs table API on ${backend}`, () => {
    let ts: TestServer;
    let exp = '';
    let other = '';
    const v1 = (method: string, path: string, body?: unknown) => call(ts.url, method, `/api/v1${path}`, body);

    before(async () => {
      ts = await startTestServer({ store: backend });
      exp = (await v1('POST', '/experiments', { name: 'table' })).body.experiment.experiment_id;
      other = (await v1('POST', '/experiments', { name: 'other' })).body.experiment.experiment_id;
      for (let i = 0; i < 12; i++) {
        const run = (await v1('POST', '/runs', { experiment_id: exp, run_name: `r${i}`, start_time: 1000 + i })).body.run;
        const params: Record<string, string> = { lr: i % 3 === 0 ? '0.1' : '0.01' };
        if (i < 10) params['model class'] = i % 2 ? 'cnn' : 'mlp';
        await v1('POST', `/runs/${run.run_id}/log`, { metrics: [{ key: 'loss', value: i / 10, step: 0 }], params, tags: { team: 'vision' } });
      }
      const gone = (await v1('POST', '/runs', { experiment_id: exp })).body.run;
      await v1('POST', `/runs/${gone.run_id}/log`, { metrics: [{ key: 'deleted_only', value: 1 }] });
      await v1('DELETE', `/runs/${gone.run_id}`);
      const o = (await v1('POST', '/runs', { experiment_id: other })).body.run;
      await v1('POST', `/runs/${o.run_id}/log`, { metrics: [{ key: 'other_metric', value: 1 }], params: { other_param: 'x' } });
    });
    after(async () => {
      await ts?.stop();
    });

    it('lists the distinct keys of the active runs of one experiment', async () => {
      const r = await v1('GET', `/experiments/${exp}/keys`);
      assert.equal(r.status, 200, r.text);
      assert.deepEqual(r.body.metrics, ['loss']);
      assert.deepEqual(r.body.params, ['lr', 'model class']);
      assert.ok(r.body.tags.includes('team'));
      assert.ok(!r.body.tags.includes('other_param'));
      assert.equal((await v1('GET', '/experiments/999999/keys')).status, 404);
    });

    it('counts runs under a filter, per value of a param with runs lacking it as null', async () => {
      assert.equal((await v1('POST', '/runs/count', { experiment_ids: [exp] })).body.count, 12);
      assert.equal((await v1('POST', '/runs/count', { experiment_ids: [exp], filter: 'metrics.loss >= 0.5' })).body.count, 7);
      const g = (await v1('POST', '/runs/count', { experiment_ids: [exp], group_by: 'params.`model class`' })).body;
      assert.equal(g.count, 12);
      assert.deepEqual(g.groups, { entity: 'param', key: 'model class', values: [{ value: 'cnn', count: 5 }, { value: 'mlp', count: 5 }, { value: null, count: 2 }] });
      const f = (await v1('POST', '/runs/count', { experiment_ids: [exp], filter: "params.lr = '0.1'", group_by: 'tags.team' })).body;
      assert.deepEqual(f.groups.values, [{ value: 'vision', count: 4 }]);
      const bad = await v1('POST', '/runs/count', { experiment_ids: [exp], group_by: 'metrics.loss' });
      assert.equal(bad.status, 400);
      const malformed = await v1('POST', '/runs/count', { experiment_ids: [exp], filter: 'metrics.loss >' });
      assert.equal(malformed.status, 400);
      assert.equal(typeof malformed.body.details.position, 'number');
    });

    it('pages a search by offset', async () => {
      const all = (await v1('POST', '/runs/search', { experiment_ids: [exp], order_by: ['metrics.loss DESC'] })).body.runs.map((r: { run_id: string }) => r.run_id);
      const page = await v1('POST', '/runs/search', { experiment_ids: [exp], order_by: ['metrics.loss DESC'], offset: 5, max_results: 4 });
      assert.deepEqual(page.body.runs.map((r: { run_id: string }) => r.run_id), all.slice(5, 9));
      assert.ok(page.body.next_page_token);
      assert.equal((await v1('POST', '/runs/search', { experiment_ids: [exp], offset: -1 })).status, 400);
    });

    it('checks a filter without searching', async () => {
      let r = await v1('POST', '/runs/search/check', { filter: "metrics.loss > 0.5 AND params.lr = '0.1'", order_by: ['metrics.loss DESC'] });
      assert.deepEqual(r.body, { valid: true });
      r = await v1('POST', '/runs/search/check', { filter: 'metrics.loss > AND' });
      assert.equal(r.status, 200);
      assert.equal(r.body.valid, false);
      assert.match(r.body.message, /position/);
      assert.equal(typeof r.body.details.position, 'number');
      r = await v1('POST', '/runs/search/check', { order_by: ['colour DESC'] });
      assert.equal(r.body.valid, false);
      assert.equal((await v1('POST', '/runs/search/check', { filter: 7 })).status, 400);
    });
  });
}
