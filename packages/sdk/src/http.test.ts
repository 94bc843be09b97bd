import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { HttpClient, KilnApiError, type HttpOptions } from './http.js';

/**
 * json() goes through node:http; send() through fetch(). json() must answer as json() did when it was send() plus
 * Response.text(): each case runs both ways against one server and compares what comes back or what is thrown.
 */

type Handler = (req: IncomingMessage, res: ServerResponse, body: string) => void;

const received: { method: string; url: string; headers: IncomingMessage['headers']; body: string }[] = [];
const routes = new Map<string, Handler>();
const hits = new Map<string, number>();
let server: Server;
let base = '';

function route(path: string, handler: Handler): string {
  routes.set(path, handler);
  return path;
}

/** What json() returned before it had its own transport: send() (fetch) and the body parsed. */
async function viaFetch(c: HttpClient, method: string, path: string, body?: unknown, query?: Record<string, unknown>): Promise<unknown> {
  const res = await c.send(method, path, body === undefined ? undefined : JSON.stringify(body), query, body === undefined ? {} : { 'content-type': 'application/json' });
  if (res.status === 204) return undefined;
  const text = await res.text();
  return text === '' ? undefined : JSON.parse(text);
}

/** A thrown value as the fields a caller looks at. */
function shape(e: unknown): Record<string, unknown> {
  const x = e as Error & { status?: number; code?: string; details?: unknown; cause?: { code?: string } };
  return { isTypeError: x instanceof TypeError, isApiError: x instanceof KilnApiError, name: x.name, message: x.message, status: x.status, code: x.code, details: x.details, causeCode: x.cause?.code };
}

async function outcome(p: Promise<unknown>): Promise<{ value?: unknown; error?: Record<string, unknown> }> {
  try {
    return { value: await p };
  } catch (e) {
    return { error: shape(e) };
  }
}

/** Runs a call through json() and through fetch, each against fresh hit counters; returns both outcomes and hit counts. */
async function both(opts: Partial<HttpOptions>, method: string, path: string, body?: unknown, query?: Record<string, unknown>) {
  const c = new HttpClient({ baseUrl: base, backoffMs: 1, ...opts });
  hits.clear();
  const light = await outcome(c.json(method, path, body, query));
  const lightHits = Object.fromEntries(hits);
  hits.clear();
  const fetched = await outcome(viaFetch(c, method, path, body, query));
  return { light, fetched, lightHits, fetchHits: Object.fromEntries(hits) };
}

describe('HttpClient.json over node:http answers as over fetch', () => {
  before(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        const path = new URL(req.url!, 'http://x').pathname;
        received.push({ method: req.method!, url: req.url!, headers: req.headers, body });
        hits.set(path, (hits.get(path) ?? 0) + 1);
        const h = routes.get(path);
        if (h) h(req, res, body);
        else res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error_code: 'RESOURCE_DOES_NOT_EXIST', message: `no ${path}` }));
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  });
  after(async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  });

  it('returns the parsed body, sends the JSON body, headers and query', async () => {
    route('/echo', (req, res, body) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ method: req.method, query: req.url, body: body === '' ? null : JSON.parse(body), user: req.headers['x-kiln-user'] ?? null, type: req.headers['content-type'] ?? null })));
    for (const [method, body] of [['GET', undefined], ['POST', { a: [1, 'é', null] }], ['PATCH', { name: 'x' }], ['DELETE', undefined], ['POST', undefined]] as const) {
      const r = await both({ headers: { 'x-kiln-user': 'ana' } }, method, '/echo', body, { key: 'k', order_by: ['a ASC', 'b'], skip: undefined, none: null });
      assert.deepEqual(r.light, r.fetched, method);
      assert.deepEqual((r.light.value as { body: unknown }).body, body ?? null);
    }
    const post = received.filter((x) => x.url.startsWith('/echo') && x.method === 'POST');
    assert.equal(post.at(-1)!.headers['content-length'], '0', 'a POST without a body says so, as fetch does');
    const withBody = post.find((x) => x.body !== '')!;
    assert.equal(withBody.headers['content-length'], String(Buffer.byteLength(withBody.body)));
  });

  it('returns undefined for 204 and for an empty body', async () => {
    route('/none', (_req, res) => res.writeHead(204).end());
    route('/empty', (_req, res) => res.writeHead(200).end());
    for (const p of ['/none', '/empty']) {
      const r = await both({}, 'POST', p, { x: 1 });
      assert.deepEqual(r.light, { value: undefined }, p);
      assert.deepEqual(r.light, r.fetched, p);
    }
  });

  it('throws KilnApiError with the code, message and details of an error body, or its text', async () => {
    route('/bad', (_req, res) => res.writeHead(400, { 'content-type': 'application/json' }).end(JSON.stringify({ error_code: 'INVALID_PARAMETER_VALUE', message: 'bad name', details: { field: 'name' } })));
    route('/boom', (_req, res) => res.writeHead(500, 'Exploded').end('<html>' + 'x'.repeat(600)));
    route('/terse', (_req, res) => res.writeHead(500, 'Exploded').end());
    for (const p of ['/bad', '/boom', '/terse', '/missing']) {
      const r = await both({}, 'GET', p);
      assert.equal(r.light.error?.isApiError, true, p);
      assert.deepEqual(r.light, r.fetched, p);
    }
  });

  it('retries 429 and 502-504 up to maxAttempts, not other errors', async () => {
    let n = 0;
    route('/flaky', (_req, res) => (++n % 3 === 0 ? res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}') : res.writeHead(503).end('{"error_code":"TEMPORARILY_UNAVAILABLE","message":"busy"}')));
    route('/down', (_req, res) => res.writeHead(502).end());
    n = 0;
    let r = await both({ maxAttempts: 3 }, 'POST', '/flaky', {});
    assert.deepEqual(r.light, { value: { ok: true } });
    assert.deepEqual([r.lightHits, r.fetchHits], [{ '/flaky': 3 }, { '/flaky': 3 }]);
    r = await both({ maxAttempts: 2 }, 'GET', '/down');
    assert.deepEqual(r.light, r.fetched);
    assert.equal(r.light.error?.status, 502);
    assert.deepEqual([r.lightHits, r.fetchHits], [{ '/down': 2 }, { '/down': 2 }]);
    r = await both({ maxAttempts: 3 }, 'GET', '/bad');
    assert.deepEqual([r.lightHits, r.fetchHits], [{ '/bad': 1 }, { '/bad': 1 }]);
  });

  it("fails with TypeError('fetch failed') naming the network error, after the retries", async () => {
    const closed = createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const url = `http://127.0.0.1:${(closed.address() as { port: number }).port}`;
    await new Promise((r) => closed.close(r));
    const c = new HttpClient({ baseUrl: url, maxAttempts: 2, backoffMs: 1 });
    const light = await outcome(c.json('GET', '/x'));
    assert.deepEqual(light, await outcome(viaFetch(c, 'GET', '/x')));
    assert.deepEqual([light.error?.isTypeError, light.error?.message, light.error?.causeCode], [true, 'fetch failed', 'ECONNREFUSED']);
  });

  it('times out the whole exchange, head or body, with a TimeoutError', async () => {
    route('/slow-head', (_req, res) => void setTimeout(() => res.writeHead(200).end('{}'), 400));
    route('/slow-body', (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.write('{"a":');
      setTimeout(() => res.end('1}'), 400);
    });
    for (const p of ['/slow-head', '/slow-body']) {
      const r = await both({ timeoutMs: 100, maxAttempts: 1 }, 'GET', p);
      assert.equal(r.light.error?.name, 'TimeoutError', p);
      assert.deepEqual(r.light, r.fetched, p);
    }
    // A timeout is transient: the head is waited for again, each attempt with its own timeout.
    const r = await both({ timeoutMs: 100, maxAttempts: 2 }, 'GET', '/slow-head');
    assert.deepEqual([r.lightHits, r.fetchHits], [{ '/slow-head': 2 }, { '/slow-head': 2 }]);
  });

  it('fails with a TypeError when the connection drops in the middle of the body', async () => {
    route('/cut', (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': '100' });
      res.write('{"a":', () => res.socket?.destroy());
    });
    const r = await both({ maxAttempts: 1 }, 'GET', '/cut');
    assert.equal(r.light.error?.isTypeError, true);
    assert.deepEqual(r.light.error?.message, r.fetched.error?.message);
  });

  it('follows redirects as fetch does', async () => {
    route('/moved', (_req, res) => res.writeHead(307, { location: '/echo?moved=1' }).end());
    route('/see-other', (_req, res) => res.writeHead(303, { location: '/echo' }).end());
    route('/nowhere', (_req, res) => res.writeHead(302).end('{"error_code":"X","message":"no location"}'));
    for (const [method, p] of [['POST', '/moved'], ['POST', '/see-other'], ['GET', '/nowhere']] as const) {
      const r = await both({}, method, p, method === 'POST' ? { v: 1 } : undefined);
      assert.deepEqual(r.light, r.fetched, p);
    }
    const r = await both({}, 'POST', '/moved', { v: 1 });
    assert.deepEqual(r.light.value, { method: 'POST', query: '/echo?moved=1', body: { v: 1 }, user: null, type: 'application/json' });
  });
});
