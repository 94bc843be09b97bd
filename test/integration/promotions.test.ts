import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { STORE_BACKENDS } from '../support/backends.js';
import { call, startTestServer, type TestServer } from '../support/server.js';
import { linearModel } from '../../src/registry/packaging/test-models.js';

/** Promotion gates: policies per alias, rules on run metrics and the champion, approvals, history, races. */
for (const backend of STORE_BACKENDS) {
  describe(`promotion gates on ${backend}`, () => {
    let ts: TestServer;
    const v1 = (method: string, path: string, body?: unknown, user = 'ana') => call(ts.url, method, `/api/v1${path}`, body, { 'x-kiln-user': user });
    /** A finished run with these metrics and a model.onnx, registered as a new version of `name`. */
    const candidate = async (name: string, metrics: Record<string, number>): Promise<number> => {
      const run = (await v1('POST', '/runs', { experiment_id: '0' })).body.run;
      await v1('POST', `/runs/${run.run_id}/log`, { metrics: Object.entries(metrics).map(([key, value]) => ({ key, value, timestamp: Date.now(), step: 0 })) });
      const up = await fetch(`${ts.url}/api/v1/runs/${run.run_id}/artifacts/model/model.onnx`, { method: 'PUT', body: linearModel(), headers: { 'content-type': 'application/octet-stream' } });
      assert.equal(up.status, 204);
      const r = await v1('POST', `/models/${name}/versions`, { source: `runs:/${run.run_id}/model`, run_id: run.run_id });
      assert.equal(r.status, 201, r.text);
      await ts.server.services.registry.whenSettled();
      return r.body.version.version;
    };

    before(async () => {
      ts = await startTestServer({ store: backend });
    });
    after(async () => {
      await ts?.stop();
    });

    it('moves the alias only when every rule passes, and records each attempt', async () => {
      await v1('POST', '/models', { name: 'weather' });
      const a = await candidate('weather', { val_accuracy: 0.9 });
      const b = await candidate('weather', { val_accuracy: 0.88 });
      const c = await candidate('weather', { val_accuracy: 0.897 });
      const low = await candidate('weather', { val_accuracy: 0.7 });
      let r = await v1('PUT', '/models/weather/policies/production', { rules: ['metrics.val_accuracy >= 0.85', 'metrics.val_accuracy >= champion - 0.005'] });
      assert.equal(r.status, 200, r.text);

      r = await v1('POST', `/models/weather/versions/${a}/promote`, { alias: 'production' });
      assert.equal(r.body.status, 'PROMOTED', JSON.stringify(r.body));
      assert.equal(r.body.champion_version, null);
      assert.ok(r.body.gates.every((g: any) => g.passed));

      r = await v1('POST', `/models/weather/versions/${b}/promote`, { alias: 'production', reason: 'try b' });
      assert.equal(r.body.status, 'REJECTED');
      const failing = r.body.gates.filter((g: any) => !g.passed);
      assert.deepEqual(failing.map((g: any) => g.gate), ['metrics.val_accuracy >= champion - 0.005']);
      assert.equal(failing[0].message, 'failed: 0.88 >= 0.895');
      assert.equal((await v1('GET', '/models/weather/aliases/production')).body.version.version, a);

      r = await v1('POST', `/models/weather/versions/${low}/promote`, { alias: 'production', dry_run: true });
      assert.equal(r.body.status, 'REJECTED');
      assert.equal(r.body.dry_run, true);
      assert.equal(r.body.request_id, null);

      r = await v1('POST', `/models/weather/versions/${c}/promote`, { alias: 'production' });
      assert.equal(r.body.status, 'PROMOTED');
      assert.equal(r.body.champion_version, a);

      // the guarded alias cannot be moved around the policy
      r = await call(ts.url, 'POST', '/api/2.0/mlflow/registered-models/alias', { name: 'weather', alias: 'production', version: String(low) });
      assert.equal(r.status, 403);
      assert.equal(r.body.error_code, 'PERMISSION_DENIED');
      assert.match(r.body.message, /guarded by a promotion policy/);
      assert.equal((await v1('PUT', '/models/weather/aliases/production', { version: low })).status, 403);

      const history = (await v1('GET', '/models/weather/history')).body.events.filter((e: any) => e.alias === 'production');
      assert.deepEqual(
        history.map((e: any) => `${e.kind}:${e.version ?? '-'}`),
        ['policy_set:-', `alias_set:${a}`, `promotion_rejected:${b}`, `alias_set:${c}`],
      );
      const rejected = history.find((e: any) => e.kind === 'promotion_rejected');
      assert.equal(rejected.actor, 'ana');
      assert.match(rejected.reason, /1 of 3 gates failed/);
      const requests = (await v1('GET', '/models/weather/promotions')).body.requests;
      assert.deepEqual(requests.map((q: any) => q.status), ['PROMOTED', 'REJECTED', 'PROMOTED']);
    });

    it('requires approval by a different user and re-checks the gates', async () => {
      await v1('POST', '/models', { name: 'churn' });
      const a = await candidate('churn', { auc: 0.8 });
      const b = await candidate('churn', { auc: 0.82 });
      await v1('PUT', '/models/churn/policies/production', { rules: ['metrics.auc >= champion'], require_approval: true });
      let r = await v1('POST', `/models/churn/versions/${a}/promote`, { alias: 'production' }, 'ana');
      assert.equal(r.body.status, 'PENDING_APPROVAL');
      const id = r.body.request_id;
      assert.equal((await v1('GET', '/models/churn/aliases/production')).status, 404);
      r = await v1('POST', `/models/churn/promotions/${id}/approve`, {}, 'ana');
      assert.equal(r.status, 403);
      assert.match(r.body.message, /different user/);
      r = await v1('POST', `/models/churn/promotions/${id}/approve`, { reason: 'looks good' }, 'bo');
      assert.equal(r.body.status, 'PROMOTED', JSON.stringify(r.body));
      assert.equal((await v1('GET', '/models/churn/aliases/production')).body.version.version, a);
      assert.equal((await v1('POST', `/models/churn/promotions/${id}/approve`, {}, 'bo')).status, 409);

      r = await v1('POST', `/models/churn/versions/${b}/promote`, { alias: 'production' }, 'ana');
      const id2 = r.body.request_id;
      assert.equal((await v1('POST', `/models/churn/promotions/${id2}/reject`, {}, 'bo')).status, 400);
      r = await v1('POST', `/models/churn/promotions/${id2}/reject`, { reason: 'wait for the holiday data' }, 'bo');
      assert.equal(r.body.status, 'REJECTED');
      assert.equal(r.body.decided_by, 'bo');
      const kinds = (await v1('GET', '/models/churn/history')).body.events.filter((e: any) => e.kind.startsWith('promotion_')).map((e: any) => `${e.kind}:${e.actor}`);
      assert.deepEqual(kinds, ['promotion_requested:ana', 'promotion_approved:bo', 'promotion_requested:ana', 'promotion_rejected:bo']);
    });

    it('lets exactly one of two racing promotions win, and records both', async () => {
      await v1('POST', '/models', { name: 'race' });
      const a = await candidate('race', { f1: 0.9 });
      const b = await candidate('race', { f1: 0.9 });
      await v1('PUT', '/models/race/policies/production', { rules: ['metrics.f1 >= 0.5'] });
      const outcomes = (await Promise.all([a, b].map((v) => v1('POST', `/models/race/versions/${v}/promote`, { alias: 'production' })))).map((r) => r.body);
      const fromScratch = outcomes.filter((o) => o.champion_version === null);
      // Promotions that raced from the same state: exactly one moved the alias.
      assert.equal(fromScratch.filter((o) => o.status === 'PROMOTED').length, 1, JSON.stringify(outcomes));
      for (const o of fromScratch.filter((x) => x.status !== 'PROMOTED')) assert.match(o.message, /moved to version/);
      const holder = (await v1('GET', '/models/race/aliases/production')).body.version.version;
      const winner = outcomes.filter((o) => o.status === 'PROMOTED').at(-1);
      assert.equal(holder, winner.version);
      const attempts = (await v1('GET', '/models/race/history')).body.events.filter((e: any) => e.kind === 'alias_set' || e.kind === 'promotion_rejected');
      assert.equal(attempts.length, 2);
    });

    it('refuses malformed policies and unknown promotions', async () => {
      await v1('POST', '/models', { name: 'strict' });
      const v = await candidate('strict', { acc: 1 });
      let r = await v1('PUT', '/models/strict/policies/production', { rules: ['metrics.acc >='] });
      assert.equal(r.status, 400);
      assert.match(r.body.message, /position 15/);
      r = await v1('PUT', '/models/strict/policies/latest', { rules: [] });
      assert.equal(r.status, 400);
      r = await v1('PUT', '/models/strict/policies/production', { rules: 'metrics.acc > 1' });
      assert.equal(r.status, 400);
      r = await v1('PUT', '/models/strict/policies/production', { rulez: [] });
      assert.equal(r.status, 400);
      assert.equal((await v1('GET', '/models/strict/policies/production')).status, 404);
      assert.equal((await v1('POST', `/models/strict/versions/${v}/promote`, { alias: 'bad alias' })).status, 400);
      assert.equal((await v1('POST', `/models/strict/versions/99/promote`, { alias: 'production' })).status, 404);
      assert.equal((await v1('POST', '/models/strict/promotions/12345/approve', {}, 'bo')).status, 404);
      assert.equal((await v1('POST', '/models/nope/versions/1/promote', { alias: 'production' })).status, 404);
      // a policy on a missing metric fails the gate with the reason, not the request
      await v1('PUT', '/models/strict/policies/staging', { rules: ['metrics.recall > 0.5'], require_data_validation: true });
      r = await v1('POST', `/models/strict/versions/${v}/promote`, { alias: 'staging' });
      assert.equal(r.status, 200);
      assert.equal(r.body.status, 'REJECTED');
      assert.deepEqual(
        r.body.gates.filter((g: any) => !g.passed).map((g: any) => g.message),
        ["failed: the candidate has no metric 'recall'", r.body.gates.at(-1).message],
      );
    });
  });
}
