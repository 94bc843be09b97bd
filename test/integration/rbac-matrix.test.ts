import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { ROLES, type Role, type RouteRule } from '../../src/platform/auth/rules.js';
import type { RouteEntry } from '../../src/platform/http/auth.js';
import { linearModel } from '../../src/registry/packaging/test-models.js';
import { call, startTestServer, type TestServer, basicAuth } from '../support/server.js';

const basic = basicAuth;
type Identity = Role | 'outsider';
const IDENTITIES: readonly Identity[] = ['outsider', ...ROLES];

/**
 * The RBAC matrix: every route the running server registered (native API, MLflow's API and artifact proxy, the UI),
 * called by an identity of each role in the project that holds the fixtures (and by one outside it), against real
 * fixtures (an experiment with a run, a logged model, a registered model with a READY version and an alias, a
 * dataset). For a route with a project rule: outside the project → 404 (its existence is not revealed); below the
 * rule's role → 403; at the rule's role → past the rules (the handler answers: anything but 401 and 403). Admin
 * rules: 403 for every role, past the rules for an admin. Lists: never 401 or 403. A route without a rule stops the
 * server from starting (route-rules.test.ts); a route the table below can't build a request for fails here.
 */
describe('RBAC matrix over every route (sqlite)', () => {
  let ts: TestServer;
  const root = basic('root', 'root password 1');
  const who: Record<Identity, Record<string, string>> = {
    outsider: basic('out', 'out password 1'),
    viewer: basic('vic', 'vic password 1'),
    editor: basic('eda', 'eda password 1'),
    maintainer: basic('max', 'max password 1'),
    owner: basic('own', 'own password 1'),
  };
  const f = { exp: '', run: '', loggedModel: '', model: 'matrix-model', dataset: 'matrix-data' };
  let routes: RouteEntry[];

  const sha = (s: string | Buffer) => createHash('sha256').update(s).digest('hex');
  const ok = (r: { status: number; text: string }, what: string) => assert.ok(r.status < 300, `${what}: ${r.status} ${r.text}`);

  /** The fixtures, made again where a route of the matrix deleted them. */
  async function ensureFixtures(): Promise<void> {
    const as = (method: string, path: string, body?: unknown) => call(ts.url, method, path, body, root);
    if (!f.exp || (await as('GET', `/api/v1/experiments/${f.exp}`)).status === 404) {
      const e = await as('POST', '/api/v1/experiments', { name: `matrix-${Date.now()}` });
      ok(e, 'experiment');
      f.exp = e.body.experiment.experiment_id;
    }
    const exp = (await as('GET', `/api/v1/experiments/${f.exp}`)).body.experiment;
    if (exp.lifecycle_stage !== 'active') ok(await as('POST', `/api/v1/experiments/${f.exp}/restore`), 'restore experiment');
    const run = f.run ? await as('GET', `/api/v1/runs/${f.run}`) : undefined;
    if (!run || run.status === 404 || run.body.run.experiment_id !== f.exp) {
      const r = await as('POST', '/api/v1/runs', { experiment_id: f.exp });
      ok(r, 'run');
      f.run = r.body.run.run_id;
      ok(await as('POST', `/api/v1/runs/${f.run}/log`, { metrics: [{ key: 'm', value: 1, step: 0, timestamp: 1 }] }), 'metrics');
      const up = await fetch(`${ts.url}/api/v1/runs/${f.run}/artifacts/model/model.onnx`, { method: 'PUT', body: linearModel(), headers: { 'content-type': 'application/octet-stream', ...root } });
      assert.equal(up.status, 204);
      f.loggedModel = '';
    } else if (run.body.run.lifecycle_stage !== 'active') {
      ok(await as('POST', `/api/v1/runs/${f.run}/restore`), 'restore run');
    }
    if (!f.loggedModel || (await as('GET', `/api/2.0/mlflow/logged-models/${f.loggedModel}`)).status === 404) {
      const lm = await as('POST', '/api/2.0/mlflow/logged-models', { experiment_id: f.exp, name: 'lm', source_run_id: f.run });
      ok(lm, 'logged model');
      f.loggedModel = lm.body.model.info.model_id;
    }
    if ((await as('GET', `/api/v1/models/${f.model}`)).status === 404) ok(await as('POST', '/api/v1/models', { name: f.model }), 'model');
    if ((await as('GET', `/api/v1/models/${f.model}/versions/1`)).status === 404 || (await as('GET', `/api/v1/models/${f.model}/aliases/champion`)).status === 404) {
      const v = await as('POST', `/api/v1/models/${f.model}/versions`, { source: `runs:/${f.run}/model`, run_id: f.run });
      ok(v, 'version');
      await ts.server.services.registry.whenSettled();
      ok(await as('PUT', `/api/v1/models/${f.model}/aliases/champion`, { version: v.body.version.version }), 'alias');
    }
    // A deployment named as the registered model, so routes with a :name find both.
    if ((await as('GET', `/api/v1/deployments/${f.model}`)).status === 404) ok(await as('POST', '/api/v1/deployments', { name: f.model, model: `models:/${f.model}@champion` }), 'deployment');
    if ((await as('GET', `/api/v1/datasets/${f.dataset}`)).status === 404) {
      const content = 'a,b\n1,2\n3,4\n';
      const missing = (await as('POST', '/api/v1/data/blobs/missing', { sha256: [sha(content)] })).body.missing as string[];
      if (missing.length) assert.equal((await fetch(`${ts.url}/api/v1/data/blobs/${sha(content)}`, { method: 'PUT', body: content, headers: { 'content-type': 'application/octet-stream', ...root } })).status, 201);
      ok(await as('POST', `/api/v1/datasets/${f.dataset}/versions`, { files: [{ path: 'a.csv', sha256: sha(content), bytes: content.length }] }), 'dataset');
    }
    // A monitor named as the registered model too, on the dataset.
    if ((await as('GET', `/api/v1/monitors/${f.model}`)).status === 404) ok(await as('POST', '/api/v1/monitors', { name: f.model, model: f.model, reference: `${f.dataset}@v1` }), 'monitor');
  }

  before(async () => {
    ts = await startTestServer({ store: 'sqlite', auth: 'on', capabilities: { governance: { env: { KILN_ADMIN_USER: 'root', KILN_ADMIN_PASSWORD: 'root password 1' } } } });
    const as = (method: string, path: string, body?: unknown) => call(ts.url, method, path, body, root);
    // The fixtures live in the default project; here it is members-only, with one member per role.
    ok(await as('PATCH', '/api/v1/projects/default', { everyone_role: null }), 'members only');
    for (const [identity, name] of [['outsider', 'out'], ['viewer', 'vic'], ['editor', 'eda'], ['maintainer', 'max'], ['owner', 'own']] as const) {
      ok(await as('POST', '/api/v1/users', { name, password: `${name} password 1` }), `user ${name}`);
      if (identity !== 'outsider') ok(await as('PUT', `/api/v1/projects/default/members/user/${name}`, { role: identity }), `member ${name}`);
    }
    await ensureFixtures();
    routes = ts.server.app.kilnRoutes();
  });
  after(async () => {
    await ts?.stop();
  });

  /** The request for a route: its path with every parameter filled in from the fixtures, and MLflow's fields naming them too. */
  function requestFor(route: RouteEntry): { path: string; body?: unknown } {
    const url = route.url;
    const name = url.includes('/datasets/') ? f.dataset : url.includes('/projects/') ? 'default' : f.model;
    const params: Record<string, string> = {
      experiment_id: f.exp,
      run_id: f.run,
      model_id: f.loggedModel,
      name,
      version: url.includes('/datasets/') ? 'v1' : '1',
      alias: 'champion',
      key: 'k',
      tag_key: 'k',
      request_id: 'pr_unknown',
      kind: 'user',
      member: 'nobody',
      group: 'nobody-group',
      user: 'nobody',
      id: 'wh_unknown',
      webhook_id: 'wh_unknown',
      delivery: 'd_unknown',
      token: 'nothing',
      digest: 'ab',
      sha256: 'a'.repeat(64),
      start: '0',
    };
    let path = url.replace(/:([a-z0-9_]+)/g, (_, p: string) => {
      const v = params[p];
      assert.ok(v !== undefined, `no value for :${p} in ${route.method} ${url}`);
      return encodeURIComponent(v);
    });
    if (path.endsWith('*')) {
      // Not the model's own file: a route of the matrix deletes what it names.
      const rest = url.includes('mlflow-artifacts') ? `${f.exp}/${f.run}/artifacts/extra/f.txt` : url.includes('/datasets/') ? 'a.csv' : url.includes('/models/') ? 'model.onnx' : 'extra/f.txt';
      path = path.slice(0, -1) + rest;
    }
    // MLflow's fields (query string for GET and DELETE, body otherwise), all naming the fixtures.
    const fields: Record<string, string> = {
      experiment_id: f.exp,
      experiment_ids: f.exp,
      run_id: f.run,
      run_uuid: f.run,
      run_ids: f.run,
      name: f.model,
      version: '1',
      alias: 'champion',
      model_id: f.loggedModel,
      path: `${f.exp}/${f.run}`,
      key: 'k',
      value: 'v',
      metric_key: 'm',
      username: 'nobody',
      permission: 'READ',
      uri: `models:/${f.model}/1`,
      model: `models:/${f.model}/1`,
      a: `${f.dataset}@v1`,
      b: `${f.dataset}@v1`,
      node: `runs:/${f.run}`,
    };
    if (route.method === 'GET' || route.method === 'DELETE' || route.method === 'HEAD') {
      return { path: `${path}${path.includes('?') ? '&' : '?'}${new URLSearchParams(fields)}`, body: route.method === 'DELETE' ? fields : undefined };
    }
    return { path, body: { ...fields, experiment_ids: [f.exp], run_ids: [f.run] } };
  }

  const send = (identity: Identity | 'admin', route: RouteEntry) => {
    const r = requestFor(route);
    return call(ts.url, route.method, r.path, r.body, identity === 'admin' ? root : who[identity]);
  };

  /** Destructive routes last (and fixtures made again after each), so every other route sees them whole. */
  const destructive = (r: RouteEntry) => r.method === 'DELETE' || /\/(delete|rename|restore)$/.test(r.url) || r.url.endsWith('/experiments/update');

  it('every route answers each role as its rule says', async () => {
    const checked: string[] = [];
    const failures: string[] = [];
    const list = routes.filter((r) => r.method !== 'HEAD' && r.method !== 'OPTIONS' && r.rule !== undefined);
    const ordered = [...list.filter((r) => !destructive(r)), ...list.filter(destructive)];
    for (const route of ordered) {
      const rule = route.rule as RouteRule;
      const where = `${route.method} ${route.url}`;
      const expect = (cond: boolean, identity: string, status: number, text: string, want: string) => {
        if (!cond) failures.push(`${where} as ${identity}: ${status} (want ${want}) ${text.slice(0, 160)}`);
      };
      if (rule.access === 'public') continue;
      if (rule.access === 'authenticated') {
        // The caller's own things: never refused for lack of a role.
        const r = await send('viewer', route);
        expect(r.status !== 401, 'viewer', r.status, r.text, 'not 401');
      } else if (rule.access === 'admin') {
        for (const identity of IDENTITIES) {
          const r = await send(identity, route);
          expect(r.status === 403, identity, r.status, r.text, '403');
        }
        const r = await send('admin', route);
        expect(r.status !== 401 && r.status !== 403, 'admin', r.status, r.text, 'past the rules');
      } else if (rule.on === 'listed') {
        for (const identity of IDENTITIES) {
          const r = await send(identity, route);
          expect(r.status !== 401 && r.status !== 403, identity, r.status, r.text, 'past the rules');
        }
      } else {
        const out = await send('outsider', route);
        expect(out.status === 404, 'outsider', out.status, out.text, '404');
        for (const role of ROLES.slice(0, ROLES.indexOf(rule.role))) {
          const r = await send(role, route);
          expect(r.status === 403, role, r.status, r.text, '403');
        }
        const r = await send(rule.role, route);
        expect(r.status !== 401 && r.status !== 403, rule.role, r.status, r.text, 'past the rules');
      }
      checked.push(where);
      if (destructive(route)) await ensureFixtures();
    }
    assert.deepEqual(failures, []);
    // The matrix reached every kind of route: native, MLflow's API, the artifact proxy.
    for (const prefix of ['/api/v1/', '/api/2.0/mlflow/', '/ajax-api/2.0/mlflow/', '/api/2.0/mlflow-artifacts/', '/api/v1/deployments', '/v2/models/', '/deployments/']) {
      assert.ok(checked.some((c) => c.includes(prefix)), `no route under ${prefix} was checked`);
    }
    assert.ok(checked.length > 200, `only ${checked.length} routes checked`);
  });
});
