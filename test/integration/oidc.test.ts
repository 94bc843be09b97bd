import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { loadConfig } from '../../src/platform/config.js';
import { createServer, type KilnServer } from '../../src/server.js';
import { freshStore, STORE_BACKENDS, tempDir, type TestStore } from '../support/backends.js';
import { call, TEST_SCRYPT } from '../support/server.js';
import { KILN_AUDIENCE, startTestProvider, WEB_CLIENT, type TestProvider } from '../support/oidc.js';

const ROOT_PASSWORD = 'correct horse battery';
const admin = { authorization: `Basic ${Buffer.from(`root:${ROOT_PASSWORD}`).toString('base64')}` };
const MIN = 60_000;

/** Cookies by origin (enough for two loopback servers: paths and expiry are not needed here). */
class Jar {
  private readonly byOrigin = new Map<string, Map<string, string>>();
  header(url: URL): string {
    return [...(this.byOrigin.get(url.origin) ?? new Map<string, string>())].map(([k, v]) => `${k}=${v}`).join('; ');
  }
  take(url: URL, res: Response): void {
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(';');
      const eq = pair!.indexOf('=');
      const jar = this.byOrigin.get(url.origin) ?? new Map<string, string>();
      this.byOrigin.set(url.origin, jar);
      const name = pair!.slice(0, eq).trim();
      const value = pair!.slice(eq + 1).trim();
      if (value === '' || /max-age=0/i.test(c)) jar.delete(name);
      else jar.set(name, value);
    }
  }
  get(url: string, name: string): string | undefined {
    return this.byOrigin.get(new URL(url).origin)?.get(name);
  }
}

async function send(jar: Jar, url: string, init: RequestInit = {}): Promise<Response> {
  const u = new URL(url);
  const res = await fetch(u, { ...init, redirect: 'manual', headers: { ...(init.headers as Record<string, string>), cookie: jar.header(u) } });
  jar.take(u, res);
  return res;
}

const location = (res: Response, base: string) => new URL(res.headers.get('location') ?? '', base).href;

interface Flow {
  /** The Kiln callback's answer. */
  readonly res: Response;
  readonly jar: Jar;
  readonly body: string;
}

/**
 * Signs in through the provider's own pages with fetch: Kiln's /sso/login, the provider's authorization endpoint,
 * its login form (dev interactions), back to Kiln's callback. `tamper` may change the authorization URL first.
 */
async function ssoFlow(kiln: string, login: string, opts: { returnTo?: string; tamper?: (authUrl: URL) => void; jar?: Jar } = {}): Promise<Flow> {
  const jar = opts.jar ?? new Jar();
  const start = await send(jar, `${kiln}/api/v1/auth/sso/login?return_to=${encodeURIComponent(opts.returnTo ?? '/experiments')}`);
  assert.equal(start.status, 302, await start.text());
  const authUrl = new URL(location(start, kiln));
  opts.tamper?.(authUrl);
  let res = await send(jar, authUrl.href);
  for (let hops = 0; hops < 10; hops++) {
    assert.ok([302, 303, 200].includes(res.status), `${res.status} ${await res.clone().text()}`);
    if (res.status === 200) {
      // The provider's login form.
      const html = await res.text();
      const action = /<form[^>]*action="([^"]+)"/.exec(html)?.[1];
      assert.ok(action, html);
      const target = new URL(action.replace(/&amp;/g, '&'), res.url || authUrl.href);
      res = await send(jar, target.href, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ prompt: 'login', login, password: 'any' }).toString() });
      continue;
    }
    const next = new URL(location(res, authUrl.href));
    if (next.origin === new URL(kiln).origin) {
      res = await send(jar, next.href);
      return { res, jar, body: await res.text() };
    }
    res = await send(jar, next.href);
    // fetch leaves res.url empty for manual redirects: remember where the form came from.
    Object.defineProperty(res, 'url', { value: next.href });
  }
  throw new Error('too many redirects at the provider');
}

for (const backend of STORE_BACKENDS) {
  describe(`OIDC single sign-on and provider JWTs (${backend})`, () => {
    let provider: TestProvider;
    let store: TestStore;
    let dir: string;
    let server: KilnServer;
    let url: string;
    let offset = 0;

    const cookieOf = (f: Flow) => `kiln_session=${f.jar.get(url, 'kiln_session')}`;
    const auditOf = async (action: string) =>
      (await call(url, 'GET', `/api/v1/audit?action=${action}&order=asc&max_results=1000`, undefined, admin)).body.entries as Array<Record<string, any>>;

    before(async () => {
      provider = await startTestProvider();
      provider.accounts.set('ana', { groups: ['vision-devs', 'readers'], email: 'ana@example.com', name: 'Ana Example' });
      provider.accounts.set('boss', { groups: ['kiln-admins'] });
      provider.accounts.set('root', { groups: [] });
      provider.accounts.set('bad name!', { groups: [] });
      store = await freshStore(backend);
      dir = tempDir('kiln-oidc-');
      const config = loadConfig(
        {
          host: '127.0.0.1',
          port: 0,
          storeUri: store.uri,
          artifactsUri: pathToFileURL(join(dir, 'artifacts')).href,
          logLevel: 'silent',
          home: dir,
          auth: 'on',
          oidcIssuer: provider.issuer,
          oidcClientId: WEB_CLIENT.id,
          oidcClientSecret: WEB_CLIENT.secret,
          oidcRoleMap: 'vision-devs=vision:editor, kiln-admins=admin',
          oidcAudience: KILN_AUDIENCE,
        },
        {},
      );
      server = await createServer(config, {
        capabilities: { governance: { scrypt: TEST_SCRYPT, env: { KILN_ADMIN_USER: 'root', KILN_ADMIN_PASSWORD: ROOT_PASSWORD }, recheckMs: 200, now: () => Date.now() + offset } },
      });
      url = await server.listen();
      await provider.start(`${url}/api/v1/auth/sso/callback`);
      assert.equal((await call(url, 'PATCH', '/api/v1/projects/default', { everyone_role: null }, admin)).status, 200);
      for (const p of ['vision', 'audio']) {
        assert.equal((await call(url, 'POST', '/api/v1/projects', { name: p }, admin)).status, 201);
        assert.equal((await call(url, 'POST', '/api/2.0/mlflow/experiments/create', { name: `${p}-exp`, tags: [{ key: 'kiln.project', value: p }] }, admin)).status, 200);
      }
    });
    after(async () => {
      await server?.close();
      await provider?.stop();
      await store?.drop();
      rmSync(dir, { recursive: true, force: true });
    });

    it('offers SSO on the session endpoint', async () => {
      const r = await call(url, 'GET', '/api/v1/auth/session');
      assert.equal(r.status, 401);
      assert.equal(JSON.stringify(r.body).includes('"sso":true'), true, r.text);
    });

    it('signs in through the provider: PKCE, a session with method oidc, the groups, the user created from SSO', async () => {
      const jar = new Jar();
      const start = await send(jar, `${url}/api/v1/auth/sso/login?return_to=${encodeURIComponent('/experiments?q=vision')}`);
      assert.equal(start.status, 302);
      const auth = new URL(start.headers.get('location')!);
      assert.equal(auth.origin, provider.issuer);
      assert.equal(auth.searchParams.get('code_challenge_method'), 'S256');
      assert.match(auth.searchParams.get('code_challenge') ?? '', /^[A-Za-z0-9_-]{43}$/);
      assert.ok(auth.searchParams.get('state'));
      assert.ok(auth.searchParams.get('nonce'));
      assert.equal(auth.searchParams.get('scope'), 'openid profile email groups');
      assert.match(start.headers.get('set-cookie') ?? '', /^kiln_sso=[A-Za-z0-9_-]{43}; Path=\/; Max-Age=600; HttpOnly; SameSite=Lax$/);

      const f = await ssoFlow(url, 'ana', { returnTo: '/experiments?q=vision' });
      assert.equal(f.res.status, 302, f.body);
      assert.equal(f.res.headers.get('location'), '/experiments?q=vision');
      assert.ok(f.jar.get(url, 'kiln_session'));
      assert.equal(f.jar.get(url, 'kiln_sso'), undefined, 'the sign-in cookie is cleared');
      const session = await call(url, 'GET', '/api/v1/auth/session', undefined, { cookie: cookieOf(f) });
      assert.equal(session.status, 200);
      assert.equal(session.body.user, 'ana');
      assert.equal(session.body.method, 'oidc');
      assert.equal(session.body.sso, true);
      assert.equal(session.body.admin, false);
      const who = await call(url, 'GET', '/api/v1/auth/whoami', undefined, { cookie: cookieOf(f) });
      assert.equal(who.body.method, 'oidc');
      assert.deepEqual(who.body.groups, ['vision-devs', 'readers']);
      const user = (await call(url, 'GET', '/api/v1/users/ana', undefined, admin)).body.user;
      assert.equal(user.has_password, false);
      assert.equal(user.email, 'ana@example.com');
      assert.equal(user.display_name, 'Ana Example');
      const logins = (await auditOf('auth.login')).filter((e) => e.resource_id === 'ana');
      assert.equal(logins.at(-1)?.details.method, 'oidc');
      assert.equal(logins.at(-1)?.auth_method, 'oidc');
    });

    it("maps the provider's groups to project roles: vision-devs is editor in vision and nothing in audio", async () => {
      const f = await ssoFlow(url, 'ana');
      const as = { cookie: cookieOf(f) };
      const csrf = (await call(url, 'GET', '/api/v1/auth/session', undefined, as)).body.csrf_token;
      const members = (await call(url, 'GET', '/api/v1/projects/vision/members', undefined, admin)).body.members;
      assert.ok(members.some((m: any) => m.kind === 'group' && m.name === 'vision-devs' && m.role === 'editor'), JSON.stringify(members));
      assert.equal((await call(url, 'GET', '/api/v1/projects/vision', undefined, as)).body.project.role, 'editor');
      assert.equal((await call(url, 'GET', '/api/v1/projects/audio', undefined, as)).status, 404);
      const listed = (await call(url, 'GET', '/api/v1/projects', undefined, as)).body.projects.map((p: any) => p.name);
      assert.deepEqual(listed, ['vision']);
      const exp = await call(url, 'GET', '/api/2.0/mlflow/experiments/get-by-name?experiment_name=vision-exp', undefined, as);
      assert.equal(exp.status, 200);
      const run = await call(url, 'POST', '/api/2.0/mlflow/runs/create', { experiment_id: exp.body.experiment.experiment_id }, { ...as, 'x-kiln-csrf': csrf });
      assert.equal(run.status, 200, run.text);
      // Editors do not manage members.
      assert.equal((await call(url, 'PUT', '/api/v1/projects/vision/members/user/root', { role: 'viewer' }, { ...as, 'x-kiln-csrf': csrf })).status, 403);
      assert.equal((await call(url, 'GET', '/api/2.0/mlflow/experiments/get-by-name?experiment_name=audio-exp', undefined, as)).status, 404);
    });

    it('sets and clears server admin from the groups mapped to admin at each sign-in', async () => {
      const first = await ssoFlow(url, 'boss');
      assert.equal(first.res.status, 302, first.body);
      assert.equal((await call(url, 'GET', '/api/v1/auth/session', undefined, { cookie: cookieOf(first) })).body.admin, true);
      assert.equal((await call(url, 'GET', '/api/v1/projects/audio', undefined, { cookie: cookieOf(first) })).status, 200);
      provider.accounts.get('boss')!.groups = ['readers'];
      const again = await ssoFlow(url, 'boss');
      assert.equal((await call(url, 'GET', '/api/v1/auth/session', undefined, { cookie: cookieOf(again) })).body.admin, false);
      assert.equal((await call(url, 'GET', '/api/v1/projects/audio', undefined, { cookie: cookieOf(again) })).status, 404);
      const actions = (await call(url, 'GET', '/api/v1/audit?resource_id=boss&order=asc&max_results=100', undefined, admin)).body.entries.map((e: any) => e.action);
      assert.deepEqual(actions.filter((a: string) => a.startsWith('auth.admin')), ['auth.admin_revoked']);
      assert.equal((await call(url, 'GET', '/api/v1/users/boss', undefined, admin)).body.user.admin, false);
    });

    it('refuses to take over a local user of the same name, and names Kiln cannot hold', async () => {
      const f = await ssoFlow(url, 'root');
      assert.equal(f.res.status, 401, f.body);
      assert.match(f.body, /local user named 'root'/);
      assert.equal(f.jar.get(url, 'kiln_session'), undefined);
      const bad = await ssoFlow(url, 'bad name!');
      assert.equal(bad.res.status, 401, bad.body);
      const failed = await auditOf('auth.login_failed');
      assert.ok(failed.some((e) => e.auth_method === 'oidc' && /local user named 'root'/.test(e.details.reason)), JSON.stringify(failed));
    });

    it('refuses a tampered state or nonce, a callback without its cookie, and a replayed callback', async () => {
      const state = await ssoFlow(url, 'ana', { tamper: (u) => u.searchParams.set('state', 'forged-state') });
      assert.equal(state.res.status, 401, state.body);
      assert.match(state.body, /state/);
      const nonce = await ssoFlow(url, 'ana', { tamper: (u) => u.searchParams.set('nonce', 'forged-nonce') });
      assert.equal(nonce.res.status, 401, nonce.body);
      assert.match(nonce.body, /nonce/);
      // The browser that comes back is not the one that started (no sign-in cookie): refused.
      const jar = new Jar();
      const start = await send(jar, `${url}/api/v1/auth/sso/login`);
      const other = await fetch(`${url}/api/v1/auth/sso/callback?code=abc&state=${new URL(start.headers.get('location')!).searchParams.get('state')}`, { redirect: 'manual' });
      assert.equal(other.status, 401);
      // A callback URL used twice: the second finds no sign-in under way.
      const ok = await ssoFlow(url, 'ana');
      assert.equal(ok.res.status, 302);
      const failed = (await auditOf('auth.login_failed')).filter((e) => e.auth_method === 'oidc');
      assert.ok(failed.length >= 3, JSON.stringify(failed));
    });

    it('refuses a return_to that leaves the server (open redirect)', async () => {
      for (const bad of ['https://evil.example/', '//evil.example/x', '/\\evil.example', 'javascript:alert(1)', '/%0d%0aSet-Cookie:x', 'experiments']) {
        const r = await fetch(`${url}/api/v1/auth/sso/login?return_to=${encodeURIComponent(bad)}`, { redirect: 'manual' });
        if (bad === '/%0d%0aSet-Cookie:x') {
          // Encoded characters stay encoded: a path of this server.
          assert.equal(r.status, 302, bad);
          continue;
        }
        assert.equal(r.status, 400, bad);
      }
    });

    it('accepts the provider’s JWT access tokens as bearer tokens (method jwt); expired or for another audience: 401; Kiln tokens still work', async () => {
      const jwt = await provider.serviceToken();
      assert.equal(jwt.split('.').length, 3);
      const bearer = { authorization: `Bearer ${jwt}` };
      const who = await call(url, 'GET', '/api/v1/auth/whoami', undefined, bearer);
      assert.equal(who.status, 200, who.text);
      assert.equal(who.body.name, 'kiln-robot');
      assert.equal(who.body.method, 'jwt');
      assert.deepEqual(who.body.groups, ['vision-devs']);
      assert.equal((await call(url, 'GET', '/api/v1/projects/vision', undefined, bearer)).body.project.role, 'editor');
      assert.equal((await call(url, 'GET', '/api/v1/projects/audio', undefined, bearer)).status, 404);
      const exp = await call(url, 'GET', '/api/2.0/mlflow/experiments/get-by-name?experiment_name=vision-exp', undefined, bearer);
      assert.equal(exp.status, 200);
      // No CSRF token needed: a header no other site can make a browser send.
      assert.equal((await call(url, 'POST', '/api/2.0/mlflow/runs/create', { experiment_id: exp.body.experiment.experiment_id }, bearer)).status, 200);

      const other = await provider.serviceToken('urn:other');
      const wrongAud = await call(url, 'GET', '/api/v1/auth/whoami', undefined, { authorization: `Bearer ${other}` });
      assert.equal(wrongAud.status, 401);
      assert.match(wrongAud.text, /aud/);
      offset = 11 * MIN;
      try {
        const expired = await call(url, 'GET', '/api/v1/auth/whoami', undefined, bearer);
        assert.equal(expired.status, 401);
        assert.match(expired.text, /exp/);
      } finally {
        offset = 0;
      }
      const [h, p] = jwt.split('.');
      assert.equal((await call(url, 'GET', '/api/v1/auth/whoami', undefined, { authorization: `Bearer ${h}.${p}.c2lnbmF0dXJl` })).status, 401);
      const failed = (await auditOf('auth.login_failed')).filter((e) => e.auth_method === 'jwt');
      assert.ok(failed.length >= 3);

      const token = (await call(url, 'POST', '/api/v1/tokens', { name: 'laptop' }, admin)).body.token;
      assert.equal((await call(url, 'GET', '/api/v1/auth/whoami', undefined, { authorization: `Bearer ${token}` })).body.method, 'token');
    });

    it('signs out an SSO session like a password one', async () => {
      const f = await ssoFlow(url, 'ana');
      const as = { cookie: cookieOf(f) };
      const csrf = (await call(url, 'GET', '/api/v1/auth/session', undefined, as)).body.csrf_token;
      assert.equal((await call(url, 'POST', '/api/v1/auth/logout', undefined, { ...as, 'x-kiln-csrf': csrf })).status, 204);
      assert.equal((await call(url, 'GET', '/api/v1/auth/whoami', undefined, as)).status, 401);
    });
  });
}
