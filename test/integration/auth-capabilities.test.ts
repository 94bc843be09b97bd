import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { STORE_BACKENDS } from '../support/backends.js';
import { call, startTestServer, type TestServer } from '../support/server.js';
import { linearModel } from '../../src/registry/packaging/test-models.js';

const basic = (user: string, password: string) => `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`;

/**
 * With --auth on, the capabilities see who authenticated: MLflow clients with basic auth or a bearer token, runs
 * owned by the signed-in user whatever the client claims, approvals by authenticated identities only.
 */
for (const backend of STORE_BACKENDS) {
  describe(`capabilities behind --auth on (${backend})`, () => {
    let ts: TestServer;
    const as = (authorization: string | undefined, extra: Record<string, string> = {}) => (method: string, path: string, body?: unknown) =>
      call(ts.url, method, path, body, { ...(authorization ? { authorization } : {}), ...extra });
    let ana: ReturnType<typeof as>;
    let bo: ReturnType<typeof as>;
    let anaToken: string;

    before(async () => {
      ts = await startTestServer({ store: backend, auth: 'on', capabilities: { governance: { env: { KILN_ADMIN_USER: 'admin', KILN_ADMIN_PASSWORD: 'admin password' } } } });
      const admin = as(basic('admin', 'admin password'));
      for (const name of ['ana', 'bo']) {
        assert.equal((await admin('POST', '/api/v1/users', { name, password: `${name} password` })).status, 201);
        // Every signed-in user edits in the default project; deleting experiments and approving need a maintainer.
        assert.equal((await admin('PUT', `/api/v1/projects/default/members/user/${name}`, { role: 'maintainer' })).status, 200);
      }
      anaToken = (await as(basic('ana', 'ana password'))('POST', '/api/v1/tokens', { name: 'mlflow' })).body.token;
      ana = as(`Bearer ${anaToken}`);
      bo = as(basic('bo', 'bo password'));
    });
    after(async () => {
      await ts?.stop();
    });

    it('refuses the tracking, registry and data APIs without credentials (MLflow error shape on MLflow routes)', async () => {
      const anon = as(undefined);
      for (const [method, path, body] of [
        ['POST', '/api/2.0/mlflow/experiments/create', { name: 'x' }],
        ['GET', '/api/2.0/mlflow/experiments/search?max_results=10', undefined],
        ['POST', '/api/2.0/mlflow/runs/log-batch', { run_id: 'abc', metrics: [] }],
        ['GET', '/api/v1/experiments', undefined],
        ['GET', '/api/v1/models', undefined],
        ['GET', '/api/v1/datasets', undefined],
        ['GET', '/api/2.0/mlflow/registered-models/search', undefined],
      ] as const) {
        const r = await anon(method, path, body);
        assert.equal(r.status, 401, `${method} ${path}: ${r.text}`);
        assert.equal(r.body.error_code, 'UNAUTHENTICATED');
      }
      assert.equal((await anon('GET', '/health')).status, 200);
    });

    it('logs through the MLflow API with a bearer token and with basic auth; the run is the signed-in user’s', async () => {
      const exp = await ana('POST', '/api/2.0/mlflow/experiments/create', { name: `auth-${backend}` });
      assert.equal(exp.status, 200, exp.text);
      // The client claims someone else: the server records who authenticated.
      const run = await as(`Bearer ${anaToken}`, { 'x-kiln-user': 'mallory' })('POST', '/api/2.0/mlflow/runs/create', {
        experiment_id: exp.body.experiment_id,
        user_id: 'mallory',
        tags: [{ key: 'mlflow.user', value: 'mallory' }],
      });
      assert.equal(run.status, 200, run.text);
      assert.equal(run.body.run.info.user_id, 'ana');
      const id = run.body.run.info.run_id;
      assert.equal((await bo('POST', '/api/2.0/mlflow/runs/log-batch', { run_id: id, metrics: [{ key: 'm', value: 1, timestamp: 1, step: 0 }] })).status, 200);
      const got = await bo('GET', `/api/2.0/mlflow/runs/get?run_id=${id}`);
      assert.equal(got.body.run.data.metrics[0].value, 1);
    });

    it('records experiment changes and run deletions in the audit log, attributed to who authenticated', async () => {
      const exp = await ana('POST', '/api/2.0/mlflow/experiments/create', { name: `audited-${backend}` });
      assert.equal(exp.status, 200, exp.text);
      const id = exp.body.experiment_id;
      assert.equal((await bo('POST', '/api/2.0/mlflow/experiments/update', { experiment_id: id, new_name: `audited-2-${backend}` })).status, 200);
      assert.equal((await ana('POST', '/api/2.0/mlflow/experiments/set-experiment-tag', { experiment_id: id, key: 'team', value: 'x' })).status, 200);
      const run = (await ana('POST', '/api/2.0/mlflow/runs/create', { experiment_id: id })).body.run.info.run_id;
      assert.equal((await bo('POST', '/api/2.0/mlflow/runs/delete', { run_id: run })).status, 200);
      assert.equal((await ana('POST', '/api/2.0/mlflow/experiments/delete', { experiment_id: id })).status, 200);
      // A refused change leaves no change entry (the experiment exists already).
      assert.equal((await ana('POST', '/api/2.0/mlflow/experiments/create', { name: `audited-2-${backend}` })).status, 400);
      const admin = as(basic('admin', 'admin password'));
      const log = await admin('GET', '/api/v1/audit?action=tracking.*&order=asc&max_results=1000');
      assert.equal(log.status, 200, log.text);
      const mine = log.body.entries.filter((e: { resource_id: string }) => e.resource_id === id || e.resource_id === run);
      assert.deepEqual(
        mine.map((e: { action: string; actor: string; auth_method: string }) => `${e.action}:${e.actor}:${e.auth_method}`),
        ['tracking.experiment_created:ana:token', 'tracking.experiment_renamed:bo:password', 'tracking.experiment_tag_set:ana:token', 'tracking.run_deleted:bo:password', 'tracking.experiment_deleted:ana:token'],
      );
      assert.deepEqual(mine[1].details, { from: `audited-${backend}`, to: `audited-2-${backend}` });
    });

    it('records model and version tag changes in the audit log with who made them', async () => {
      const reg = (who: ReturnType<typeof as>) => (method: string, path: string, body?: unknown) => who(method, `/api/2.0/mlflow${path}`, body);
      assert.equal((await reg(ana)('POST', '/registered-models/create', { name: `tagged-${backend}` })).status, 200);
      assert.equal((await reg(ana)('POST', '/registered-models/set-tag', { name: `tagged-${backend}`, key: 'team', value: 'x' })).status, 200);
      const del = await reg(bo)('DELETE', '/registered-models/delete-tag', { name: `tagged-${backend}`, key: 'team' });
      assert.equal(del.status, 200, del.text);
      assert.equal((await reg(bo)('DELETE', '/registered-models/delete-tag', { name: `tagged-${backend}`, key: 'team' })).status, 404);
      const log = await as(basic('admin', 'admin password'))('GET', `/api/v1/audit?action=registry.*&resource_id=tagged-${backend}&order=asc`);
      assert.deepEqual(
        log.body.entries.filter((e: { action: string }) => e.action.includes('tag')).map((e: { action: string; actor: string }) => `${e.action}:${e.actor}`),
        ['registry.model_tag_set:ana', 'registry.model_tag_deleted:bo'],
      );
    });

    it('a read-only token reads and cannot write', async () => {
      const ro = (await as(basic('ana', 'ana password'))('POST', '/api/v1/tokens', { name: 'ro', scopes: ['read'] })).body.token as string;
      const reader = as(`Bearer ${ro}`);
      assert.equal((await reader('GET', '/api/2.0/mlflow/experiments/search?max_results=5')).status, 200);
      const w = await reader('POST', '/api/2.0/mlflow/experiments/create', { name: 'nope' });
      assert.equal(w.status, 403, w.text);
      assert.match(w.body.message, /write/);
    });

    it('four-eyes approval compares authenticated identities; a forged X-Kiln-User changes nothing', async () => {
      const v1 = (who: ReturnType<typeof as>) => (method: string, path: string, body?: unknown) => who(method, `/api/v1${path}`, body);
      await v1(ana)('POST', '/models', { name: 'churn' });
      const run = (await v1(ana)('POST', '/runs', { experiment_id: '0' })).body.run;
      await v1(ana)('POST', `/runs/${run.run_id}/log`, { metrics: [{ key: 'auc', value: 0.8, timestamp: Date.now(), step: 0 }] });
      const up = await fetch(`${ts.url}/api/v1/runs/${run.run_id}/artifacts/model/model.onnx`, { method: 'PUT', body: linearModel(), headers: { 'content-type': 'application/octet-stream', authorization: `Bearer ${anaToken}` } });
      assert.equal(up.status, 204);
      const v = await v1(ana)('POST', '/models/churn/versions', { source: `runs:/${run.run_id}/model`, run_id: run.run_id });
      assert.equal(v.status, 201, v.text);
      await ts.server.services.registry.whenSettled();
      await v1(ana)('PUT', '/models/churn/policies/production', { rules: ['metrics.auc >= 0.5'], require_approval: true });
      let r = await v1(ana)('POST', `/models/churn/versions/${v.body.version.version}/promote`, { alias: 'production' });
      assert.equal(r.body.status, 'PENDING_APPROVAL', r.text);
      const id = r.body.request_id;
      // ana claiming to be bo is still ana.
      r = await as(`Bearer ${anaToken}`, { 'x-kiln-user': 'bo' })('POST', `/api/v1/models/churn/promotions/${id}/approve`, {});
      assert.equal(r.status, 403, r.text);
      assert.match(r.body.message, /different user/);
      r = await v1(bo)('POST', `/models/churn/promotions/${id}/approve`, { reason: 'reviewed' });
      assert.equal(r.body.status, 'PROMOTED', r.text);
      const history = (await v1(bo)('GET', '/models/churn/history')).body;
      const approvals = (history.events ?? history.history ?? []).filter((e: { kind: string }) => e.kind === 'promotion_approved');
      assert.equal(approvals[0]?.actor, 'bo', JSON.stringify(history).slice(0, 400));
    });
  });
}
