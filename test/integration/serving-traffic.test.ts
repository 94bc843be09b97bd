import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { STORE_BACKENDS } from '../support/backends.js';
import { basicAuth, call, startTestServer, type TestServer } from '../support/server.js';
import { registerOnnx } from '../support/models.js';
import { oipGrpcClient } from '../support/grpc.js';
import { bigModel, linearModel } from '../../src/registry/packaging/test-models.js';
import { gatherModel } from '../../src/serving/runtime/test-models.js';

/**
 * Traffic management and access: the canary guard takes a candidate that fails out of traffic by itself (a
 * revision by the server, published); sticky routing; sampling of the payload log; a deployment that fails leaves
 * the others serving; with --auth on, inference needs the infer scope and a role in the deployment's project.
 */
const lookup = (idx: number[]) => ({ inputs: [{ name: 'idx', shape: [idx.length], datatype: 'INT64', data: idx }] });
const row = { inputs: [{ name: 'x', shape: [1, 4], datatype: 'FP32', data: [1, 2, 3, 4] }] };

for (const backend of STORE_BACKENDS) {
  describe(`serving traffic on ${backend}`, () => {
    let ts: TestServer;
    const api = (method: string, path: string, body?: unknown) => call(ts.url, method, `/api/v1${path}`, body);

    before(async () => {
      ts = await startTestServer({ store: backend, capabilities: { serving: { guardIntervalMs: 50, followIntervalMs: 100, payloadFlushMs: 20 } } });
      // lookup v1 answers every index below 4; the candidate v2 has a 2-row table: index 3 makes it throw.
      await registerOnnx(ts.url, 'lookup', gatherModel(4));
      await registerOnnx(ts.url, 'lookup', gatherModel(2));
      await registerOnnx(ts.url, 'rain', linearModel({ inputs: 4 }));
      await registerOnnx(ts.url, 'rain', linearModel({ inputs: 4, scale: 2 }));
    });
    after(async () => {
      await ts?.stop();
    });

    it('the canary guard takes a failing candidate out of traffic by itself, and the others keep serving', async () => {
      const c = await api('POST', '/deployments', {
        name: 'lookup',
        targets: [
          { model: 'models:/lookup/1', weight: 50 },
          { model: 'models:/lookup/2', weight: 50 },
        ],
        guard: { max_error_rate: 0.2, window_seconds: 60, min_requests: 5 },
      });
      assert.equal(c.status, 200, c.text);
      assert.equal((await api('POST', '/deployments', { name: 'rain', model: 'models:/rain/1' })).status, 200);
      let failures = 0;
      for (let i = 0; i < 60; i++) {
        const r = await call(ts.url, 'POST', '/v2/models/lookup/infer', lookup([3]));
        if (r.status !== 200) {
          failures++;
          assert.equal(r.status, 400);
          assert.match(r.body.error, /failed at inference/);
        }
        // Another deployment is not touched by this one's failures.
        assert.equal((await call(ts.url, 'POST', '/v2/models/rain/infer', row)).status, 200);
      }
      assert.ok(failures > 0, 'the candidate never failed');
      let d: any;
      for (let i = 0; i < 100; i++) {
        d = (await api('GET', '/deployments/lookup')).body.deployment;
        if (d.revision > 1) break;
        await new Promise((r) => setTimeout(r, 20));
      }
      assert.equal(d.revision, 2);
      assert.deepEqual(d.config.targets.map((t: any) => t.weight), [50, 0]);
      const rev = (await api('GET', '/deployments/lookup/revisions')).body.revisions[0];
      assert.equal(rev.kind, 'guard_tripped');
      assert.equal(rev.actor, 'kiln');
      assert.match(rev.reason, /canary guard: lookup version 2 .*error rate .*> 20\.0%/);
      await ts.server.services.serving.plane.settled();
      for (let i = 0; i < 20; i++) assert.equal((await call(ts.url, 'POST', '/v2/models/lookup/infer', lookup([3]))).status, 200);
      // Published as an event (in the same transaction as the revision) and counted.
      const metrics = await (await fetch(`${ts.url}/metrics`)).text();
      assert.match(metrics, /kiln_serving_guard_trips_total\{deployment="lookup"\} 1/);
      assert.match(metrics, /kiln_serving_request_duration_seconds_bucket\{le="0\.001",deployment="rain",version="1"\} \d+/);
      assert.match(metrics, /kiln_serving_batch_size_count\{deployment="rain",version="1"\} \d+/);
      assert.match(metrics, /kiln_serving_requests_total\{deployment="lookup",version="2",code="400"\} \d+/);
      const audit = await api('GET', '/audit?resource_type=deployment&resource_id=lookup');
      assert.equal(audit.status, 200, audit.text);
      assert.ok(audit.body.entries.some((e: any) => e.action === 'serving.deployment_changed' && JSON.stringify(e.details).includes('guard_tripped')), audit.text.slice(0, 500));
    });

    it('sticky routing sends one header value to one target, and spreads many values over both', async () => {
      assert.equal(
        (await api('POST', '/deployments', { name: 'sticky', targets: [{ model: 'models:/rain/1' }, { model: 'models:/rain/2' }], sticky_header: 'X-User' })).status,
        200,
      );
      const versionsFor = async (user: string) => {
        const seen = new Set<string>();
        for (let i = 0; i < 8; i++) seen.add((await call(ts.url, 'POST', '/v2/models/sticky/infer', row, { 'x-user': user })).body.model_version);
        return seen;
      };
      const all = new Set<string>();
      for (let u = 0; u < 12; u++) {
        const seen = await versionsFor(`user-${u}`);
        assert.equal(seen.size, 1, `user-${u} saw ${[...seen].join(', ')}`);
        all.add([...seen][0]!);
      }
      assert.deepEqual([...all].sort(), ['1', '2']);
    });

    it('writes only the sampled share of requests to the payload log', async () => {
      assert.equal((await api('POST', '/deployments', { name: 'quiet', model: 'models:/rain/1', payload_log: { sample_rate: 0 } })).status, 200);
      for (let i = 0; i < 10; i++) assert.equal((await call(ts.url, 'POST', '/v2/models/quiet/infer', { ...row, id: `q${i}` })).status, 200);
      await ts.server.services.serving.payloadLog.flush();
      assert.deepEqual((await api('GET', '/deployments/quiet/payloads')).body.payloads, []);
      assert.equal((await api('PATCH', '/deployments/quiet', { payload_log: { sample_rate: 1 } })).status, 200);
      await ts.server.services.serving.plane.settled();
      for (let i = 0; i < 3; i++) assert.equal((await call(ts.url, 'POST', '/v2/models/quiet/infer', { ...row, id: `l${i}` })).status, 200);
      await ts.server.services.serving.payloadLog.flush();
      assert.deepEqual((await api('GET', '/deployments/quiet/payloads')).body.payloads.map((p: any) => p.request_id), ['l2', 'l1', 'l0']);
    });
  });
}

describe('serving: a version still loading, and payload retention', () => {
  let ts: TestServer;
  before(async () => {
    ts = await startTestServer({ store: 'sqlite', capabilities: { serving: { loadWaitMs: 0, payloadFlushMs: 20 } } });
    await registerOnnx(ts.url, 'big', bigModel(40));
    await registerOnnx(ts.url, 'small', linearModel({ inputs: 4 }));
  });
  after(async () => {
    await ts?.stop();
  });

  it('answers 503 with Retry-After while the version loads, then serves', async () => {
    assert.equal((await call(ts.url, 'POST', '/api/v1/deployments', { name: 'big', model: 'models:/big/1' })).status, 200);
    const body = { inputs: [{ name: 'x', shape: [1, 2], datatype: 'FP32', data: [1, 2] }] };
    const first = await call(ts.url, 'POST', '/v2/models/big/infer', body);
    assert.equal(first.status, 503, first.text);
    assert.ok(Number(first.headers.get('retry-after')) >= 1);
    assert.match(first.body.error, /loading/);
    assert.equal((await call(ts.url, 'GET', '/v2/models/big/ready')).status, 503);
    let r = first;
    for (let i = 0; i < 400 && r.status !== 200; i++) {
      await new Promise((res) => setTimeout(res, 25));
      r = await call(ts.url, 'POST', '/v2/models/big/infer', body);
    }
    assert.equal(r.status, 200, r.text);
    assert.deepEqual(r.body.outputs[0].data, [1, 2]);
    assert.deepEqual((await call(ts.url, 'GET', '/v2/models/big/ready')).body, { name: 'big', ready: true });
  });

  it('enforces retention: records beyond the newest N of a deployment go', async () => {
    assert.equal((await call(ts.url, 'POST', '/api/v1/deployments', { name: 'small', model: 'models:/small/1' })).status, 200);
    for (let j = 0; j < 400 && (await call(ts.url, 'GET', '/v2/models/small/ready')).status !== 200; j++) await new Promise((res) => setTimeout(res, 25));
    for (let i = 0; i < 5; i++) assert.equal((await call(ts.url, 'POST', '/v2/models/small/infer', { ...row, id: `k${i}` })).status, 200);
    const serving = ts.server.services.serving;
    await serving.payloadLog.flush();
    // Every deployment keeps its newest 2 (big logged its 503s while loading, then its answer).
    assert.ok((await serving.payloads.prune(0, 2)) >= 3);
    assert.deepEqual((await call(ts.url, 'GET', '/api/v1/deployments/small/payloads')).body.payloads.map((p: any) => p.request_id), ['k4', 'k3']);
    assert.equal((await call(ts.url, 'GET', '/api/v1/deployments/big/payloads')).body.payloads.length, 2);
    assert.equal(await serving.payloads.prune(1, 0), 0);
  });
});

describe('serving with --auth on', () => {
  let ts: TestServer;
  const root = basicAuth('root', 'root password 1');
  let tokens = 0;
  const token = async (user: string, password: string, scopes: string[]) => {
    const r = await call(ts.url, 'POST', '/api/v1/tokens', { name: `t${++tokens}-${scopes.join('-')}`, scopes }, basicAuth(user, password));
    assert.equal(r.status, 201, r.text);
    return { authorization: `Bearer ${r.body.token}` };
  };

  before(async () => {
    ts = await startTestServer({ store: 'sqlite', auth: 'on', capabilities: { serving: { grpcPort: 0 }, governance: { env: { KILN_ADMIN_USER: 'root', KILN_ADMIN_PASSWORD: 'root password 1' } } } });
    assert.equal((await call(ts.url, 'POST', '/api/v1/users', { name: 'ann', password: 'ann password 1' }, root)).status, 201);
    assert.equal((await call(ts.url, 'POST', '/api/v1/projects', { name: 'secret' }, root)).status, 201);
    assert.equal((await call(ts.url, 'POST', '/api/v1/models', { name: 'hidden', project: 'secret' }, root)).status, 201);
    await registerOnnx(ts.url, 'hidden', linearModel({ inputs: 4 }), { headers: root });
    await registerOnnx(ts.url, 'open', linearModel({ inputs: 4 }), { headers: root });
    assert.equal((await call(ts.url, 'POST', '/api/v1/deployments', { name: 'hidden', model: 'models:/hidden/1' }, root)).status, 200);
    assert.equal((await call(ts.url, 'POST', '/api/v1/deployments', { name: 'open', model: 'models:/open/1' }, root)).status, 200);
  });
  after(async () => {
    await ts?.stop();
  });

  it('inference needs the infer scope and a role in the deployment project; the answers reveal nothing else', async () => {
    const infer = await token('ann', 'ann password 1', ['infer']);
    const read = await token('ann', 'ann password 1', ['read']);
    assert.equal((await call(ts.url, 'POST', '/v2/models/open/infer', row)).status, 401);
    assert.equal((await call(ts.url, 'POST', '/v2/models/open/infer', row, infer)).status, 200);
    const noScope = await call(ts.url, 'POST', '/v2/models/open/infer', row, read);
    assert.equal(noScope.status, 403);
    assert.match(noScope.body.error, /'infer' scope/);
    // A deployment of a project ann is not in: the same 404 as one that does not exist.
    const hidden = await call(ts.url, 'POST', '/v2/models/hidden/infer', row, infer);
    assert.equal(hidden.status, 404);
    assert.equal(hidden.body.error, "Deployment 'hidden' does not exist.");
    assert.equal((await call(ts.url, 'GET', '/api/v1/deployments/hidden', undefined, read)).status, 404);
    assert.deepEqual((await call(ts.url, 'GET', '/api/v1/deployments', undefined, read)).body.deployments.map((d: any) => d.name), ['open']);
    // An infer token is no control-plane credential.
    assert.equal((await call(ts.url, 'GET', '/api/v1/deployments/open', undefined, infer)).status, 403);
    // Health stays open for load balancers.
    assert.equal((await call(ts.url, 'GET', '/v2/health/ready')).status, 200);
    // Deploying a model of a project the caller can't read: it does not exist for them.
    const deploy = await call(ts.url, 'POST', '/api/v1/deployments', { name: 'mine', model: 'models:/hidden/1' }, basicAuth('ann', 'ann password 1'));
    assert.equal(deploy.status, 404);
  });

  it('gRPC takes the same credentials as metadata', async () => {
    const infer = await token('ann', 'ann password 1', ['infer']);
    const client = oipGrpcClient(ts.server.services.serving.grpcPort());
    try {
      const req = { model_name: 'open', inputs: [{ name: 'x', datatype: 'FP32', shape: [1, 4], contents: { fp32_contents: [1, 2, 3, 4] } }] };
      await assert.rejects(client.call('ModelInfer', req), (e: any) => e.code === 16);
      const ok = await client.call('ModelInfer', req, infer);
      assert.equal(ok.model_version, '1');
      await assert.rejects(client.call('ModelInfer', { ...req, model_name: 'hidden' }, infer), (e: any) => e.code === 5);
      assert.deepEqual(await client.call('ServerLive', {}), { live: true });
    } finally {
      client.close();
    }
  });
});
