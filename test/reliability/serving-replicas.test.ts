import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { STORE_BACKENDS } from '../support/backends.js';
import { call, startTestServer, type TestServer } from '../support/server.js';
import { registerOnnx } from '../support/models.js';
import { kiln } from '../support/cli.js';
import { startKilnProcess } from '../support/kiln-process.js';
import { linearModel } from '../../src/registry/packaging/test-models.js';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../support/backends.js';

/** A serving-only replica (`kiln serve`) over the server's stores. */
const startReplica = (ts: TestServer) => startKilnProcess(ts.storeUri, ts.artifactsUri, [], {}, 'serve');

const body = { inputs: [{ name: 'x', shape: [1, 4], datatype: 'FP32', data: [1, 2, 3, 4] }] };

for (const backend of STORE_BACKENDS) {
  describe(`kiln serve replicas on ${backend}`, () => {
    let ts: TestServer;
    before(async () => {
      ts = await startTestServer({ store: backend });
      await registerOnnx(ts.url, 'fraud', linearModel({ inputs: 4 }), { aliases: ['production'] });
      await registerOnnx(ts.url, 'fraud', linearModel({ inputs: 4, scale: 3 }));
    });
    after(async () => {
      await ts?.stop();
    });

    it('a replica created by the CLI serves, follows changes made on the server, and only serves', async () => {
      const created = await kiln(['deployments', 'create', 'fraud', '--model', 'models:/fraud@production'], { KILN_TRACKING_URI: ts.url });
      assert.equal(created.code, 0, created.err);
      assert.match(created.out, /fraud \(project default\), revision 1/);
      const replica = await startReplica(ts);
      try {
        const r = await call(replica.url, 'POST', '/v2/models/fraud/infer', body);
        assert.equal(r.status, 200, r.text);
        assert.equal(r.body.model_version, '1');
        assert.deepEqual((await call(replica.url, 'GET', '/v2/health/ready')).body, { ready: true });
        // No control plane on a replica.
        assert.equal((await call(replica.url, 'GET', '/api/v1/deployments')).status, 404);
        // A promotion on the server rolls the replica forward within seconds.
        assert.equal((await call(ts.url, 'POST', '/api/2.0/mlflow/registered-models/alias', { name: 'fraud', alias: 'production', version: '2' })).status, 200);
        let version = '1';
        for (let i = 0; i < 200 && version !== '2'; i++) {
          await new Promise((res) => setTimeout(res, 50));
          version = (await call(replica.url, 'POST', '/v2/models/fraud/infer', body)).body.model_version;
        }
        assert.equal(version, '2');
        const metrics = await (await fetch(`${replica.url}/metrics`)).text();
        assert.match(metrics, /kiln_serving_requests_total\{deployment="fraud",version="2",code="200"\} \d+/);
      } finally {
        await replica.stop();
      }
    });

    it('kill -9 of a replica loses only what was in flight on it; started again, it serves with no manual step', async () => {
      const first = await startReplica(ts);
      assert.equal((await call(first.url, 'POST', '/v2/models/fraud/infer', body)).status, 200);
      const gone = new Promise<void>((r) => first.child.once('exit', () => r()));
      first.child.kill('SIGKILL');
      await gone;
      await assert.rejects(fetch(`${first.url}/v2/health/live`));
      const second = await startReplica(ts);
      try {
        const r = await call(second.url, 'POST', '/v2/models/fraud/infer', body);
        assert.equal(r.status, 200, r.text);
        // The server itself kept serving throughout.
        assert.equal((await call(ts.url, 'POST', '/v2/models/fraud/infer', body)).status, 200);
      } finally {
        await second.stop();
      }
    });

    it("a monitored deployment's requests are counted on every replica, and the windows add up", async () => {
      if ((await call(ts.url, 'GET', '/api/v1/deployments/fraud')).status === 404) assert.equal((await kiln(['deployments', 'create', 'fraud', '--model', 'models:/fraud@production'], { KILN_TRACKING_URI: ts.url })).code, 0);
      const dir = tempDir('kiln-replica-monitor-');
      try {
        writeFileSync(join(dir, 'train.csv'), 'a,b,c,d\n' + Array.from({ length: 100 }, (_, i) => `${i % 7},${i % 5},${i / 10},${i % 3}`).join('\n') + '\n');
        assert.equal((await kiln(['data', 'add', join(dir, 'train.csv'), '--name', 'fraud-train'], { KILN_TRACKING_URI: ts.url })).code, 0);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
      const m = await call(ts.url, 'POST', '/api/v1/monitors', { name: 'fraud-watch', deployment: 'fraud', reference: 'fraud-train@v1', window: '1d' });
      assert.equal(m.status, 201, m.text);
      const [a, b] = await Promise.all([startReplica(ts), startReplica(ts)]);
      let served = 0;
      try {
        for (let i = 0; i < 20; i++) {
          for (const r of [a, b]) {
            assert.equal((await call(r.url, 'POST', '/v2/models/fraud/infer', body)).status, 200);
            served++;
          }
        }
      } finally {
        // A replica writes what it counted when it stops.
        await Promise.all([a.stop(), b.stop()]);
      }
      const report = (await call(ts.url, 'GET', '/api/v1/monitors/fraud-watch/report')).body;
      assert.equal(report.rows, served);
      assert.equal(report.features.a.rows, served);
    });
  });
}
