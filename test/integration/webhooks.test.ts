import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { rmSync, statSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { loadConfig } from '../../src/platform/config.js';
import { openStore } from '../../src/platform/db/index.js';
import type { WebhookTables } from '../../src/webhooks/tables.js';
import { createServer, type KilnServer } from '../../src/server.js';
import { STORE_BACKENDS, freshStore, tempDir, type TestStore } from '../support/backends.js';
import { call } from '../support/server.js';

interface Received {
  readonly path: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
  readonly json: any;
}

/** What an internal service might answer: long, with terminal escapes, line breaks and invisible characters. */
const NOISY_BODY = '\u001b[31mSECRET-START\u001b[0m\r\n\u0000\u0007admin-token=abc\u202e\u200b' + 'x'.repeat(10_000) + 'SECRET-END';

/** A real HTTP receiver on 127.0.0.1 that records every request; `answer` picks the status for each path. */
async function startReceiver(answer: (path: string, nth: number) => number = () => 200) {
  const got: Received[] = [];
  const server: Server = createHttpServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks).toString('utf8');
      const path = req.url ?? '/';
      let json: unknown;
      try {
        json = JSON.parse(body);
      } catch {
        json = undefined;
      }
      got.push({ path, headers: req.headers, body, json });
      const status = answer(path, got.filter((g) => g.path === path).length);
      const text = path.startsWith('/noisy') ? NOISY_BODY : status === 200 ? 'ok' : `nope ${status}`;
      const send = () => res.writeHead(status, { 'content-type': 'text/plain' }).end(text);
      if (path.startsWith('/slower')) setTimeout(send, 1500);
      else if (path.startsWith('/slow')) setTimeout(send, 400);
      else send();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    base,
    at: (path: string) => got.filter((g) => g.path === path),
    stop: () => new Promise<void>((r) => server.close(() => r())),
  };
}

/** A loopback port nothing listens on. */
async function deadPort(): Promise<number> {
  const s = createHttpServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

async function until<T>(what: string, fn: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 15_000): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** The test receivers listen on loopback, which webhooks may reach only when the allow-list names it. */
const LOOPBACK_RECEIVER = ['127.0.0.1'];

const hmac = (secret: string, ts: string, body: string) => 'sha256=' + createHmac('sha256', secret).update(`${ts}.${body}`).digest('hex');

for (const backend of STORE_BACKENDS) {
  describe(`webhooks on ${backend}`, () => {
    let server: KilnServer;
    let store: TestStore;
    let dir: string;
    let url: string;
    let rx: Awaited<ReturnType<typeof startReceiver>>;
    const v1 = (method: string, path: string, body?: unknown) => call(url, method, `/api/v1${path}`, body, { 'x-kiln-user': 'alice' });
    const mlflow = (method: string, path: string, body?: unknown) => call(url, method, `/api/2.0/mlflow${path}`, body);
    const hook = async (body: Record<string, unknown>) => {
      const r = await v1('POST', '/webhooks', body);
      assert.equal(r.status, 201, r.text);
      return r.body.webhook;
    };
    const log = async (id: string) => (await v1('GET', `/webhooks/${id}/deliveries`)).body.deliveries as any[];

    before(async () => {
      // fail 500 twice then succeed on /flaky
      rx = await startReceiver((path, nth) => (path.startsWith('/flaky') && nth <= 2 ? 500 : 200));
      store = await freshStore(backend);
      dir = tempDir('kiln-hooks-');
      const config = loadConfig({ host: '127.0.0.1', port: 0, storeUri: store.uri, artifactsUri: pathToFileURL(join(dir, 'artifacts')).href, logLevel: process.env.KILN_TEST_LOG_LEVEL ?? 'silent', home: dir }, {});
      server = await createServer(config, { capabilities: { webhooks: { baseDelayMs: 20, maxDelayMs: 200, maxAttempts: 3, timeoutMs: 2000, pollIntervalMs: 100, allowedHosts: LOOPBACK_RECEIVER } } });
      url = await server.listen();
    });
    after(async () => {
      await server?.close();
      await rx?.stop();
      await store?.drop();
      rmSync(dir, { recursive: true, force: true });
    });

    it('delivers version, alias and model events as signed JSON POSTs', async () => {
      const h = await hook({ name: 'ci', url: `${rx.base}/signed`, events: ['model_created', 'version_created', 'alias_set'], secret: 'topsecret', description: 'CI trigger' });
      assert.equal(h.has_secret, true);
      assert.equal(h.status, 'ACTIVE');
      assert.deepEqual(h.events, ['model_created', 'version_created', 'alias_set']);
      assert.equal(h.secret, undefined);
      assert.ok(!JSON.stringify((await v1('GET', `/webhooks/${h.id}`)).body).includes('topsecret'));
      assert.ok(!JSON.stringify((await v1('GET', '/webhooks')).body).includes('topsecret'));
      // At rest, the secret is sealed with the server key (created 0600 in the home folder on first use).
      const stored = await server.store.db.withTables<{ webhooks: { webhook_id: string; secret: string | null } }>().selectFrom('webhooks').select('secret').where('webhook_id', '=', h.id).executeTakeFirstOrThrow();
      assert.match(String(stored.secret), /^kiln:v1:/);
      assert.ok(!String(stored.secret).includes('topsecret'));
      assert.equal(statSync(join(dir, 'secret.key')).mode & 0o777, 0o600);

      assert.equal((await v1('POST', '/models', { name: 'weather' })).status, 201);
      assert.equal((await v1('POST', '/models/weather/versions', { source: 's3://nowhere/model' })).status, 201);
      assert.equal((await v1('PUT', '/models/weather/aliases/champion', { version: 1, reason: 'best so far' })).status, 200);

      const got = await until('three deliveries', () => rx.at('/signed').length >= 3 && rx.at('/signed'));
      await server.services.registry.whenSettled();
      assert.deepEqual(got.map((g) => g.json.kind), ['model_created', 'version_created', 'alias_set']);
      for (const g of got) {
        assert.equal(g.headers['content-type'], 'application/json');
        assert.equal(g.headers['x-kiln-event'], g.json.kind);
        assert.match(String(g.headers['x-kiln-delivery']), /^\d+$/);
        assert.equal(g.headers['x-kiln-event-id'], g.json.id, 'the idempotency key is the event id');
        const ts = String(g.headers['x-kiln-timestamp']);
        assert.ok(Math.abs(Number(ts) - Date.now() / 1000) < 60, ts);
        assert.equal(g.headers['x-kiln-signature'], hmac('topsecret', ts, g.body), 'signature over "<timestamp>.<body>"');
        assert.match(g.json.id, /^evt_\d+$/);
        assert.equal(g.json.model, 'weather');
        assert.equal(g.json.actor, 'alice');
        assert.equal(typeof g.json.time, 'number');
      }
      const alias = got[2]!.json;
      assert.equal(alias.version, '1');
      assert.equal(alias.alias, 'champion');
      assert.equal(alias.reason, 'best so far');
      assert.deepEqual(alias.details, { previous_version: null });
      assert.equal(got[1]!.json.version, '1');
      assert.equal(got[1]!.json.details.source, 's3://nowhere/model');

      const entries = await until('a settled log', async () => {
        const l = await log(h.id);
        return l.length === 3 && l.every((d) => d.status === 'SUCCEEDED') && l;
      });
      assert.deepEqual(entries.map((d) => d.event_kind), ['alias_set', 'version_created', 'model_created'], 'newest first');
      for (const d of entries) {
        assert.equal(d.attempt, 1);
        assert.equal(d.response_status, 200);
        assert.equal(d.response_body, 'ok');
        assert.equal(typeof d.duration_ms, 'number');
        assert.equal(typeof d.attempt_time, 'number');
        assert.equal(d.next_attempt_time, null);
        assert.equal(d.payload.kind, d.event_kind);
      }
      const page = await v1('GET', `/webhooks/${h.id}/deliveries?max_results=2`);
      assert.equal(page.body.deliveries.length, 2);
      const rest = await v1('GET', `/webhooks/${h.id}/deliveries?max_results=2&page_token=${page.body.next_page_token}`);
      assert.deepEqual(rest.body.deliveries.map((d: any) => d.event_kind), ['model_created']);
      assert.equal(rest.body.next_page_token, undefined);
    });

    it('retries a failing receiver with backoff and logs every attempt', async () => {
      const h = await hook({ name: 'flaky', url: `${rx.base}/flaky`, events: ['model_created'], model_name: 'flaky-model' });
      assert.equal(h.has_secret, false);
      await v1('POST', '/models', { name: 'flaky-model' });
      const entries = await until('three attempts', async () => {
        const l = await log(h.id);
        return l.length === 3 && l[0].status === 'SUCCEEDED' && l;
      });
      assert.deepEqual(entries.map((d) => [d.attempt, d.status, d.response_status]), [
        [3, 'SUCCEEDED', 200],
        [2, 'RETRIED', 500],
        [1, 'RETRIED', 500],
      ]);
      assert.equal(entries[1].response_body, 'nope 500');
      assert.match(entries[1].error, /HTTP 500/);
      assert.equal(new Set(entries.map((d) => d.event_id)).size, 1);
      assert.ok(entries[2].next_attempt_time >= entries[2].attempt_time, 'a retry is scheduled after the attempt');
      const got = rx.at('/flaky');
      assert.equal(got.length, 3);
      assert.equal(new Set(got.map((g) => g.json.id)).size, 1, 'the same event each time');
      assert.equal(got[0]!.headers['x-kiln-signature'], undefined, 'unsigned without a secret');
    });

    it('gives up on a dead receiver after the configured attempts, without blocking the registry', async () => {
      const port = await deadPort();
      const h = await hook({ name: 'dead', url: `http://127.0.0.1:${port}/x`, events: ['*'], model_name: 'dead-model' });
      const started = Date.now();
      assert.equal((await v1('POST', '/models', { name: 'dead-model' })).status, 201);
      assert.ok(Date.now() - started < 2000);
      const entries = await until('a FAILED delivery', async () => {
        const l = await log(h.id);
        return l.length === 3 && l[0].status === 'FAILED' && l;
      });
      assert.deepEqual(entries.map((d) => [d.attempt, d.status]), [
        [3, 'FAILED'],
        [2, 'RETRIED'],
        [1, 'RETRIED'],
      ]);
      for (const d of entries) {
        assert.equal(d.response_status, null);
        assert.match(d.error, /Could not reach the receiver/);
      }
      assert.match(entries[0].error, /Gave up after 3 attempts/);
      assert.equal(entries[0].next_attempt_time, null);
      await new Promise((r) => setTimeout(r, 300));
      assert.equal((await log(h.id)).length, 3, 'no fourth attempt');

      // redelivery starts a new series
      const r = await v1('POST', `/webhooks/${h.id}/deliveries/${entries[0].id}/redeliver`);
      assert.equal(r.status, 202, r.text);
      assert.equal(r.body.delivery.attempt, 1);
      assert.equal(r.body.delivery.event_id, entries[0].event_id);
      assert.equal((await v1('POST', `/webhooks/${h.id}/deliveries/999999/redeliver`)).status, 404);
      assert.equal((await v1('POST', `/webhooks/${h.id}/deliveries/abc/redeliver`)).status, 400);
      await v1('DELETE', `/webhooks/${h.id}`);
    });

    it('filters by event kind and model name; DISABLED webhooks get nothing', async () => {
      const aliasOnly = await hook({ name: 'aliases', url: `${rx.base}/alias-only`, events: ['alias_set', 'alias_deleted'], model_name: 'filtered' });
      const otherModel = await hook({ name: 'other', url: `${rx.base}/other-model`, events: ['*'], model_name: 'someone-else' });
      const disabled = await hook({ name: 'off', url: `${rx.base}/disabled`, events: ['*'], status: 'DISABLED' });
      assert.equal(disabled.status, 'DISABLED');
      await v1('POST', '/models', { name: 'filtered' });
      await v1('POST', '/models/filtered/versions', { source: 's3://nowhere/f' });
      await v1('PUT', '/models/filtered/aliases/prod', { version: 1 });
      await v1('DELETE', '/models/filtered/aliases/prod');
      const got = await until('two alias events', () => rx.at('/alias-only').length >= 2 && rx.at('/alias-only'));
      await server.services.webhooks.whenSettled();
      assert.deepEqual(got.map((g) => g.json.kind), ['alias_set', 'alias_deleted']);
      assert.equal(rx.at('/other-model').length, 0);
      assert.equal(rx.at('/disabled').length, 0);
      assert.equal((await log(otherModel.id)).length, 0);
      assert.equal((await log(disabled.id)).length, 0);

      // re-enabled, it receives later events; disabled again, nothing more
      let r = await v1('PATCH', `/webhooks/${disabled.id}`, { status: 'ACTIVE', events: ['version_created'], model_name: 'filtered' });
      assert.equal(r.status, 200, r.text);
      assert.deepEqual(r.body.webhook.events, ['version_created']);
      await v1('POST', '/models/filtered/versions', { source: 's3://nowhere/g' });
      const again = await until('the re-enabled hook', () => rx.at('/disabled').length === 1 && rx.at('/disabled'));
      assert.equal(again[0]!.json.version, '2');
      r = await v1('PATCH', `/webhooks/${disabled.id}`, { status: 'DISABLED' });
      assert.equal(r.body.webhook.status, 'DISABLED');
      await v1('POST', '/models/filtered/versions', { source: 's3://nowhere/h' });
      await server.services.registry.whenSettled();
      await server.services.webhooks.whenSettled();
      await new Promise((res) => setTimeout(res, 200));
      assert.equal(rx.at('/disabled').length, 1);
      for (const h of [aliasOnly, otherModel, disabled]) assert.equal((await v1('DELETE', `/webhooks/${h.id}`)).status, 204);
    });

    it('seals a signing secret stored in clear (before encryption at rest) and still signs with it', async () => {
      const h = await hook({ name: 'legacy', url: `${rx.base}/legacy`, events: ['model_created'], secret: 'will be replaced' });
      const db = server.store.db.withTables<{ webhooks: { webhook_id: string; secret: string | null } }>();
      await db.updateTable('webhooks').set({ secret: 'old-plain-secret' }).where('webhook_id', '=', h.id).execute();
      assert.ok((await server.services.webhooks.sealStoredSecrets()) >= 1);
      const row = await db.selectFrom('webhooks').select('secret').where('webhook_id', '=', h.id).executeTakeFirstOrThrow();
      assert.match(String(row.secret), /^kiln:v1:/);
      const r = await v1('POST', `/webhooks/${h.id}/test`);
      assert.equal(r.status, 200, r.text);
      const ping = await until('the ping', () => rx.at('/legacy')[0]);
      assert.equal(ping.headers['x-kiln-signature'], hmac('old-plain-secret', String(ping.headers['x-kiln-timestamp']), ping.body));
      assert.equal((await v1('DELETE', `/webhooks/${h.id}`)).status, 204);
    });

    it('manages webhooks: get, list, update, secret rotation, test, delete', async () => {
      const h = await hook({ name: 'managed', url: `${rx.base}/managed`, events: ['*'], secret: 'first', model_name: 'nothing-here' });
      assert.deepEqual(h.events, ['*']);
      let r = await v1('PATCH', `/webhooks/${h.id}`, { secret: 'second', description: 'rotated', name: 'managed-2' });
      assert.equal(r.status, 200, r.text);
      assert.equal(r.body.webhook.name, 'managed-2');
      assert.equal(r.body.webhook.description, 'rotated');
      assert.equal(r.body.webhook.has_secret, true);
      assert.ok(!r.text.includes('second'));
      assert.ok(r.body.webhook.last_update_time >= h.last_update_time);

      r = await v1('POST', `/webhooks/${h.id}/test`);
      assert.equal(r.status, 200, r.text);
      assert.equal(r.body.success, true);
      assert.equal(r.body.response_status, 200);
      assert.equal(r.body.response_body, 'ok');
      assert.equal(r.body.error_message, null);
      assert.equal(typeof r.body.response_time_ms, 'number');
      const ping = rx.at('/managed')[0]!;
      assert.equal(ping.json.kind, 'ping');
      assert.equal(ping.headers['x-kiln-event'], 'ping');
      assert.equal(ping.headers['x-kiln-signature'], hmac('second', String(ping.headers['x-kiln-timestamp']), ping.body));
      assert.equal(ping.json.details.webhook_id, h.id);

      r = await v1('PATCH', `/webhooks/${h.id}`, { secret: null, url: `http://127.0.0.1:${await deadPort()}/gone` });
      assert.equal(r.body.webhook.has_secret, false);
      r = await v1('POST', `/webhooks/${h.id}/test`);
      assert.equal(r.body.success, false);
      assert.equal(r.body.response_status, null);
      assert.match(r.body.error_message, /Could not reach the receiver/);

      r = await v1('GET', '/webhooks?max_results=1');
      assert.equal(r.body.webhooks.length, 1);
      assert.ok(r.body.next_page_token);
      assert.equal((await v1('DELETE', `/webhooks/${h.id}`)).status, 204);
      assert.equal((await v1('GET', `/webhooks/${h.id}`)).status, 404);
      // Each change of its configuration committed with its audit entry; no secret in any of them.
      const page = await server.events.audit.list({ resourceType: 'webhook', resourceId: h.id }, { limit: 100, order: 'asc' });
      assert.deepEqual(page.entries.map((e) => e.action), ['webhooks.webhook_created', 'webhooks.webhook_updated', 'webhooks.webhook_updated', 'webhooks.webhook_deleted']);
      assert.deepEqual(JSON.parse(page.entries[1]!.details).changed, ['name', 'secret', 'description']);
      assert.ok(!page.entries.some((e) => e.details.includes('first') || e.details.includes('second')), 'no webhook secret in the audit log');
    });

    it('refuses bad input with clear messages', async () => {
      const good = { name: 'x', url: `${rx.base}/x`, events: ['version_created'] };
      const bad = async (body: unknown, status: number, message: RegExp) => {
        const r = await v1('POST', '/webhooks', body);
        assert.equal(r.status, status, r.text);
        assert.equal(r.body.error_code, 'INVALID_PARAMETER_VALUE');
        assert.match(r.body.message, message);
      };
      await bad({ ...good, url: 'ftp://example.com/x' }, 400, /only http:\/\/ and https:\/\//);
      await bad({ ...good, url: 'not a url' }, 400, /expected an absolute http/);
      await bad({ ...good, url: 'https://user:pw@example.com/' }, 400, /credentials in the URL/);
      await bad({ ...good, events: ['version_exploded'] }, 400, /Unknown webhook event "version_exploded": accepted events are '\*' or model_created, .*promotion_rejected/);
      await bad({ ...good, events: [] }, 400, /non-empty list/);
      await bad({ url: good.url, events: good.events }, 400, /'name'/);
      await bad({ ...good, name: '   ' }, 400, /blank/);
      await bad({ ...good, status: 'PAUSED' }, 400, /ACTIVE or DISABLED/);
      await bad({ ...good, colour: 'red' }, 400, /Unknown field 'colour'/);
      for (const [method, path] of [
        ['GET', '/webhooks/nope'],
        ['PATCH', '/webhooks/nope'],
        ['DELETE', '/webhooks/nope'],
        ['POST', '/webhooks/nope/test'],
        ['GET', '/webhooks/nope/deliveries'],
      ] as const) {
        const r = await v1(method, path, method === 'PATCH' ? { name: 'y' } : undefined);
        assert.equal(r.status, 404, `${method} ${path}: ${r.text}`);
        assert.equal(r.body.error_code, 'RESOURCE_DOES_NOT_EXIST');
        assert.match(r.body.message, /Webhook with id=nope not found/);
      }
      const h = await hook(good);
      const r = await v1('PATCH', `/webhooks/${h.id}`, { url: 'javascript:alert(1)' });
      assert.equal(r.status, 400);
      assert.equal((await v1('GET', `/webhooks/${h.id}`)).body.webhook.url, good.url, 'a refused update changes nothing');
      await v1('DELETE', `/webhooks/${h.id}`);
    });

    it('sends each attempt once when two server replicas share the store', async () => {
      const dir2 = tempDir('kiln-hooks-2-');
      const config = loadConfig({ host: '127.0.0.1', port: 0, storeUri: store.uri, artifactsUri: pathToFileURL(join(dir, 'artifacts')).href, logLevel: 'silent', home: dir2 }, {});
      const replica = await createServer(config, { capabilities: { webhooks: { baseDelayMs: 20, maxDelayMs: 200, maxAttempts: 3, timeoutMs: 2000, pollIntervalMs: 10, allowedHosts: LOOPBACK_RECEIVER } } });
      try {
        const h = await hook({ name: 'replicas', url: `${rx.base}/replicas`, events: ['model_created'] });
        // whichever server holds the event log's webhook consumer queues the deliveries; both servers' dispatchers poll them
        for (let i = 0; i < 20; i++) assert.equal((await v1('POST', '/models', { name: `replica-${i}` })).status, 201);
        await until('twenty deliveries', async () => (await log(h.id)).filter((d) => d.status === 'SUCCEEDED').length === 20);
        await new Promise((r) => setTimeout(r, 150));
        const ids = rx.at('/replicas').map((g) => g.json.id);
        assert.equal(ids.length, 20, 'no attempt sent twice');
        assert.equal(new Set(ids).size, 20);
        await v1('DELETE', `/webhooks/${h.id}`);
      } finally {
        await replica.close();
        rmSync(dir2, { recursive: true, force: true });
      }
    });

    it('waits for the attempt in flight when the server closes', async () => {
      // its own store, so that no other server's worker can take the attempt
      const own = await freshStore(backend);
      const dir2 = tempDir('kiln-hooks-3-');
      const config = loadConfig({ host: '127.0.0.1', port: 0, storeUri: own.uri, artifactsUri: pathToFileURL(join(dir2, 'artifacts')).href, logLevel: 'silent', home: dir2 }, {});
      const other = await createServer(config, { capabilities: { webhooks: { pollIntervalMs: 60_000, allowedHosts: LOOPBACK_RECEIVER } } });
      try {
        const h = await other.services.webhooks.create({ name: 'slow', url: `${rx.base}/slow`, events: ['model_created'] });
        await other.services.registry.createModel({ name: 'slow-model' });
        await until('the slow request to arrive', () => rx.at('/slow').length === 1);
        await other.close();
        const meta = await openStore(own.uri);
        try {
          const rows = await meta.db.withTables<WebhookTables>().selectFrom('webhook_deliveries').selectAll().where('webhook_id', '=', h.id).execute();
          assert.deepEqual(rows.map((d) => [Number(d.attempts), d.status, d.response_status]), [[1, 'SUCCEEDED', 200]], 'recorded before close() resolved');
          assert.ok(Number(rows[0]!.duration_ms) >= 350, String(rows[0]!.duration_ms));
        } finally {
          await meta.close();
        }
      } finally {
        await other.close();
        await own.drop();
        rmSync(dir2, { recursive: true, force: true });
      }
    });

    it('sends each attempt on its own: a slow receiver holds up no other delivery', async () => {
      const own = await freshStore(backend);
      const dir2 = tempDir('kiln-hooks-4-');
      const config = loadConfig({ host: '127.0.0.1', port: 0, storeUri: own.uri, artifactsUri: pathToFileURL(join(dir2, 'artifacts')).href, logLevel: 'silent', home: dir2 }, {});
      const other = await createServer(config, { capabilities: { webhooks: { pollIntervalMs: 60_000, allowedHosts: LOOPBACK_RECEIVER } } });
      try {
        const slow = await other.services.webhooks.create({ name: 'slow', url: `${rx.base}/slower`, events: ['model_created'] });
        const fast = await other.services.webhooks.create({ name: 'fast', url: `${rx.base}/fast-after-slow`, events: ['model_renamed'] });
        await other.services.registry.createModel({ name: 'held-up' });
        await until('the slow request to arrive', () => rx.at('/slower').length === 1);
        // While the slow receiver takes 1.5 s to answer, a later event's delivery goes out and is recorded.
        await other.services.registry.renameModel('held-up', 'not-held-up');
        await until('the fast delivery to succeed', async () => (await other.services.webhooks.deliveries(fast.id)).items.some((d) => d.status === 'SUCCEEDED'));
        assert.deepEqual((await other.services.webhooks.deliveries(slow.id)).items.map((d) => d.status), ['PENDING'], 'the slow attempt is still in flight');
        await until('the slow delivery to succeed', async () => (await other.services.webhooks.deliveries(slow.id)).items.some((d) => d.status === 'SUCCEEDED'));
      } finally {
        await other.close();
        await own.drop();
        rmSync(dir2, { recursive: true, force: true });
      }
    });

    it("answers MLflow 3's webhook endpoints", async () => {
      let r = await mlflow('POST', '/webhooks', {
        name: 'mlflow-hook',
        url: `${rx.base}/mlflow`,
        events: [
          { entity: 'model_version', action: 'created' },
          { entity: 'MODEL_VERSION_ALIAS', action: 'CREATED' },
        ],
        secret: 'mlflow-secret',
        description: 'from MLflow',
      });
      assert.equal(r.status, 200, r.text);
      const w = r.body.webhook;
      assert.match(w.webhook_id, /^[0-9a-f]{32}$/);
      assert.deepEqual(w.events, [
        { entity: 'MODEL_VERSION', action: 'CREATED' },
        { entity: 'MODEL_VERSION_ALIAS', action: 'CREATED' },
      ]);
      assert.equal(w.status, 'ACTIVE');
      assert.equal(w.description, 'from MLflow');
      assert.equal(typeof w.creation_timestamp, 'number');
      assert.ok(!r.text.includes('mlflow-secret'));
      // the same webhook through the native API
      assert.deepEqual((await v1('GET', `/webhooks/${w.webhook_id}`)).body.webhook.events, ['version_created', 'alias_set']);

      r = await mlflow('GET', '/webhooks');
      assert.ok(r.body.webhooks.some((x: any) => x.webhook_id === w.webhook_id));
      r = await mlflow('GET', `/webhooks/${w.webhook_id}`);
      assert.equal(r.body.webhook.name, 'mlflow-hook');
      r = await mlflow('PATCH', `/webhooks/${w.webhook_id}`, { status: 'DISABLED', events: [{ entity: 'registered_model', action: 'created' }] });
      assert.equal(r.status, 200, r.text);
      assert.equal(r.body.webhook.status, 'DISABLED');
      assert.deepEqual(r.body.webhook.events, [{ entity: 'REGISTERED_MODEL', action: 'CREATED' }]);
      r = await mlflow('POST', `/webhooks/${w.webhook_id}/test`, {});
      assert.equal(r.status, 200, r.text);
      assert.deepEqual(r.body.result, { success: true, response_status: 200, response_body: 'ok' });
      const ping = rx.at('/mlflow')[0]!;
      assert.equal(ping.headers['x-kiln-signature'], hmac('mlflow-secret', String(ping.headers['x-kiln-timestamp']), ping.body));

      r = await mlflow('POST', '/webhooks', { name: 'tagger', url: `${rx.base}/t`, events: [{ entity: 'model_version_tag', action: 'set' }] });
      assert.equal(r.status, 400);
      assert.equal(r.body.error_code, 'INVALID_PARAMETER_VALUE');
      assert.match(r.body.message, /Unsupported webhook event model_version_tag\.set: accepted events are registered_model\.created, model_version\.created, model_version_alias\.created, model_version_alias\.deleted/);
      r = await mlflow('POST', '/webhooks', { name: 'no-events', url: `${rx.base}/t` });
      assert.equal(r.status, 400);
      assert.match(r.body.message, /'events'/);
      r = await mlflow('POST', '/webhooks', { url: `${rx.base}/t`, events: [{ entity: 'model_version', action: 'created' }] });
      assert.equal(r.status, 400);
      assert.match(r.body.message, /'name'/);

      r = await mlflow('DELETE', `/webhooks/${w.webhook_id}`);
      assert.equal(r.status, 200, r.text);
      assert.deepEqual(r.body, {});
      r = await mlflow('GET', `/webhooks/${w.webhook_id}`);
      assert.equal(r.status, 404);
      assert.equal(r.body.error_code, 'RESOURCE_DOES_NOT_EXIST');
      // the UI's prefix serves them too
      assert.equal((await call(url, 'GET', '/ajax-api/2.0/mlflow/webhooks')).status, 200);
    });

    it('answers a test call and logs deliveries with a short, sanitised excerpt of the response, never the body', async () => {
      const h = await hook({ name: 'noisy', url: `${rx.base}/noisy`, events: ['model_created'], model_name: 'noisy-model' });
      const check = (excerpt: string) => {
        assert.ok([...excerpt].length <= 200, `${excerpt.length} characters`);
        // eslint-disable-next-line no-control-regex
        assert.doesNotMatch(excerpt, /[\u0000-\u001f\u007f-\u009f\u200b\u202e]/, 'no control or invisible characters');
        assert.ok(excerpt.startsWith('[31mSECRET-START [0m admin-token=abc'), excerpt);
        assert.ok(!excerpt.includes('SECRET-END'), 'the rest of the body is not echoed');
      };
      const r = await v1('POST', `/webhooks/${h.id}/test`);
      assert.equal(r.status, 200, r.text);
      assert.equal(r.body.response_status, 200);
      check(r.body.response_body);
      const m = await mlflow('POST', `/webhooks/${h.id}/test`, {});
      check(m.body.result.response_body);
      await v1('POST', '/models', { name: 'noisy-model' });
      const [d] = await until('a delivery', async () => {
        const l = await log(h.id);
        return l.length === 1 && l[0].status === 'SUCCEEDED' && l;
      });
      check(d.response_body);
      await v1('DELETE', `/webhooks/${h.id}`);
    });

    it('refuses loopback, link-local and private destinations unless the allow-list names them', async () => {
      const dir2 = tempDir('kiln-hooks-ssrf-');
      const config = loadConfig({ host: '127.0.0.1', port: 0, storeUri: store.uri, artifactsUri: pathToFileURL(join(dir, 'artifacts')).href, logLevel: 'silent', home: dir2 }, {});
      // The default configuration: no allow-list.
      const strict = await createServer(config, { capabilities: { webhooks: { pollIntervalMs: 60_000 } } });
      const strictUrl = await strict.listen();
      try {
        const port = new URL(rx.base).port;
        const internal = [
          `http://127.0.0.1:${port}/internal/admin`,
          `http://127.1.2.3:${port}/`,
          `http://localhost:${port}/internal/admin`,
          `http://LOCALHOST./x`,
          `http://[::1]:${port}/`,
          `http://[::ffff:127.0.0.1]:${port}/`,
          `http://[::ffff:a9fe:a9fe]/latest/meta-data/`,
          `http://2130706433:${port}/`,
          `http://0x7f.1:${port}/`,
          `http://0.0.0.0:${port}/`,
          `http://[::]:${port}/`,
          'http://10.1.2.3/hook',
          'http://172.16.0.1/hook',
          'http://192.168.1.1/hook',
          'http://100.64.0.1/hook',
          'http://169.254.169.254/latest/meta-data/',
          'https://[fe80::1]/hook',
          'https://[fd00::1]/hook',
          'http://224.0.0.1/hook',
        ];
        for (const target of internal) {
          let r = await call(strictUrl, 'POST', '/api/v1/webhooks', { name: 'ssrf', url: target, events: ['*'] });
          assert.equal(r.status, 400, `${target}: ${r.text}`);
          assert.equal(r.body.error_code, 'INVALID_PARAMETER_VALUE');
          assert.match(r.body.message, /may not reach/, target);
          r = await call(strictUrl, 'POST', '/api/2.0/mlflow/webhooks', { name: 'ssrf', url: target, events: [{ entity: 'model_version', action: 'created' }] });
          assert.equal(r.status, 400, `MLflow ${target}: ${r.text}`);
          assert.match(r.body.message, /may not reach/, target);
        }
        assert.equal((await call(strictUrl, 'GET', '/api/v1/webhooks')).body.webhooks.filter((w: any) => w.name === 'ssrf').length, 0, 'nothing was created');

        // A webhook created while the allow-list named the receiver: changing its URL to an internal one is refused ...
        const h = await hook({ name: 'was-allowed', url: `${rx.base}/was-allowed`, events: ['model_created'], model_name: 'nothing-here' });
        let r = await call(strictUrl, 'PATCH', `/api/v1/webhooks/${h.id}`, { url: `http://127.0.0.1:${port}/internal/admin` });
        assert.equal(r.status, 400, r.text);
        r = await call(strictUrl, 'PATCH', `/api/2.0/mlflow/webhooks/${h.id}`, { url: 'http://169.254.169.254/' });
        assert.equal(r.status, 400, r.text);
        // ... and a server whose allow-list no longer names it refuses to send to it, at delivery time.
        for (const path of [`/api/v1/webhooks/${h.id}/test`, `/api/2.0/mlflow/webhooks/${h.id}/test`]) {
          r = await call(strictUrl, 'POST', path, {});
          assert.equal(r.status, 200, r.text);
          const result = r.body.result ?? r.body;
          assert.equal(result.success, false);
          assert.match(result.error_message, /Refused to send: 127\.0\.0\.1, a loopback, link-local, private or reserved address/);
          assert.ok(!result.response_body);
        }
        assert.equal(rx.at('/was-allowed').length, 0, 'no request reached the receiver');
        await v1('DELETE', `/webhooks/${h.id}`);
      } finally {
        await strict.close();
        rmSync(dir2, { recursive: true, force: true });
      }
    });

    it('refuses queued deliveries to a destination the allow-list no longer names', async () => {
      const own = await freshStore(backend);
      const dir2 = tempDir('kiln-hooks-5-');
      const config = loadConfig({ host: '127.0.0.1', port: 0, storeUri: own.uri, artifactsUri: pathToFileURL(join(dir2, 'artifacts')).href, logLevel: 'silent', home: dir2 }, {});
      const allowed = await createServer(config, { capabilities: { webhooks: { pollIntervalMs: 60_000, allowedHosts: LOOPBACK_RECEIVER } } });
      let hookId = '';
      try {
        hookId = (await allowed.services.webhooks.create({ name: 'later-refused', url: `${rx.base}/later-refused`, events: ['model_created'] })).id;
      } finally {
        await allowed.close();
      }
      const strict = await createServer(config, { capabilities: { webhooks: { pollIntervalMs: 50, maxAttempts: 1 } } });
      try {
        await strict.services.registry.createModel({ name: 'refused-model' });
        const [d] = await until('a FAILED delivery', async () => {
          const l = (await strict.services.webhooks.deliveries(hookId)).items;
          return l.length === 1 && l[0]!.status === 'FAILED' && l;
        });
        assert.match(d!.error!, /Refused to send: 127\.0\.0\.1/);
        assert.equal(d!.responseStatus, null);
        assert.equal(rx.at('/later-refused').length, 0);
      } finally {
        await strict.close();
        await own.drop();
        rmSync(dir2, { recursive: true, force: true });
      }
    });

    it('checks the address at connection time: a name that later resolves to loopback is refused (DNS rebinding)', async () => {
      const own = await freshStore(backend);
      const dir2 = tempDir('kiln-hooks-6-');
      const config = loadConfig({ host: '127.0.0.1', port: 0, storeUri: own.uri, artifactsUri: pathToFileURL(join(dir2, 'artifacts')).href, logLevel: 'silent', home: dir2 }, {});
      // The first answer is a public address (the check at creation passes), every later one is loopback.
      let lookups = 0;
      const resolver = async (host: string) => {
        assert.equal(host, 'rebind.example');
        return lookups++ === 0 ? [{ address: '93.184.216.34', family: 4 }] : [{ address: '127.0.0.1', family: 4 }];
      };
      const strict = await createServer(config, { capabilities: { webhooks: { pollIntervalMs: 60_000, resolver } } });
      try {
        const h = await strict.services.webhooks.create({ name: 'rebind', url: `http://rebind.example:${new URL(rx.base).port}/rebound`, events: ['model_created'] });
        const r = await strict.services.webhooks.test(h.id);
        assert.equal(r.success, false);
        assert.match(r.errorMessage!, /Refused to send: rebind\.example resolves to 127\.0\.0\.1/);
        assert.equal(lookups, 2);
        assert.equal(rx.at('/rebound').length, 0, 'the connection never reached loopback');
      } finally {
        await strict.close();
        await own.drop();
        rmSync(dir2, { recursive: true, force: true });
      }
    });
  });
}
