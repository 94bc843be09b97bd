import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { STORE_BACKENDS } from '../support/backends.js';
import { call, startTestServer, type TestServer, basicAuth } from '../support/server.js';

const basic = basicAuth;

/**
 * Projects and roles with --auth on: what each role may do in a project, filtered searches with exact pages, 404 for
 * what the caller may not read and 403 for what it may read but not change, how MLflow clients pick a project, and
 * MLflow's resource permissions on top of the project's roles.
 */
for (const backend of STORE_BACKENDS) {
  describe(`projects and roles (${backend})`, () => {
    let ts: TestServer;
    const admin = basic('root', 'root password 1');
    const users = { vic: basic('vic', 'vic password 1'), eda: basic('eda', 'eda password 1'), max: basic('max', 'max password 1'), out: basic('out', 'out password 1') };
    const as = (auth: Record<string, string>) => (method: string, path: string, body?: unknown, headers: Record<string, string> = {}) => call(ts.url, method, path, body, { ...auth, ...headers });
    const root = as(admin);
    const ids: Record<string, string> = {};

    before(async () => {
      ts = await startTestServer({ store: backend, auth: 'on', capabilities: { governance: { env: { KILN_ADMIN_USER: 'root', KILN_ADMIN_PASSWORD: 'root password 1' } } } });
      for (const name of Object.keys(users)) assert.equal((await root('POST', '/api/v1/users', { name, password: `${name} password 1` })).status, 201);
      // The default project is members-only here, so what it holds is hidden from the users too.
      assert.equal((await root('PATCH', '/api/v1/projects/default', { everyone_role: null })).status, 200);
      for (const p of ['vision', 'nlp']) assert.equal((await root('POST', '/api/v1/projects', { name: p, description: `${p} team` })).status, 201);
      for (const [user, role] of [['vic', 'viewer'], ['eda', 'editor'], ['max', 'maintainer']] as const) {
        const r = await root('PUT', `/api/v1/projects/vision/members/user/${user}`, { role });
        assert.equal(r.status, 200, r.text);
      }
      for (const [p, n] of [['vision', 3], ['nlp', 2], ['default', 1]] as const) {
        for (let i = 0; i < n; i++) {
          const e = await root('POST', '/api/v1/experiments', { name: `${p}-exp-${i}-${backend}`, project: p });
          assert.equal(e.status, 201, e.text);
          ids[`${p}-${i}`] = e.body.experiment.experiment_id;
          for (let k = 0; k < 2; k++) assert.equal((await root('POST', '/api/v1/runs', { experiment_id: ids[`${p}-${i}`], run_name: `${p}-${i}-${k}` })).status, 201);
        }
        assert.equal((await root('POST', '/api/v1/models', { name: `${p}-model-${backend}`, project: p })).status, 201);
      }
    });
    after(async () => {
      await ts?.stop();
    });

    it('lists only the projects one may read, with one’s role', async () => {
      const mine = await as(users.eda)('GET', '/api/v1/projects');
      assert.deepEqual(mine.body.projects.map((p: { name: string; role: string }) => `${p.name}:${p.role}`), ['vision:editor']);
      assert.deepEqual((await as(users.out)('GET', '/api/v1/projects')).body.projects, []);
      assert.equal((await as(users.out)('GET', '/api/v1/projects/vision')).status, 404);
      const members = await as(users.vic)('GET', '/api/v1/projects/vision/members');
      assert.deepEqual(members.body.members.map((m: { name: string; role: string }) => `${m.name}:${m.role}`).sort(), ['eda:editor', 'max:maintainer', 'root:owner', 'vic:viewer']);
      // Only owners manage members.
      assert.equal((await as(users.max)('PUT', '/api/v1/projects/vision/members/user/out', { role: 'viewer' })).status, 403);
    });

    it('filters searches inside the query: exact pages and counts, nothing from other projects', async () => {
      const all = [...Object.values(ids)];
      const search = (who: Record<string, string>, body: Record<string, unknown>) => as(who)('POST', '/api/v1/runs/search', { experiment_ids: all, ...body });
      const page1 = await search(users.vic, { max_results: 4 });
      assert.equal(page1.status, 200, page1.text);
      assert.equal(page1.body.runs.length, 4);
      assert.ok(page1.body.next_page_token, 'a second page');
      const page2 = await search(users.vic, { max_results: 4, page_token: page1.body.next_page_token });
      assert.equal(page2.body.runs.length, 2);
      assert.equal(page2.body.next_page_token, undefined);
      const names = [...page1.body.runs, ...page2.body.runs].map((r: { run_name: string }) => r.run_name).sort();
      assert.deepEqual(names, ['vision-0-0', 'vision-0-1', 'vision-1-0', 'vision-1-1', 'vision-2-0', 'vision-2-1']);
      const count = await as(users.vic)('POST', '/api/v1/runs/count', { experiment_ids: all });
      assert.equal(count.status, 200, count.text);
      assert.equal(count.body.count, 6);
      assert.equal((await search(users.out, {})).body.runs.length, 0);
      // Experiments and models, native and MLflow.
      const exps = await as(users.vic)('GET', '/api/2.0/mlflow/experiments/search?max_results=100');
      assert.deepEqual(exps.body.experiments.map((e: { name: string }) => e.name).sort(), [0, 1, 2].map((i) => `vision-exp-${i}-${backend}`));
      const models = await as(users.vic)('GET', '/api/v1/models');
      assert.deepEqual(models.body.models.map((m: { name: string }) => m.name), [`vision-model-${backend}`]);
      const mlflowModels = await as(users.out)('GET', '/api/2.0/mlflow/registered-models/search');
      assert.deepEqual(mlflowModels.body.registered_models ?? [], []);
      // Admins see everything.
      assert.equal((await root('POST', '/api/v1/runs/search', { experiment_ids: all, max_results: 100 })).body.runs.length, 12);
      // A lookup by name of something unreadable is the same 404 as of something that does not exist.
      const byName = await as(users.vic)('GET', `/api/2.0/mlflow/experiments/get-by-name?experiment_name=nlp-exp-0-${backend}`);
      const missing = await as(users.vic)('GET', '/api/2.0/mlflow/experiments/get-by-name?experiment_name=no-such');
      assert.equal(byName.status, 404);
      assert.equal(missing.status, 404);
      assert.equal(byName.body.error_code, missing.body.error_code);
    });

    it('answers 404 for what one may not read and 403 for what one may read but not change, per role', async () => {
      const visionExp = ids['vision-0']!;
      const nlpExp = ids['nlp-0']!;
      // role × action on the vision project: [viewer, editor, maintainer, outsider]
      const matrix: [string, string, (exp: string) => unknown, number[]][] = [
        ['GET', '/api/2.0/mlflow/experiments/get', (e) => ({ q: `experiment_id=${e}` }), [200, 200, 200, 404]],
        ['POST', '/api/2.0/mlflow/experiments/set-experiment-tag', (e) => ({ experiment_id: e, key: 'k', value: 'v' }), [403, 200, 200, 404]],
        ['POST', '/api/2.0/mlflow/runs/create', (e) => ({ experiment_id: e }), [403, 200, 200, 404]],
        ['POST', '/api/2.0/mlflow/registered-models/set-tag', () => ({ name: `vision-model-${backend}`, key: 'k', value: 'v' }), [403, 200, 200, 404]],
        ['POST', '/api/2.0/mlflow/registered-models/alias', () => ({ name: `vision-model-${backend}`, alias: 'x', version: '1' }), [403, 403, 404, 404]],
      ];
      const who = [users.vic, users.eda, users.max, users.out];
      for (const [method, path, arg, expected] of matrix) {
        for (let i = 0; i < who.length; i++) {
          const a = arg(visionExp) as { q?: string };
          const r = a.q !== undefined ? await as(who[i]!)(method, `${path}?${a.q}`) : await as(who[i]!)(method, path, a);
          // The maintainer passes the rule; the alias then fails on the missing version (404 from the handler).
          assert.equal(r.status, expected[i], `${['viewer', 'editor', 'maintainer', 'outsider'][i]} ${method} ${path}: ${r.text}`);
        }
      }
      // Not readable and not there: the same answer, word for word (the id of a missing experiment is as long).
      const hidden = await as(users.vic)('GET', `/api/v1/experiments/${nlpExp}`);
      const absent = await as(users.vic)('GET', `/api/v1/experiments/${'9'.repeat(String(nlpExp).length)}`);
      assert.equal(hidden.status, 404);
      assert.deepEqual({ ...absent.body, message: absent.body.message.replace('9'.repeat(String(nlpExp).length), String(nlpExp)) }, hidden.body);
      // The lineage graph of a node one may not read is not found either; of one's own, it leaves the others out.
      const nlpRun = (await root('POST', '/api/v1/runs/search', { experiment_ids: [nlpExp], max_results: 1 })).body.runs[0].run_id as string;
      assert.equal((await as(users.vic)('GET', `/api/v1/lineage?node=runs:/${nlpRun}`)).status, 404);
      const visionRun = (await root('POST', '/api/v1/runs/search', { experiment_ids: [visionExp], max_results: 1 })).body.runs[0].run_id as string;
      assert.equal((await root('POST', `/api/v1/runs/${visionRun}/tags`, { key: 'mlflow.parentRunId', value: nlpRun })).status, 204);
      const graph = await as(users.vic)('GET', `/api/v1/lineage?node=runs:/${visionRun}&direction=both`);
      assert.equal(graph.status, 200, graph.text);
      assert.deepEqual(graph.body.nodes.map((n: { id: string }) => n.id), [`runs:/${visionRun}`]);
      assert.ok((await root('GET', `/api/v1/lineage?node=runs:/${visionRun}&direction=both`)).body.nodes.some((n: { id: string }) => n.id === `runs:/${nlpRun}`), 'an admin sees the parent');
      // Nobody but root reaches the nlp project.
      for (const u of who) assert.equal((await as(u)('GET', `/api/2.0/mlflow/experiments/get?experiment_id=${nlpExp}`)).status, 404);
      // Deleting an experiment needs a maintainer.
      assert.equal((await as(users.eda)('POST', '/api/2.0/mlflow/experiments/delete', { experiment_id: ids['vision-2'] })).status, 403);
      assert.equal((await as(users.max)('POST', '/api/2.0/mlflow/experiments/delete', { experiment_id: ids['vision-2'] })).status, 200);
    });

    it('MLflow clients pick a project by the kiln.project tag or the X-Kiln-Project header; unknown and unwritable projects are refused', async () => {
      const eda = as(users.eda);
      const byTag = await eda('POST', '/api/2.0/mlflow/experiments/create', { name: `tagged-${backend}`, tags: [{ key: 'kiln.project', value: 'vision' }] });
      assert.equal(byTag.status, 200, byTag.text);
      assert.equal((await as(users.vic)('GET', `/api/2.0/mlflow/experiments/get?experiment_id=${byTag.body.experiment_id}`)).status, 200);
      const byHeader = await eda('POST', '/api/2.0/mlflow/registered-models/create', { name: `headed-${backend}` }, { 'x-kiln-project': 'vision' });
      assert.equal(byHeader.status, 200, byHeader.text);
      assert.equal((await as(users.vic)('GET', `/api/v1/models/headed-${backend}`)).status, 200);
      // A viewer may not create; a project one can't read is not there; without a project: the default one (members only here).
      assert.equal((await as(users.vic)('POST', '/api/2.0/mlflow/experiments/create', { name: 'x', tags: [{ key: 'kiln.project', value: 'vision' }] })).status, 403);
      assert.equal((await eda('POST', '/api/2.0/mlflow/experiments/create', { name: 'y' }, { 'x-kiln-project': 'nlp' })).status, 404);
      assert.equal((await eda('POST', '/api/2.0/mlflow/experiments/create', { name: 'z' })).status, 404);
      assert.equal((await eda('POST', '/api/2.0/mlflow/experiments/create', { name: 'w' }, { 'x-kiln-project': 'no-such-project' })).status, 404);
    });

    it("MLflow's permissions add to the project's roles, and NO_PERMISSIONS takes away", async () => {
      const nlpExp = ids['nlp-1']!;
      const out = as(users.out);
      assert.equal((await out('GET', `/api/2.0/mlflow/experiments/get?experiment_id=${nlpExp}`)).status, 404);
      assert.equal((await root('POST', '/api/2.0/mlflow/experiments/permissions/create', { experiment_id: nlpExp, username: 'out', permission: 'READ' })).status, 200);
      assert.equal((await out('GET', `/api/2.0/mlflow/experiments/get?experiment_id=${nlpExp}`)).status, 200);
      assert.equal((await out('POST', '/api/2.0/mlflow/runs/create', { experiment_id: nlpExp })).status, 403);
      const runs = await out('POST', '/api/v1/runs/search', { experiment_ids: Object.values(ids), max_results: 100 });
      assert.deepEqual(runs.body.runs.map((r: { run_name: string }) => r.run_name).sort(), ['nlp-1-0', 'nlp-1-1']);
      // A denial on one vision experiment hides it from its project's viewer.
      const visionExp = ids['vision-1']!;
      assert.equal((await root('POST', '/api/2.0/mlflow/experiments/permissions/create', { experiment_id: visionExp, username: 'vic', permission: 'NO_PERMISSIONS' })).status, 200);
      assert.equal((await as(users.vic)('GET', `/api/2.0/mlflow/experiments/get?experiment_id=${visionExp}`)).status, 404);
      const vicRuns = await as(users.vic)('POST', '/api/v1/runs/search', { experiment_ids: Object.values(ids), max_results: 100 });
      assert.ok(!vicRuns.body.runs.some((r: { experiment_id: string }) => r.experiment_id === visionExp));
    });

    it('a member removed loses access at once on this replica; a project that holds something is not deleted', async () => {
      assert.equal((await as(users.eda)('GET', `/api/v1/experiments/${ids['vision-0']}`)).status, 200);
      assert.equal((await root('DELETE', '/api/v1/projects/vision/members/user/eda')).status, 204);
      assert.equal((await as(users.eda)('GET', `/api/v1/experiments/${ids['vision-0']}`)).status, 404);
      const del = await root('DELETE', '/api/v1/projects/nlp');
      assert.equal(del.status, 409, del.text);
      assert.equal((await root('POST', '/api/v1/projects', { name: 'empty' })).status, 201);
      assert.equal((await root('DELETE', '/api/v1/projects/empty')).status, 204);
      assert.equal((await root('DELETE', '/api/v1/projects/default')).status, 409);
      const log = await root('GET', '/api/v1/audit?action=governance.*&max_results=100');
      assert.ok(log.body.entries.some((e: { action: string; resource_id: string }) => e.action === 'governance.member_removed' && e.resource_id === 'vision'));
    });
  });
}
