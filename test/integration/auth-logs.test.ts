import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { pathToFileURL } from 'node:url';
import { loadConfig } from '../../src/platform/config.js';
import { createLogger } from '../../src/platform/logging.js';
import { createServer, type KilnServer } from '../../src/server.js';
import { freshStore, tempDir, type TestStore } from '../support/backends.js';
import { basicAuth, call, TEST_SCRYPT } from '../support/server.js';

/**
 * No password, token or secret in any log line: a server logging at `trace` goes through sign-ins (good and bad),
 * token creation and use, password changes, refusals and errors, and its whole log is searched for every secret used.
 */
describe('secrets stay out of the logs', () => {
  let store: TestStore;
  let dir: string;
  let server: KilnServer;
  let url: string;
  let log = '';

  before(async () => {
    store = await freshStore('sqlite');
    dir = tempDir('kiln-auth-logs-');
    const sink = new Writable({
      write(chunk, _enc, cb) {
        log += chunk.toString();
        cb();
      },
    });
    const config = loadConfig({ host: '127.0.0.1', port: 0, storeUri: store.uri, artifactsUri: pathToFileURL(join(dir, 'artifacts')).href, logLevel: 'trace', home: dir, auth: 'on' }, {});
    server = await createServer(config, {
      logger: createLogger('trace', sink),
      capabilities: { governance: { scrypt: TEST_SCRYPT, env: { KILN_ADMIN_USER: 'root', KILN_ADMIN_PASSWORD: 'Root-Secret-Passphrase-1' } } },
    });
    url = await server.listen();
  });
  after(async () => {
    await server?.close();
    await store?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('logs requests at trace level without any credential', async () => {
    const basic = basicAuth;
    const admin = basic('root', 'Root-Secret-Passphrase-1');
    const secrets = ['Root-Secret-Passphrase-1', 'Ana-Secret-Passphrase-2', 'Ana-Secret-Passphrase-3', 'Wrong-Guess-Passphrase-4'];
    assert.equal((await call(url, 'POST', '/api/v1/users', { name: 'ana', password: 'Ana-Secret-Passphrase-2' }, admin)).status, 201);
    assert.equal((await call(url, 'GET', '/api/v1/auth/whoami', undefined, basic('ana', 'Wrong-Guess-Passphrase-4'))).status, 401);
    const made = await call(url, 'POST', '/api/v1/tokens', { name: 'logged' }, basic('ana', 'Ana-Secret-Passphrase-2'));
    const token = made.body.token as string;
    secrets.push(token, token.split('_')[2]!);
    assert.equal((await call(url, 'GET', '/api/2.0/mlflow/experiments/search?max_results=1', undefined, { authorization: `Bearer ${token}` })).status, 200);
    assert.equal((await call(url, 'PUT', '/api/v1/users/ana/password', { password: 'Ana-Secret-Passphrase-3', current_password: 'Ana-Secret-Passphrase-2' }, { authorization: `Bearer ${token}` })).status, 204);
    // A refused request, a malformed body carrying a secret, a token in the wrong place.
    assert.equal((await call(url, 'GET', '/api/v1/users', undefined, { authorization: `Bearer ${token}` })).status, 403);
    assert.equal((await call(url, 'POST', '/api/v1/users', '{"name":"x","password":"Ana-Secret-Passphrase-3"', admin)).status, 400);
    // A browser session: its id (the cookie) and CSRF token are secrets too.
    assert.equal((await call(url, 'POST', '/api/v1/auth/login', { username: 'ana', password: 'Wrong-Guess-Passphrase-4' })).status, 401);
    const signedIn = await call(url, 'POST', '/api/v1/auth/login', { username: 'ana', password: 'Ana-Secret-Passphrase-3' });
    assert.equal(signedIn.status, 200);
    const cookie = (signedIn.headers.get('set-cookie') ?? '').split(';')[0]!;
    const session = { cookie, 'x-kiln-csrf': signedIn.body.csrf_token as string };
    secrets.push(cookie.split('=')[1]!, signedIn.body.csrf_token as string);
    assert.equal((await call(url, 'GET', '/api/v1/auth/session', undefined, { cookie })).status, 200);
    assert.equal((await call(url, 'POST', '/api/v1/tokens', { name: 'by-session' }, { cookie })).status, 403);
    assert.equal((await call(url, 'POST', '/api/v1/auth/logout', undefined, session)).status, 204);
    const revoked = (await call(url, 'DELETE', '/api/v1/tokens/logged', undefined, basic('ana', 'Ana-Secret-Passphrase-3'))).status;
    assert.equal(revoked, 200);
    assert.equal((await call(url, 'GET', '/api/v1/auth/whoami', undefined, { authorization: `Bearer ${token}` })).status, 401);
    await server.close();
    assert.ok(log.split('\n').length > 20, 'the server logged these requests');
    assert.match(log, /"authorization":"\[redacted\]"|request completed|incoming request/);
    for (const s of secrets) assert.ok(!log.includes(s), `a secret is in the log: ${s.slice(0, 6)}…`);
    for (const s of secrets.slice(0, 4)) assert.ok(!log.includes(Buffer.from(`ana:${s}`).toString('base64')) && !log.includes(Buffer.from(`root:${s}`).toString('base64')), 'basic credentials in the log');
  });
});
