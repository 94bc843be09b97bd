import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { STORE_BACKENDS } from '../support/backends.js';
import { call, startTestServer, type TestServer, basicAuth } from '../support/server.js';

const basic = basicAuth;

/**
 * The project of an experiment in the native API's JSON, and the `project` filter of the experiment and registered
 * model lists: applied in the query (exact pages), combined with what the caller may read, an unknown project
 * matching nothing. MLflow's answers do not change.
 */
for (const backend of STORE_BACKENDS) {
  describe(`project filters (${backend})`, () => {
    let ts: TestServer;
    const admin = basic('root', 'root password 1');
    const vic = basic('vic', 'vic password 1');
    const as = (auth: Record<string, string>) => (method: string, path: string, body?: unknown) => call(ts.url, method, path, body, auth);
    const root = as(admin);
    const names = (r: { body: { experiments?: { name: string }[]; models?: { name: string }[] } }) => (r.body.experiments ?? r.body.models ?? []).map((x) => x.name);

    before(async () => {
      ts = await startTestServer({ store: backend, auth: 'on', capabilities: { governance: { env: { KILN_ADMIN_USER: 'root', KILN_ADMIN_PASSWORD: 'root password 1' } } } });
      assert.equal((await root('POST', '/api/v1/users', { name: 'vic', password: 'vic password 1' })).status, 201);
      assert.equal((await root('PATCH', '/api/v1/projects/default', { everyone_role: null })).status, 200);
      for (const p of ['alpha', 'beta']) assert.equal((await root('POST', '/api/v1/projects', { name: p })).status, 201);
      assert.equal((await root('PUT', '/api/v1/projects/alpha/members/user/vic', { role: 'viewer' })).status, 200);
      for (const [p, n] of [['alpha', 3], ['beta', 2], ['default', 1]] as const) {
        for (let i = 0; i < n; i++) assert.equal((await root('POST', '/api/v1/experiments', { name: `${p}-${i}`, project: p })).status, 201);
        for (let i = 0; i < n; i++) assert.equal((await root('POST', '/api/v1/models', { name: `${p}-m${i}`, project: p })).status, 201);
      }
    });
    after(async () => {
      await ts?.stop();
    });

    it('names the project in the experiment JSON of the native API, not in MLflow’s', async () => {
      const made = await root('POST', '/api/v1/experiments', { name: 'made-in-beta', project: 'beta' });
      assert.equal(made.status, 201, made.text);
      assert.equal(made.body.experiment.project, 'beta');
      const id = made.body.experiment.experiment_id as string;
      assert.equal((await root('GET', `/api/v1/experiments/${id}`)).body.experiment.project, 'beta');
      assert.equal((await root('GET', '/api/v1/experiments/by-name/made-in-beta')).body.experiment.project, 'beta');
      assert.equal((await root('GET', '/api/v1/experiments/0')).body.experiment.project, 'default');
      const mlflow = await root('GET', `/api/2.0/mlflow/experiments/get?experiment_id=${id}`);
      assert.equal(mlflow.status, 200, mlflow.text);
      assert.equal('project' in mlflow.body.experiment, false);
      assert.equal((await root('DELETE', `/api/v1/experiments/${id}`)).status, 204);
    });

    it('filters the experiment list by project in the query: exact pages', async () => {
      const p1 = await root('GET', '/api/v1/experiments?project=alpha&max_results=2&order_by=name%20ASC');
      assert.equal(p1.status, 200, p1.text);
      assert.deepEqual(names(p1), ['alpha-0', 'alpha-1']);
      assert.ok(p1.body.next_page_token);
      const p2 = await root('GET', `/api/v1/experiments?project=alpha&max_results=2&order_by=name%20ASC&page_token=${encodeURIComponent(p1.body.next_page_token)}`);
      assert.deepEqual(names(p2), ['alpha-2']);
      assert.equal(p2.body.next_page_token, undefined);
      assert.ok(p1.body.experiments.every((e: { project: string }) => e.project === 'alpha'));
      assert.deepEqual(names(await root('GET', '/api/v1/experiments?project=default&order_by=name%20ASC')), ['Default', 'default-0']);
      // Combined with the filter grammar.
      assert.deepEqual(names(await root('GET', `/api/v1/experiments?project=beta&filter=${encodeURIComponent("name = 'beta-1'")}`)), ['beta-1']);
      // An unknown project matches nothing; one the caller may not read shows nothing either.
      const unknown = await root('GET', '/api/v1/experiments?project=nope');
      assert.equal(unknown.status, 200, unknown.text);
      assert.deepEqual(names(unknown), []);
      assert.deepEqual(names(await as(vic)('GET', '/api/v1/experiments?project=beta')), []);
      assert.deepEqual(names(await as(vic)('GET', '/api/v1/experiments?project=alpha&order_by=name%20ASC')), ['alpha-0', 'alpha-1', 'alpha-2']);
    });

    it('filters the registered model list by project in the query: exact pages', async () => {
      const p1 = await root('GET', '/api/v1/models?project=alpha&max_results=2');
      assert.equal(p1.status, 200, p1.text);
      assert.deepEqual(names(p1), ['alpha-m0', 'alpha-m1']);
      const p2 = await root('GET', `/api/v1/models?project=alpha&max_results=2&page_token=${encodeURIComponent(p1.body.next_page_token)}`);
      assert.deepEqual(names(p2), ['alpha-m2']);
      assert.equal(p2.body.next_page_token, undefined);
      assert.deepEqual(names(await root('GET', '/api/v1/models?project=nope')), []);
      assert.deepEqual(names(await as(vic)('GET', '/api/v1/models?project=beta')), []);
      assert.deepEqual(names(await as(vic)('GET', '/api/v1/models')), ['alpha-m0', 'alpha-m1', 'alpha-m2']);
    });

    it('names a project created after its name was first asked for (the cache forgets on create and delete)', async () => {
      assert.equal((await root('POST', '/api/v1/projects', { name: 'gamma' })).status, 201);
      const e = await root('POST', '/api/v1/experiments', { name: 'gamma-0', project: 'gamma' });
      assert.equal(e.body.experiment.project, 'gamma');
      assert.deepEqual(names(await root('GET', '/api/v1/experiments?project=gamma')), ['gamma-0']);
    });
  });
}
