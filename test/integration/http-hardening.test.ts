import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { startTestServer, type TestServer } from '../support/server.js';
import { isLoopbackHost } from '../../src/platform/http/hardening.js';

/** A GET with a Host header of our choosing (fetch does not let one set it). */
function get(url: string, path: string, host: string): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request({ host: u.hostname, port: u.port, path, method: 'GET', headers: { host } }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('HTTP hardening on a loopback server without authentication', () => {
  let ts: TestServer;
  before(async () => {
    ts = await startTestServer({ store: 'sqlite' });
  });
  after(async () => {
    await ts?.stop();
  });

  it('answers requests addressed to a loopback name or address, on any port', async () => {
    const port = new URL(ts.url).port;
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, 'localhost', `[::1]:${port}`, `127.0.0.2:${port}`, `LOCALHOST:${port}`, 'localhost:8080']) {
      const r = await get(ts.url, '/api/2.0/mlflow/experiments/get?experiment_id=0', host);
      assert.equal(r.status, 200, `${host}: ${r.body}`);
    }
  });

  it('refuses other Host names with 403 and says why (DNS rebinding)', async () => {
    const port = new URL(ts.url).port;
    for (const path of ['/api/2.0/mlflow/experiments/get?experiment_id=0', '/api/v1/experiments', '/health', '/']) {
      const r = await get(ts.url, path, `attacker.example:${port}`);
      assert.equal(r.status, 403, path);
      const body = JSON.parse(r.body) as { error_code: string; message: string };
      assert.match(body.error_code, /PERMISSION_DENIED/);
      assert.match(body.message, /attacker\.example.*not allowed.*--allowed-hosts/s);
    }
    assert.equal((await get(ts.url, '/health', `127.0.0.1.attacker.example:${port}`)).status, 403);
    assert.equal((await get(ts.url, '/health', `localhost.attacker.example`)).status, 403);
  });

  it('sends X-Content-Type-Options: nosniff on API answers, errors and the rest', async () => {
    for (const path of ['/api/2.0/mlflow/experiments/get?experiment_id=0', '/api/v1/experiments', '/api/v1/nope', '/api/2.0/mlflow/experiments/get?experiment_id=x', '/health']) {
      const r = await get(ts.url, path, '127.0.0.1');
      assert.equal(r.headers['x-content-type-options'], 'nosniff', path);
    }
    assert.equal((await get(ts.url, '/health', 'attacker.example')).headers['x-content-type-options'], 'nosniff');
  });

  it('knows loopback names and addresses', () => {
    for (const h of ['localhost', 'a.localhost', '127.0.0.1', '127.1.2.3', '::1', '[::1]', '::ffff:127.0.0.1']) assert.ok(isLoopbackHost(h), h);
    for (const h of ['0.0.0.0', '10.0.0.1', 'example.com', 'localhost.example.com', '::', '128.0.0.1']) assert.ok(!isLoopbackHost(h), h);
  });
});
