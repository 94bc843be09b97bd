import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { loadConfig } from '../../src/platform/config.js';
import { createServer, type KilnServer } from '../../src/server.js';
import { freshStore, tempDir, type TestStore } from '../support/backends.js';
import { call, TEST_SCRYPT } from '../support/server.js';
import { kiln, shell } from '../support/cli.js';


/** The CLI against a server with --auth on: the first admin from the store, login, tokens, users (SQLite). */
describe('kiln admin / login / tokens / users against --auth on', () => {
  let store: TestStore;
  let dir: string;
  let server: KilnServer;
  let url: string;
  let env: Record<string, string>;

  before(async () => {
    store = await freshStore('sqlite');
    dir = tempDir('kiln-auth-cli-');
    // Nothing from the surrounding environment may authenticate these commands.
    env = { KILN_CREDENTIALS: join(dir, 'config', 'credentials.json'), KILN_TOKEN: '', KILN_USERNAME: '', KILN_PASSWORD: '', MLFLOW_TRACKING_TOKEN: '', MLFLOW_TRACKING_USERNAME: '', MLFLOW_TRACKING_PASSWORD: '' };
    // The first admin, on the store directly, before any server runs.
    const created = await shell(`printf 'first admin pw\\n' | kiln admin create-user boss --admin --password-stdin --store '${store.uri}'`, env);
    assert.equal(created.code, 0, created.err);
    assert.match(created.out, /Created user boss \(admin\)/);
    const config = loadConfig({ host: '127.0.0.1', port: 0, storeUri: store.uri, artifactsUri: pathToFileURL(join(dir, 'artifacts')).href, logLevel: 'silent', home: dir, auth: 'on' }, {});
    server = await createServer(config, { capabilities: { governance: { scrypt: TEST_SCRYPT, env: {} } } });
    url = await server.listen();
    env.KILN_TRACKING_URI = url;
  });
  after(async () => {
    await server?.close();
    await store?.drop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses without credentials, naming what to do', async () => {
    const r = await kiln(['whoami'], env);
    assert.notEqual(r.code, 0);
    assert.match(r.err, /Authentication required/);
  });

  it('authenticates with KILN_USERNAME + KILN_PASSWORD, and `tokens create` prints the token alone on the last line', async () => {
    const r = await kiln(['tokens', 'create', 'ci'], { ...env, KILN_USERNAME: 'boss', KILN_PASSWORD: 'first admin pw' });
    assert.equal(r.code, 0, r.err);
    const last = r.out.trimEnd().split('\n').at(-1)!;
    assert.match(last, /^kiln_[0-9A-Za-z]{12}_[0-9A-Za-z]{43}$/);
    const me = await kiln(['whoami', '--json'], { ...env, KILN_TOKEN: last });
    assert.equal(me.code, 0, me.err);
    assert.deepEqual({ name: JSON.parse(me.out).name, method: JSON.parse(me.out).method }, { name: 'boss', method: 'token' });
    const list = await kiln(['tokens', 'list'], { ...env, KILN_TOKEN: last });
    assert.match(list.out, /ci\s+\S{12}\s+read,write/);
    assert.ok(!list.out.includes(last.slice(18)), 'the list shows no secret');
    const revoked = await kiln(['tokens', 'revoke', 'ci'], { ...env, KILN_USERNAME: 'boss', KILN_PASSWORD: 'first admin pw' });
    assert.equal(revoked.code, 0, revoked.err);
    assert.notEqual((await kiln(['whoami'], { ...env, KILN_TOKEN: last })).code, 0);
  });

  it('users: an admin creates one; `kiln login` stores a token in a 0600 file that later commands use; logout revokes it', async () => {
    const adminEnv = { ...env, KILN_USERNAME: 'boss', KILN_PASSWORD: 'first admin pw' };
    const made = await shell(`printf 'dev password 1\\n' | kiln users create dev --password-stdin`, adminEnv);
    assert.equal(made.code, 0, made.err);
    const users = await kiln(['users', 'list', '--json'], adminEnv);
    assert.deepEqual(JSON.parse(users.out).map((u: { name: string }) => u.name), ['boss', 'dev']);
    assert.notEqual((await kiln(['users', 'list'], { ...env, KILN_USERNAME: 'dev', KILN_PASSWORD: 'dev password 1' })).code, 0, 'not an admin');

    const login = await shell(`printf 'dev password 1\\n' | kiln login --username dev --password-stdin`, env);
    assert.equal(login.code, 0, login.err);
    assert.match(login.out, /Signed in to .* as dev/);
    const file = env.KILN_CREDENTIALS!;
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.ok(!readFileSync(file, 'utf8').includes('dev password 1'), 'the password is not stored');
    const me = await kiln(['whoami'], env);
    assert.equal(me.code, 0, me.err);
    assert.match(me.out, /^dev on .*authenticated by token/);
    // KILN_TOKEN wins over the stored token.
    const other = (await call(url, 'POST', '/api/v1/tokens', { name: 'boss2' }, { authorization: `Basic ${Buffer.from('boss:first admin pw').toString('base64')}` })).body.token as string;
    assert.match((await kiln(['whoami'], { ...env, KILN_TOKEN: other })).out, /^boss \(admin\)/);

    const out = await kiln(['logout'], env);
    assert.equal(out.code, 0, out.err);
    assert.notEqual((await kiln(['whoami'], env)).code, 0, 'no stored token any more');
    const tokens = await kiln(['tokens', 'list', '--all', '--json', '--user', 'dev'], adminEnv);
    const loginToken = JSON.parse(tokens.out).find((t: { name: string }) => t.name.startsWith('kiln login'));
    assert.ok(loginToken.revoked_time > 0, 'logout revoked the token on the server');
  });

  it('admin set-password recovers an account on the store directly', async () => {
    const r = await shell(`printf 'recovered pw 1\\n' | kiln admin set-password dev --password-stdin --store '${store.uri}'`, env);
    assert.equal(r.code, 0, r.err);
    assert.equal((await kiln(['whoami'], { ...env, KILN_USERNAME: 'dev', KILN_PASSWORD: 'recovered pw 1' })).code, 0);
  });

  it('projects: create, add members by role, list with one’s role; groups', async () => {
    const adminEnv = { ...env, KILN_USERNAME: 'boss', KILN_PASSWORD: 'first admin pw' };
    const made = await kiln(['projects', 'create', 'vision', '--description', 'image models'], adminEnv);
    assert.equal(made.code, 0, made.err);
    assert.equal((await kiln(['projects', 'add-member', 'vision', 'dev', '--role', 'editor'], adminEnv)).code, 0);
    const bad = await kiln(['projects', 'add-member', 'vision', 'dev', '--role', 'boss'], adminEnv);
    assert.equal(bad.code, 2);
    assert.match(bad.err, /--role must be one of viewer, editor, maintainer, owner/);
    assert.equal((await kiln(['groups', 'add-member', 'ml-team', 'dev'], adminEnv)).code, 0);
    assert.equal((await kiln(['projects', 'add-member', 'vision', 'group:ml-team', '--role', 'viewer'], adminEnv)).code, 0);
    const shown = await kiln(['projects', 'show', 'vision', '--json'], adminEnv);
    assert.deepEqual(JSON.parse(shown.out).members.map((m: { kind: string; name: string; role: string }) => `${m.kind}:${m.name}:${m.role}`), ['user:boss:owner', 'user:dev:editor', 'group:ml-team:viewer']);
    const mine = await kiln(['projects', 'list', '--json'], { ...env, KILN_USERNAME: 'dev', KILN_PASSWORD: 'recovered pw 1' });
    assert.equal(mine.code, 0, mine.err);
    assert.deepEqual(JSON.parse(mine.out).map((p: { name: string; role: string }) => `${p.name}:${p.role}`), ['default:editor', 'vision:editor']);
    // Only owners change members.
    const refused = await kiln(['projects', 'remove-member', 'vision', 'boss'], { ...env, KILN_USERNAME: 'dev', KILN_PASSWORD: 'recovered pw 1' });
    assert.notEqual(refused.code, 0);
    assert.match(refused.err, /owner/);
  });
});
