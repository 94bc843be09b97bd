import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { loadConfig, type KilnConfig } from '../../src/platform/config.js';
import type { Capability } from '../../src/platform/capability.js';
import { KilnError } from '../../src/platform/errors.js';
import type { Authenticator } from '../../src/platform/auth/authenticator.js';
import type { Principal } from '../../src/platform/auth/principal.js';
import { ROLES, describeRule, type ResourceKind, type RouteRule } from '../../src/platform/auth/rules.js';
import type { ProjectAuthorizer, RouteEntry } from '../../src/platform/http/auth.js';
import { MODULES } from '../../src/modules.js';
import { createServer, type KilnServer } from '../../src/server.js';
import { tempDir } from '../support/backends.js';

/**
 * Every route says who may call it, next to its definition (config.permission): the server running every capability
 * (native API, MLflow's API and artifact proxy, the UI's files) has no route without a rule, a capability that adds one
 * stops the server from starting, and each rule's id extractor finds, in the request as it arrives, the resource the
 * handler then acts on.
 */

const KINDS: readonly ResourceKind[] = ['project', 'experiment', 'run', 'logged-model', 'registered-model', 'dataset', 'artifact', 'lineage-node', 'deployment', 'monitor'];

/** What a project rule asked about one request: its role, and the kind and id(s) of the resource, or 'listed'. */
interface Asked {
  readonly route: string;
  readonly role: string;
  readonly on: string;
  readonly id?: unknown;
}

const config = (dir: string): KilnConfig =>
  loadConfig({ host: '127.0.0.1', port: 0, storeUri: 'sqlite://:memory:', artifactsUri: pathToFileURL(join(dir, 'artifacts')).href, logLevel: 'silent', home: dir }, {});

describe('route rules', () => {
  let dir: string;
  let server: KilnServer;
  let routes: RouteEntry[];
  const asked: Asked[] = [];

  // Stands in for governance: every caller is a user who is no admin, and the projects part of each rule records what
  // the rule's extractor read from the request, then refuses it (so no handler runs: no data is needed).
  const USER: Principal = { kind: 'user', id: 'u1', name: 'ada', admin: false, method: 'token', scopes: 'all' };
  const authenticator: Authenticator = { mode: 'on', authenticate: async () => USER };
  const projects: ProjectAuthorizer = {
    accessOf: async () => ({ all: false, projects: new Map(), experiments: new Map(), registeredModels: new Map() }),
    async check(_p, _access, r, req) {
      asked.push({ route: `${req.method} ${req.routeOptions.url}`, role: r.role, on: r.on === 'listed' ? 'listed' : r.on.kind, ...(r.on === 'listed' ? {} : { id: r.on.id(req) }) });
      throw new KilnError('PERMISSION_DENIED', 'refused by the test');
    },
  };
  const probe = {
    name: 'probe',
    dependsOn: [],
    create: async () => ({ service: undefined, authenticator, projects }),
  } as unknown as Capability;

  before(async () => {
    dir = tempDir('kiln-rules-');
    // A web UI of two files, so the UI's routes are listed too.
    const web = join(dir, 'web');
    mkdirSync(join(web, 'assets'), { recursive: true });
    writeFileSync(join(web, 'index.html'), '<!doctype html><title>Kiln</title>');
    writeFileSync(join(web, 'assets', 'app-0123abcd.js'), 'export {};');
    server = await createServer(config(dir), { modules: [...MODULES, probe], webRoot: web });
    await server.app.ready();
    routes = server.app.kilnRoutes();
  });
  after(async () => {
    await server?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const find = (method: string, url: string): RouteRule => {
    const r = routes.find((x) => x.method === method && x.url === url);
    assert.ok(r, `no route ${method} ${url}`);
    assert.ok(r.rule, `${method} ${url} has no rule`);
    return r.rule;
  };

  it('lists every route of every capability, each with its rule', () => {
    const missing = routes.filter((r) => r.rule === undefined).map((r) => `${r.method} ${r.url}`);
    assert.deepEqual(missing, [], `routes without a rule: ${missing.join(', ')}`);
    // Not vacuous: hundreds of routes, from every part of the server.
    assert.ok(routes.length > 100, `only ${routes.length} routes`);
    for (const prefix of ['/api/v1/experiments', '/api/v1/runs', '/api/v1/models', '/api/v1/datasets', '/api/v1/lineage', '/api/v1/webhooks', '/api/2.0/mlflow/', '/ajax-api/2.0/mlflow/', '/api/2.0/mlflow-artifacts/', '/api/3.0/mlflow/', '/assets/']) {
      assert.ok(routes.some((r) => r.url.startsWith(prefix)), `no route under ${prefix}`);
    }
    // Each GET route's HEAD twin has the same rule.
    for (const head of routes.filter((r) => r.method === 'HEAD')) assert.equal(head.rule, find('GET', head.url), `HEAD ${head.url}`);
  });

  it('project rules name a role, a resource kind and a function finding its id (or are lists)', () => {
    const project = routes.flatMap((r) => (r.rule?.access === 'project' ? [{ where: `${r.method} ${r.url}`, rule: r.rule }] : []));
    assert.ok(project.length > 100, `only ${project.length} project rules`);
    for (const { where, rule } of project) {
      assert.ok(ROLES.includes(rule.role), `${where}: role ${rule.role}`);
      if (rule.on === 'listed') {
        assert.equal(rule.role, 'viewer', where);
        continue;
      }
      assert.ok(KINDS.includes(rule.on.kind), `${where}: kind ${rule.on.kind}`);
      assert.equal(typeof rule.on.id, 'function', `${where}: id extractor`);
    }
  });

  it('known routes carry the rules they should', () => {
    const cases: [string, string, string][] = [
      ['GET', '/health', 'anyone'],
      ['GET', '/version', 'anyone'],
      ['GET', '/metrics', 'anyone'],
      ['GET', '/index.html', 'anyone'],
      ['GET', '/assets/app-0123abcd.js', 'anyone'],
      ['POST', '/api/2.0/mlflow/runs/log-batch', 'editor of the run'],
      ['POST', '/ajax-api/2.0/mlflow/runs/log-batch', 'editor of the run'],
      ['POST', '/api/2.0/mlflow/runs/search', 'viewer (lists only what the caller can read)'],
      ['GET', '/api/2.0/mlflow/runs/search', 'viewer (lists only what the caller can read)'],
      ['POST', '/api/2.0/mlflow/registered-models/alias', 'maintainer of the registered model'],
      ['DELETE', '/api/2.0/mlflow/registered-models/alias', 'maintainer of the registered model'],
      ['GET', '/api/2.0/mlflow/registered-models/alias', 'viewer of the registered model'],
      ['POST', '/api/2.0/mlflow/model-versions/transition-stage', 'maintainer of the registered model'],
      ['POST', '/api/2.0/mlflow/experiments/create', 'editor of the project'],
      ['POST', '/api/2.0/mlflow/experiments/delete', 'maintainer of the experiment'],
      ['POST', '/api/2.0/mlflow/runs/create', 'editor of the experiment'],
      ['POST', '/api/2.0/mlflow/logged-models', 'editor of the experiment'],
      ['GET', '/api/2.0/mlflow/logged-models/:model_id', 'viewer of the logged model'],
      ['PUT', '/api/2.0/mlflow-artifacts/artifacts/*', 'editor of the artifact'],
      ['GET', '/api/2.0/mlflow-artifacts/artifacts/*', 'viewer of the artifact'],
      ['POST', '/api/2.0/mlflow/webhooks', 'server admin'],
      ['POST', '/api/v1/experiments', 'editor of the project'],
      ['DELETE', '/api/v1/experiments/:experiment_id', 'maintainer of the experiment'],
      ['PATCH', '/api/v1/experiments/:experiment_id', 'editor of the experiment'],
      ['POST', '/api/v1/runs', 'editor of the experiment'],
      ['DELETE', '/api/v1/runs/:run_id', 'editor of the run'],
      ['PUT', '/api/v1/runs/:run_id/artifacts/*', 'editor of the run'],
      ['GET', '/api/v1/runs/:run_id/artifacts/*', 'viewer of the run'],
      ['PUT', '/api/v1/models/:name/aliases/:alias', 'maintainer of the registered model'],
      ['POST', '/api/v1/models/:name/versions', 'editor of the registered model'],
      ['GET', '/api/v1/models/:name/versions/:version/reproduce', 'viewer of the registered model'],
      ['DELETE', '/api/v1/datasets/:name', 'maintainer of the dataset'],
      ['POST', '/api/v1/datasets/:name/versions', 'editor of the dataset'],
      ['GET', '/api/v1/datasets', 'viewer (lists only what the caller can read)'],
      ['POST', '/api/v1/webhooks', 'server admin'],
      ['GET', '/api/v1/webhooks/:id', 'server admin'],
      ['GET', '/api/v1/lineage', 'viewer of the lineage node'],
    ];
    for (const [method, url, expected] of cases) assert.equal(describeRule(find(method, url)), expected, `${method} ${url}`);
  });

  /** Sends a request to the running server and returns what its rule asked (undefined: the projects part was not consulted). */
  const send = async (method: string, url: string, opts: { body?: unknown; raw?: Buffer; headers?: Record<string, string> } = {}): Promise<{ status: number; asked?: Asked }> => {
    asked.length = 0;
    const res = await server.app.inject({
      method: method as 'GET',
      url,
      headers: { ...(opts.raw ? { 'content-type': 'application/octet-stream' } : opts.body !== undefined ? { 'content-type': 'application/json' } : {}), ...opts.headers },
      ...(opts.raw ? { payload: opts.raw } : opts.body !== undefined ? { payload: JSON.stringify(opts.body) } : {}),
    });
    assert.ok(asked.length <= 1, `${method} ${url} checked ${asked.length} times`);
    return { status: res.statusCode, asked: asked[0] };
  };

  it('the rules read the resource from real requests, where the handler reads it', async () => {
    // [method, url, request, expected role, kind (or 'listed'), id(s)]
    const cases: [string, string, { body?: unknown; raw?: Buffer; headers?: Record<string, string> }, string, string, unknown][] = [
      // Native API: path parameters, query strings (coerced by the schema), bodies.
      ['GET', '/api/v1/experiments/12', {}, 'viewer', 'experiment', '12'],
      ['DELETE', '/api/v1/experiments/12', {}, 'maintainer', 'experiment', '12'],
      ['GET', '/api/v1/experiments/stats?experiment_id=1&experiment_id=2', {}, 'viewer', 'experiment', ['1', '2']],
      ['POST', '/api/v1/experiments', { body: { name: 'e' } }, 'editor', 'project', undefined],
      ['POST', '/api/v1/runs', { body: { experiment_id: '5' } }, 'editor', 'experiment', '5'],
      ['POST', '/api/v1/runs/abc123/log', { body: { metrics: [] } }, 'editor', 'run', 'abc123'],
      ['PUT', '/api/v1/runs/abc123/artifacts/model/weights.bin', { raw: Buffer.from('x') }, 'editor', 'run', 'abc123'],
      ['POST', '/api/v1/runs/search', { body: { experiment_ids: ['1'] } }, 'viewer', 'listed', undefined],
      ['GET', '/api/v1/model-versions/resolve?uri=models:/weather@champion', {}, 'viewer', 'registered-model', 'weather'],
      ['GET', '/api/v1/model-versions/resolve?uri=models:/team/weather/3', {}, 'viewer', 'registered-model', 'team/weather'],
      ['PUT', '/api/v1/models/weather/aliases/champion', { body: { version: 3 } }, 'maintainer', 'registered-model', 'weather'],
      ['GET', '/api/v1/models/weather/versions/3/files/model/model.onnx', {}, 'viewer', 'registered-model', 'weather'],
      ['GET', '/api/v1/datasets/diff?a=weather@v1&b=rain@v2', {}, 'viewer', 'dataset', ['weather', 'rain']],
      ['POST', '/api/v1/datasets/weather/versions', { body: { files: [{ path: 'a.csv', sha256: 'a'.repeat(64), bytes: 1 }] } }, 'editor', 'dataset', 'weather'],
      ['GET', '/api/v1/lineage?node=models:/weather/3', {}, 'viewer', 'lineage-node', 'models:/weather/3'],
      // MLflow: fields from the query string of GET and DELETE requests, from the body otherwise.
      ['POST', '/api/2.0/mlflow/runs/log-batch', { body: { run_id: 'r1', metrics: [] } }, 'editor', 'run', 'r1'],
      ['GET', '/api/2.0/mlflow/runs/get?run_uuid=r2', {}, 'viewer', 'run', 'r2'],
      ['GET', '/api/2.0/mlflow/runs/get?run_id=r3&run_uuid=r2', {}, 'viewer', 'run', 'r3'],
      ['POST', '/api/2.0/mlflow/runs/update', { body: { run_uuid: 'r4', status: 'FINISHED' } }, 'editor', 'run', 'r4'],
      ['POST', '/api/2.0/mlflow/runs/create', { body: {} }, 'editor', 'experiment', '0'],
      ['POST', '/ajax-api/2.0/mlflow/runs/create', { body: { experiment_id: 4 } }, 'editor', 'experiment', 4],
      ['GET', '/ajax-api/2.0/mlflow/metrics/get-history-bulk-interval?run_ids=a&run_ids=b&metric_key=loss', {}, 'viewer', 'run', ['a', 'b']],
      ['GET', '/api/2.0/mlflow/experiments/get?experiment_id=9', {}, 'viewer', 'experiment', '9'],
      ['POST', '/api/2.0/mlflow/experiments/create', { body: { name: 'e', tags: [{ key: 'kiln.project', value: 'vision' }] } }, 'editor', 'project', 'vision'],
      ['POST', '/api/2.0/mlflow/registered-models/create', { body: { name: 'm' }, headers: { 'x-kiln-project': 'nlp' } }, 'editor', 'project', 'nlp'],
      ['POST', '/api/2.0/mlflow/registered-models/create', { body: { name: 'm' } }, 'editor', 'project', undefined],
      // MLflow's Python client sends DELETE requests with a JSON body; others use the query string.
      ['DELETE', '/api/2.0/mlflow/registered-models/alias', { body: { name: 'weather', alias: 'champion' } }, 'maintainer', 'registered-model', 'weather'],
      ['DELETE', '/api/2.0/mlflow/registered-models/delete?name=weather', {}, 'maintainer', 'registered-model', 'weather'],
      ['POST', '/api/2.0/mlflow/model-versions/transition-stage', { body: { name: 'weather', version: '3', stage: 'Production' } }, 'maintainer', 'registered-model', 'weather'],
      ['GET', '/api/2.0/mlflow/model-versions/get?name=weather&version=3', {}, 'viewer', 'registered-model', 'weather'],
      ['PATCH', '/api/2.0/mlflow/logged-models/m-0123', { body: { status: 'READY' } }, 'editor', 'logged-model', 'm-0123'],
      ['POST', '/api/2.0/mlflow/logged-models', { body: { experiment_id: '3' } }, 'editor', 'experiment', '3'],
      ['POST', '/api/2.0/mlflow/runs/outputs', { body: { run_id: 'r5', models: [] } }, 'editor', 'run', 'r5'],
      // The artifact proxy: the path as the request gives it.
      ['PUT', '/api/2.0/mlflow-artifacts/artifacts/1/abc/artifacts/model.pkl', { raw: Buffer.from('x') }, 'editor', 'artifact', '1/abc/artifacts/model.pkl'],
      ['GET', '/ajax-api/2.0/mlflow-artifacts/artifacts?path=1/abc', {}, 'viewer', 'artifact', '1/abc'],
      ['GET', '/api/2.0/mlflow-artifacts/artifacts', {}, 'viewer', 'artifact', ''],
    ];
    for (const [method, url, req, role, on, id] of cases) {
      const r = await send(method, url, req);
      const where = `${method} ${url}`;
      assert.equal(r.status, 403, `${where}: ${r.status}`);
      assert.ok(r.asked, `${where}: the projects part was not asked`);
      assert.equal(r.asked.role, role, where);
      assert.equal(r.asked.on, on, where);
      assert.deepEqual(r.asked.id, id, where);
    }
  });

  it('admin rules refuse a user who is no admin before any project is asked; public routes and the UI ask nothing', async () => {
    const hook = await send('POST', '/api/v1/webhooks', { body: { name: 'h', url: 'https://example.com/h', events: ['*'] } });
    assert.equal(hook.status, 403);
    assert.equal(hook.asked, undefined);
    const mlflowHook = await send('POST', '/api/2.0/mlflow/webhooks', { body: { name: 'h', url: 'https://example.com/h', events: [] } });
    assert.equal(mlflowHook.status, 403);
    assert.equal(mlflowHook.asked, undefined);
    const health = await send('GET', '/health');
    assert.equal(health.status, 200);
    assert.equal(health.asked, undefined);
    // The UI's own routes (no route of their own) answer with its index.html.
    asked.length = 0;
    const page = await server.app.inject({ method: 'GET', url: '/runs/abc', headers: { accept: 'text/html' } });
    assert.equal(page.statusCode, 200, page.body);
    assert.match(page.body, /<title>Kiln<\/title>/);
    assert.deepEqual(asked, []);
  });

  it('the extractors read fields as Fastify hands them over (GET and DELETE: the query string; others: the body)', () => {
    const fake = (method: string, parts: { params?: object; query?: object; body?: unknown; headers?: object }) => ({ method, params: {}, query: {}, body: undefined, headers: {}, ...parts }) as unknown as FastifyRequest;
    const idOf = (method: string, url: string, req: FastifyRequest) => {
      const r = find(method, url);
      assert.ok(r.access === 'project' && r.on !== 'listed', `${method} ${url}`);
      return r.on.id(req);
    };
    assert.equal(idOf('GET', '/api/2.0/mlflow/runs/get', fake('GET', { query: { run_id: 'q1' }, body: { run_id: 'b1' } })), 'q1');
    assert.equal(idOf('POST', '/api/2.0/mlflow/runs/set-tag', fake('POST', { query: { run_id: 'q1' }, body: { run_id: 'b1' } })), 'b1');
    assert.equal(idOf('POST', '/api/2.0/mlflow/runs/set-tag', fake('POST', { body: { run_id: '', run_uuid: 'u1' } })), 'u1');
    assert.equal(idOf('POST', '/api/2.0/mlflow/runs/delete', fake('POST', { body: { run_uuid: 'u1' } })), undefined);
    assert.deepEqual(idOf('GET', '/api/2.0/mlflow/metrics/get-history-bulk', fake('GET', { query: { run_id: ['a', 'b'] } })), ['a', 'b']);
    assert.equal(idOf('GET', '/api/2.0/mlflow/experiments/get', fake('GET', { query: { experiment_id: '7' } })), '7');
    assert.equal(idOf('POST', '/api/2.0/mlflow/experiments/set-experiment-tag', fake('POST', { body: { experiment_id: '7', key: 'k', value: 'v' } })), '7');
    assert.equal(idOf('DELETE', '/api/2.0/mlflow/registered-models/delete-tag', fake('DELETE', { query: { name: 'q' }, body: { name: 'b', key: 'k' } })), 'b');
    assert.equal(idOf('DELETE', '/api/2.0/mlflow/registered-models/delete-tag', fake('DELETE', { query: { name: 'q', key: 'k' }, body: {} })), 'q');
    assert.equal(idOf('PATCH', '/api/2.0/mlflow/model-versions/update', fake('PATCH', { body: { name: 'm', version: '1' } })), 'm');
    assert.equal(idOf('DELETE', '/api/v1/models/:name/versions/:version', fake('DELETE', { params: { name: 'weather', version: '3' } })), 'weather');
    assert.equal(idOf('POST', '/api/v1/datasets/:name/versions/:version/validations', fake('POST', { params: { name: 'weather', version: 'v2' } })), 'weather');
    assert.equal(idOf('GET', '/api/v1/model-versions/resolve', fake('GET', { query: { uri: 'nonsense' } })), undefined);
    assert.equal(idOf('POST', '/api/2.0/mlflow/experiments/create', fake('POST', { body: { name: 'e', tags: [{ key: 'kiln.project', value: 'a' }] }, headers: { 'x-kiln-project': 'b' } })), 'a');
    assert.deepEqual(idOf('POST', '/api/2.0/mlflow/experiments/create', fake('POST', { body: { name: 'e', tags: [{ key: 'kiln.project', value: 'a' }, { key: 'kiln.project', value: 'c' }] } })), ['a', 'c']);
  });
});

describe('a route without a rule', () => {
  it('stops the server from starting, naming the route', async () => {
    const dir = tempDir('kiln-rules-');
    // A capability whose routes forgot their rules: one GET (Fastify adds its HEAD), one route for two methods.
    const careless = {
      name: 'careless',
      dependsOn: ['tracking'],
      create: async () => ({
        service: undefined,
        routes: async (app: FastifyInstance) => {
          app.get('/careless/:id', async () => ({}));
          app.route({ method: ['POST', 'PUT'], url: '/careless', handler: async () => ({}) });
          app.get('/careful', { config: { permission: { access: 'authenticated' } } }, async () => ({}));
        },
      }),
    } as unknown as Capability;
    const server = await createServer(config(dir), { modules: [...MODULES, careless] });
    try {
      const err = await server.listen().then(
        () => assert.fail('the server started'),
        (e: Error) => e,
      );
      assert.match(err.message, /every route must declare who may call it \(config\.permission\); these do not: /);
      const named = err.message.split('these do not: ')[1]!.split(', ').sort();
      assert.deepEqual(named, ['GET /api/v1/careless/:id', 'HEAD /api/v1/careless/:id', 'POST /api/v1/careless', 'PUT /api/v1/careless']);
      assert.equal(server.app.server.listening, false);
    } finally {
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
