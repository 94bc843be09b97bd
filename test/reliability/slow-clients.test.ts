import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { startTestServer, call, type TestServer } from '../support/server.js';

/** Opens a TCP connection to the server and resolves once connected; `closedAt` is set when the server closes it. */
function open(url: string): Promise<{ socket: Socket; closedAt: () => number | undefined }> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    let closed: number | undefined;
    const socket = connect(Number(port), hostname, () => resolve({ socket, closedAt: () => closed }));
    socket.on('error', () => undefined);
    socket.on('data', () => undefined);
    socket.on('close', () => (closed = Date.now()));
    socket.once('error', reject);
  });
}

describe('slow and idle clients (default timeouts)', () => {
  let ts: TestServer;
  before(async () => {
    ts = await startTestServer({ store: 'sqlite' });
  });
  after(async () => {
    await ts?.stop();
  });

  it('closes idle, slowloris and idle keep-alive connections within seconds, and keeps serving meanwhile', async () => {
    const started = Date.now();
    const idle = await Promise.all(Array.from({ length: 100 }, () => open(ts.url)));
    const slow = await Promise.all(Array.from({ length: 100 }, () => open(ts.url)));
    // Slowloris: a request line, then one more header line every second, never the blank line that ends them.
    for (const s of slow) s.socket.write('GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n');
    let n = 0;
    const drip = setInterval(() => {
      n++;
      for (const s of slow) if (!s.socket.destroyed) s.socket.write(`X-Drip-${n}: x\r\n`);
    }, 1000);
    // Keep-alive: one request answered, then silence.
    const kept = await Promise.all(Array.from({ length: 20 }, () => open(ts.url)));
    for (const k of kept) k.socket.write('GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: keep-alive\r\n\r\n');
    try {
      // Others are served all along.
      const r = await call(ts.url, 'GET', '/health');
      assert.equal(r.status, 200);
      const all = [...idle, ...slow, ...kept];
      const deadline = started + 20_000;
      while (Date.now() < deadline && all.some((c) => c.closedAt() === undefined)) await new Promise((res) => setTimeout(res, 250));
      const open = (list: typeof all) => list.filter((c) => c.closedAt() === undefined).length;
      assert.deepEqual({ idle: open(idle), slowloris: open(slow), keepAlive: open(kept) }, { idle: 0, slowloris: 0, keepAlive: 0 }, 'every such connection was closed by the server');
      const latest = (list: typeof all) => Math.max(...list.map((c) => c.closedAt()! - started));
      // Headers must be complete within 10 s (checked every second); idle keep-alive connections go after 5 s.
      assert.ok(latest(idle) <= 13_000, `idle connections closed after ${latest(idle)} ms`);
      assert.ok(latest(slow) <= 13_000, `slowloris connections closed after ${latest(slow)} ms`);
      assert.ok(latest(kept) <= 8_000, `idle keep-alive connections closed after ${latest(kept)} ms`);
      assert.equal((await call(ts.url, 'GET', '/health')).status, 200);
    } finally {
      clearInterval(drip);
      for (const c of [...idle, ...slow, ...kept]) c.socket.destroy();
    }
  });
});
