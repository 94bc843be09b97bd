import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { FastifyRequest } from 'fastify';
import { describeRule, scopeOf } from '../../src/platform/auth/rules.js';
import { STORE_BACKENDS } from '../support/backends.js';
import { call, startTestServer, type TestServer, basicAuth } from '../support/server.js';

const basic = basicAuth;
const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

/**
 * MLflow's auth REST API, driven with the requests its `AuthServiceClient` (mlflow/server/auth/client.py) sends:
 * GET with the fields in the query string (`params=`), POST, PATCH and DELETE with a JSON body (`json=`), against a
 * server with --auth on, as an admin and as others.
 */
for (const backend of STORE_BACKENDS) {
  describe(`MLflow's auth API (${backend})`, () => {
    let ts: TestServer;
    const root = basic('root', 'root password 1');
    /** A request as AuthServiceClient sends it: GET fields as `params`, the others as `json`. */
    const client = (method: 'GET' | 'POST' | 'PATCH' | 'DELETE', endpoint: string, fields: Record<string, unknown>, auth: Record<string, string> = root, prefix = '/api/2.0/mlflow') =>
      method === 'GET'
        ? call(ts.url, 'GET', `${prefix}${endpoint}?${new URLSearchParams(fields as Record<string, string>)}`, undefined, auth)
        : call(ts.url, method, `${prefix}${endpoint}`, fields, auth);
    const audit = async (action: string, resourceId?: string) =>
      (await call(ts.url, 'GET', `/api/v1/audit?action=${action}${resourceId !== undefined ? `&resource_id=${encodeURIComponent(resourceId)}` : ''}&max_results=100`, undefined, root)).body.entries as {
        action: string;
        actor: string;
        resource_type: string;
        resource_id: string;
        details: Record<string, unknown>;
      }[];
    const experiment = async (name: string) => {
      const r = await call(ts.url, 'POST', '/api/2.0/mlflow/experiments/create', { name }, root);
      assert.equal(r.status, 200, r.text);
      return r.body.experiment_id as string;
    };
    const model = async (name: string) => {
      const r = await call(ts.url, 'POST', '/api/2.0/mlflow/registered-models/create', { name }, root);
      assert.equal(r.status, 200, r.text);
    };
    /** Waits until the governance consumer has handled what the registry published. */
    const followed = () => ts.server.events.whenConsumed('governance.grants', 20_000);
    const expectError = (r: { status: number; body: { error_code?: string }; text: string }, status: number, code: string) => {
      assert.equal(r.status, status, r.text);
      assert.equal(r.body?.error_code, code, r.text);
    };

    before(async () => {
      ts = await startTestServer({ store: backend, auth: 'on', capabilities: { governance: { env: { KILN_ADMIN_USER: 'root', KILN_ADMIN_PASSWORD: 'root password 1' } } } });
    });
    after(async () => {
      await ts?.stop();
    });

    it('users: create, get, update the password and the admin flag, delete, as an admin', async () => {
      const created = await client('POST', '/users/create', { username: 'ana', password: 'ana password 1' });
      assert.equal(created.status, 200, created.text);
      const user = created.body.user;
      assert.equal(typeof user.id, 'number');
      assert.deepEqual(user, { id: user.id, username: 'ana', is_admin: false, experiment_permissions: [], registered_model_permissions: [], scorer_permissions: [] });
      expectError(await client('POST', '/users/create', { username: 'ana', password: 'ana password 1' }), 400, 'RESOURCE_ALREADY_EXISTS');
      expectError(await client('POST', '/users/create', { username: 'bob' }), 400, 'INVALID_PARAMETER_VALUE');

      const got = await client('GET', '/users/get', { username: 'ana' });
      assert.equal(got.status, 200, got.text);
      assert.deepEqual(got.body, { user });
      expectError(await client('GET', '/users/get', { username: 'nobody' }), 404, 'RESOURCE_DOES_NOT_EXIST');

      const pw = await client('PATCH', '/users/update-password', { username: 'ana', password: 'ana password 2' });
      assert.equal(pw.status, 200, pw.text);
      assert.deepEqual(pw.body, {});
      assert.equal((await call(ts.url, 'GET', '/api/v1/auth/whoami', undefined, basic('ana', 'ana password 1'))).status, 401);
      assert.equal((await call(ts.url, 'GET', '/api/v1/auth/whoami', undefined, basic('ana', 'ana password 2'))).status, 200);
      expectError(await client('PATCH', '/users/update-password', { username: 'nobody', password: 'some password 1' }), 404, 'RESOURCE_DOES_NOT_EXIST');

      const promoted = await client('PATCH', '/users/update-admin', { username: 'ana', is_admin: true });
      assert.equal(promoted.status, 200, promoted.text);
      assert.deepEqual(promoted.body, {});
      assert.equal((await client('GET', '/users/get', { username: 'ana' })).body.user.is_admin, true);
      // Older servers read the flag as a string: "true"/"false" in any case are taken too.
      assert.equal((await client('PATCH', '/users/update-admin', { username: 'ana', is_admin: 'False' })).status, 200);
      assert.equal((await client('GET', '/users/get', { username: 'ana' })).body.user.is_admin, false);
      expectError(await client('PATCH', '/users/update-admin', { username: 'ana', is_admin: 'maybe' }), 400, 'INVALID_PARAMETER_VALUE');
      expectError(await client('PATCH', '/users/update-admin', { username: 'nobody', is_admin: true }), 404, 'RESOURCE_DOES_NOT_EXIST');

      assert.equal((await client('POST', '/users/create', { username: 'gone', password: 'gone password 1' })).status, 200);
      const deleted = await client('DELETE', '/users/delete', { username: 'gone' });
      assert.equal(deleted.status, 200, deleted.text);
      assert.deepEqual(deleted.body, {});
      expectError(await client('GET', '/users/get', { username: 'gone' }), 404, 'RESOURCE_DOES_NOT_EXIST');
      expectError(await client('DELETE', '/users/delete', { username: 'gone' }), 404, 'RESOURCE_DOES_NOT_EXIST');
      // A DELETE with the fields in its query string is read there.
      assert.equal((await client('POST', '/users/create', { username: 'gone2', password: 'gone password 1' })).status, 200);
      assert.equal((await call(ts.url, 'DELETE', '/api/2.0/mlflow/users/delete?username=gone2', undefined, root)).status, 200);
      // The UI's prefix answers the same.
      assert.equal((await client('GET', '/users/get', { username: 'ana' }, root, '/ajax-api/2.0/mlflow')).body.user.username, 'ana');

      for (const [action, id] of [['auth.user_created', 'ana'], ['auth.password_changed', 'ana'], ['auth.admin_granted', 'ana'], ['auth.admin_revoked', 'ana'], ['auth.user_deleted', 'gone']]) {
        const entries = await audit(action!, id);
        assert.ok(entries.length >= 1, `no ${action} entry for ${id}`);
        assert.equal(entries[0]!.actor, 'root');
      }
    });

    it('users: who may call what (MLflow: admins; a user reads themselves and changes their own password)', async () => {
      assert.equal((await client('POST', '/users/create', { username: 'carl', password: 'carl password 1' })).status, 200);
      assert.equal((await client('POST', '/users/create', { username: 'dora', password: 'dora password 1' })).status, 200);
      const carl = basic('carl', 'carl password 1');
      expectError(await client('POST', '/users/create', { username: 'eve', password: 'eve password 1' }, carl), 403, 'PERMISSION_DENIED');
      expectError(await client('POST', '/users/create', { username: 'eve', password: 'eve password 1' }, {}), 401, 'UNAUTHENTICATED');
      expectError(await client('GET', '/users/get', { username: 'dora' }, carl), 403, 'PERMISSION_DENIED');
      expectError(await client('PATCH', '/users/update-admin', { username: 'carl', is_admin: true }, carl), 403, 'PERMISSION_DENIED');
      expectError(await client('DELETE', '/users/delete', { username: 'dora' }, carl), 403, 'PERMISSION_DENIED');
      expectError(await client('PATCH', '/users/update-password', { username: 'dora', password: 'taken over 1' }, carl), 403, 'PERMISSION_DENIED');
      assert.equal((await client('GET', '/users/get', { username: 'carl' }, carl)).body.user.username, 'carl');

      // Their own password, with the current one on the request (basic auth): yes; with a token: no.
      const own = await client('PATCH', '/users/update-password', { username: 'carl', password: 'carl password 2' }, carl);
      assert.equal(own.status, 200, own.text);
      const carl2 = basic('carl', 'carl password 2');
      assert.equal((await call(ts.url, 'GET', '/api/v1/auth/whoami', undefined, carl2)).status, 200);
      const token = (await call(ts.url, 'POST', '/api/v1/tokens', { name: 't' }, carl2)).body.token as string;
      expectError(await client('PATCH', '/users/update-password', { username: 'carl', password: 'carl password 3' }, bearer(token)), 403, 'PERMISSION_DENIED');
      const changed = await audit('auth.password_changed', 'carl');
      assert.equal(changed.length, 1);
      assert.equal(changed[0]!.actor, 'carl');
      // Refusals are on record too.
      assert.ok((await audit('http.request_denied')).length >= 1);
    });

    it('experiment permissions: create, get, update, delete, listed on the user, audited', async () => {
      const exp = await experiment('perm-exp');
      const ana = (await client('GET', '/users/get', { username: 'ana' })).body.user;
      const created = await client('POST', '/experiments/permissions/create', { experiment_id: exp, username: 'ana', permission: 'READ' });
      assert.equal(created.status, 200, created.text);
      assert.deepEqual(created.body, { experiment_permission: { experiment_id: exp, user_id: ana.id, permission: 'READ' } });
      expectError(await client('POST', '/experiments/permissions/create', { experiment_id: exp, username: 'ana', permission: 'EDIT' }), 400, 'RESOURCE_ALREADY_EXISTS');
      expectError(await client('POST', '/experiments/permissions/create', { experiment_id: exp, username: 'dora', permission: 'WRITE' }), 400, 'INVALID_PARAMETER_VALUE');
      expectError(await client('POST', '/experiments/permissions/create', { experiment_id: exp, username: 'nobody', permission: 'READ' }), 404, 'RESOURCE_DOES_NOT_EXIST');
      expectError(await client('POST', '/experiments/permissions/create', { experiment_id: '987654', username: 'dora', permission: 'READ' }), 404, 'RESOURCE_DOES_NOT_EXIST');
      expectError(await client('POST', '/experiments/permissions/create', { experiment_id: exp, username: 'dora' }), 400, 'INVALID_PARAMETER_VALUE');

      const got = await client('GET', '/experiments/permissions/get', { experiment_id: exp, username: 'ana' });
      assert.equal(got.status, 200, got.text);
      assert.deepEqual(got.body, { experiment_permission: { experiment_id: exp, user_id: ana.id, permission: 'READ' } });
      expectError(await client('GET', '/experiments/permissions/get', { experiment_id: exp, username: 'dora' }), 404, 'RESOURCE_DOES_NOT_EXIST');
      expectError(await client('GET', '/experiments/permissions/get', { experiment_id: exp, username: 'nobody' }), 404, 'RESOURCE_DOES_NOT_EXIST');

      const updated = await client('PATCH', '/experiments/permissions/update', { experiment_id: exp, username: 'ana', permission: 'EDIT' });
      assert.equal(updated.status, 200, updated.text);
      assert.deepEqual(updated.body, {});
      assert.equal((await client('GET', '/experiments/permissions/get', { experiment_id: exp, username: 'ana' })).body.experiment_permission.permission, 'EDIT');
      expectError(await client('PATCH', '/experiments/permissions/update', { experiment_id: exp, username: 'ana', permission: 'ALL' }), 400, 'INVALID_PARAMETER_VALUE');
      expectError(await client('PATCH', '/experiments/permissions/update', { experiment_id: exp, username: 'dora', permission: 'READ' }), 404, 'RESOURCE_DOES_NOT_EXIST');
      assert.deepEqual((await client('GET', '/users/get', { username: 'ana' })).body.user.experiment_permissions, [{ experiment_id: exp, user_id: ana.id, permission: 'EDIT' }]);
      // Governance's own view of them, as an access cache reads it.
      assert.deepEqual(
        (await ts.server.services.governance.grantsOf(ana.id)).map((g) => [g.kind, g.resourceId, g.permission]),
        [['experiment', exp, 'EDIT']],
      );

      const deleted = await client('DELETE', '/experiments/permissions/delete', { experiment_id: exp, username: 'ana' });
      assert.equal(deleted.status, 200, deleted.text);
      assert.deepEqual(deleted.body, {});
      expectError(await client('GET', '/experiments/permissions/get', { experiment_id: exp, username: 'ana' }), 404, 'RESOURCE_DOES_NOT_EXIST');
      expectError(await client('DELETE', '/experiments/permissions/delete', { experiment_id: exp, username: 'ana' }), 404, 'RESOURCE_DOES_NOT_EXIST');

      const set = await audit('auth.grant_set', exp);
      assert.deepEqual(
        set.map((e) => [e.resource_type, e.actor, e.details.user, e.details.permission, e.details.previous]).reverse(),
        [
          ['experiment', 'root', 'ana', 'READ', null],
          ['experiment', 'root', 'ana', 'EDIT', 'READ'],
        ],
      );
      const dropped = await audit('auth.grant_deleted', exp);
      assert.deepEqual(dropped.map((e) => [e.resource_type, e.details.user, e.details.permission]), [['experiment', 'ana', 'EDIT']]);
    });

    it('registered-model permissions: create, get, update, delete; they follow a rename and do not outlive their model', async () => {
      await model('perm-model');
      const dora = (await client('GET', '/users/get', { username: 'dora' })).body.user;
      const created = await client('POST', '/registered-models/permissions/create', { name: 'perm-model', username: 'dora', permission: 'MANAGE' });
      assert.equal(created.status, 200, created.text);
      assert.deepEqual(created.body, { registered_model_permission: { name: 'perm-model', user_id: dora.id, permission: 'MANAGE' } });
      expectError(await client('POST', '/registered-models/permissions/create', { name: 'perm-model', username: 'dora', permission: 'READ' }), 400, 'RESOURCE_ALREADY_EXISTS');
      expectError(await client('POST', '/registered-models/permissions/create', { name: 'perm-model', username: 'carl', permission: 'read' }), 400, 'INVALID_PARAMETER_VALUE');
      expectError(await client('POST', '/registered-models/permissions/create', { name: 'no-such-model', username: 'carl', permission: 'READ' }), 404, 'RESOURCE_DOES_NOT_EXIST');
      expectError(await client('POST', '/registered-models/permissions/create', { name: 'perm-model', username: 'nobody', permission: 'READ' }), 404, 'RESOURCE_DOES_NOT_EXIST');
      assert.deepEqual((await client('GET', '/registered-models/permissions/get', { name: 'perm-model', username: 'dora' })).body, created.body);
      assert.equal((await client('PATCH', '/registered-models/permissions/update', { name: 'perm-model', username: 'dora', permission: 'NO_PERMISSIONS' })).status, 200);
      assert.deepEqual((await client('GET', '/users/get', { username: 'dora' })).body.user.registered_model_permissions, [{ name: 'perm-model', user_id: dora.id, permission: 'NO_PERMISSIONS' }]);
      assert.equal((await client('PATCH', '/registered-models/permissions/update', { name: 'perm-model', username: 'dora', permission: 'MANAGE' })).status, 200);

      // A rename carries the grants to the new name.
      assert.equal((await call(ts.url, 'POST', '/api/2.0/mlflow/registered-models/rename', { name: 'perm-model', new_name: 'perm-model-2' }, root)).status, 200);
      await followed();
      assert.equal((await client('GET', '/registered-models/permissions/get', { name: 'perm-model-2', username: 'dora' })).body.registered_model_permission.permission, 'MANAGE');
      expectError(await client('GET', '/registered-models/permissions/get', { name: 'perm-model', username: 'dora' }), 404, 'RESOURCE_DOES_NOT_EXIST');
      const moved = await audit('auth.grant_moved', 'perm-model-2');
      assert.deepEqual(moved.map((e) => [e.resource_type, e.details.from, e.details.to, e.details.user_pk]), [['registered-model', 'perm-model', 'perm-model-2', dora.id]]);

      // A deleted model's grants give nothing, and a new model of that name does not inherit them.
      assert.equal((await call(ts.url, 'DELETE', '/api/2.0/mlflow/registered-models/delete', { name: 'perm-model-2' }, root)).status, 200);
      assert.equal((await client('GET', '/registered-models/permissions/get', { name: 'perm-model-2', username: 'dora' })).status, 200, 'readable (and removable) after the model is gone');
      await model('perm-model-2');
      await followed();
      expectError(await client('GET', '/registered-models/permissions/get', { name: 'perm-model-2', username: 'dora' }), 404, 'RESOURCE_DOES_NOT_EXIST');
      const dropped = await audit('auth.grant_deleted', 'perm-model-2');
      assert.equal(dropped.length, 1);
      assert.equal(dropped[0]!.actor, 'system');

      // Grants given afterwards stay, and are removed as asked.
      assert.equal((await client('POST', '/registered-models/permissions/create', { name: 'perm-model-2', username: 'dora', permission: 'READ' })).status, 200);
      const deleted = await client('DELETE', '/registered-models/permissions/delete', { name: 'perm-model-2', username: 'dora' });
      assert.equal(deleted.status, 200, deleted.text);
      assert.deepEqual(deleted.body, {});
      expectError(await client('DELETE', '/registered-models/permissions/delete', { name: 'perm-model-2', username: 'dora' }), 404, 'RESOURCE_DOES_NOT_EXIST');
      assert.ok((await audit('auth.grant_set', 'perm-model-2')).length >= 1);
    });

    it("permissions are managed by admins and the resource's managers; service accounts get grants too; changes are told to listeners", async () => {
      const exp = await experiment('managed-exp');
      const carl = basic('carl', 'carl password 2');
      expectError(await client('POST', '/experiments/permissions/create', { experiment_id: exp, username: 'dora', permission: 'READ' }, carl), 403, 'PERMISSION_DENIED');
      expectError(await client('GET', '/experiments/permissions/get', { experiment_id: exp, username: 'carl' }, carl), 403, 'PERMISSION_DENIED');
      const heard: number[] = [];
      const stop = ts.server.services.governance.onChange((u) => heard.push(u));
      try {
        assert.equal((await client('POST', '/experiments/permissions/create', { experiment_id: exp, username: 'carl', permission: 'MANAGE' })).status, 200);
        const carlId = (await client('GET', '/users/get', { username: 'carl' })).body.user.id as number;
        assert.deepEqual(heard, [carlId]);
        // With MANAGE on it, carl manages its permissions.
        const byCarl = await client('POST', '/experiments/permissions/create', { experiment_id: exp, username: 'dora', permission: 'READ' }, carl);
        assert.equal(byCarl.status, 200, byCarl.text);
        assert.equal((await audit('auth.grant_set', exp))[0]!.actor, 'carl');
        // A service account (tokens only) is granted like a user.
        assert.equal((await call(ts.url, 'POST', '/api/v1/users', { name: 'ci-bot', kind: 'service' }, root)).status, 201);
        const bot = await client('POST', '/experiments/permissions/create', { experiment_id: exp, username: 'ci-bot', permission: 'EDIT' });
        assert.equal(bot.status, 200, bot.text);
        assert.equal((await client('GET', '/users/get', { username: 'ci-bot' })).body.user.experiment_permissions[0].permission, 'EDIT');
        // Deleting a user takes their grants with them.
        assert.equal((await client('DELETE', '/users/delete', { username: 'ci-bot' })).status, 200);
        assert.equal((await client('POST', '/users/create', { username: 'ci-bot', password: 'bot password 1' })).status, 200);
        expectError(await client('GET', '/experiments/permissions/get', { experiment_id: exp, username: 'ci-bot' }), 404, 'RESOURCE_DOES_NOT_EXIST');
      } finally {
        stop();
      }
    });
  });
}

describe("MLflow's auth API: the route rules name the resource, read where the handler reads it", () => {
  let ts: TestServer;
  before(async () => {
    ts = await startTestServer({ store: 'sqlite', auth: 'on', capabilities: { governance: { env: {} } } });
  });
  after(async () => {
    await ts?.stop();
  });

  it('maintainer of the experiment or registered model (reading: the read scope); users: admins, or any identity checked by the handler', () => {
    const routes = ts.server.app.kilnRoutes();
    const ruleOf = (method: string, url: string) => {
      const r = routes.find((x) => x.method === method && x.url === url)?.rule;
      assert.ok(r, `${method} ${url}`);
      return r;
    };
    const fake = (method: string, parts: { query?: object; body?: unknown }) => ({ method, params: {}, query: {}, body: undefined, headers: {}, ...parts }) as unknown as FastifyRequest;
    for (const prefix of ['/api/2.0/mlflow', '/ajax-api/2.0/mlflow']) {
      for (const [path, kind, field] of [['/experiments/permissions', 'experiment', 'experiment_id'], ['/registered-models/permissions', 'registered-model', 'name']] as const) {
        for (const [method, verb] of [['POST', 'create'], ['GET', 'get'], ['PATCH', 'update'], ['DELETE', 'delete']] as const) {
          const r = ruleOf(method, `${prefix}${path}/${verb}`);
          assert.equal(describeRule(r), `maintainer of the ${kind.replace('-', ' ')}`, `${method} ${path}/${verb}`);
          assert.equal(scopeOf(r), method === 'GET' ? 'read' : 'write');
          assert.ok(r.access === 'project' && r.on !== 'listed');
          const where = method === 'GET' ? { query: { [field]: 'x1', username: 'u' } } : { body: { [field]: 'x1', username: 'u' } };
          assert.equal(r.on.id(fake(method, where)), 'x1', `${method} ${path}/${verb}`);
        }
        // MLflow's client sends a DELETE's fields as JSON; others may use the query string.
        const del = ruleOf('DELETE', `${prefix}${path}/delete`);
        assert.ok(del.access === 'project' && del.on !== 'listed');
        assert.equal(del.on.id(fake('DELETE', { query: { [field]: 'q1' } })), 'q1');
        assert.equal(del.on.id(fake('DELETE', { query: { [field]: 'q1' }, body: { [field]: 'b1' } })), 'b1');
      }
      assert.equal(describeRule(ruleOf('POST', `${prefix}/users/create`)), 'server admin');
      assert.equal(describeRule(ruleOf('PATCH', `${prefix}/users/update-admin`)), 'server admin');
      assert.equal(describeRule(ruleOf('DELETE', `${prefix}/users/delete`)), 'server admin');
      assert.equal(describeRule(ruleOf('GET', `${prefix}/users/get`)), 'any signed-in identity');
      assert.equal(describeRule(ruleOf('PATCH', `${prefix}/users/update-password`)), 'any signed-in identity');
    }
  });
});
