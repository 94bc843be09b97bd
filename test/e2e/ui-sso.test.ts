import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { call, startTestServer, type TestServer } from '../support/server.js';
import { openUi, UI_SKIP, unexpectedErrors, type UiSession } from '../support/browser.js';
import { startTestProvider, WEB_CLIENT, type TestProvider } from '../support/oidc.js';

const ROOT_PASSWORD = 'a long root passphrase';
const admin = { authorization: `Basic ${Buffer.from(`root:${ROOT_PASSWORD}`).toString('base64')}` };

describe('web UI single sign-on through a real OIDC provider', { skip: UI_SKIP }, () => {
  let provider: TestProvider;
  let ts: TestServer;
  let ui: UiSession;

  before(async () => {
    provider = await startTestProvider();
    provider.accounts.set('ana', { groups: ['vision-devs'], name: 'Ana Example' });
    ts = await startTestServer({
      store: 'sqlite',
      auth: 'on',
      capabilities: { governance: { env: { KILN_ADMIN_USER: 'root', KILN_ADMIN_PASSWORD: ROOT_PASSWORD } } },
      config: { oidcIssuer: provider.issuer, oidcClientId: WEB_CLIENT.id, oidcClientSecret: WEB_CLIENT.secret, oidcRoleMap: 'vision-devs=vision:editor' },
    });
    await provider.start(`${ts.url}/api/v1/auth/sso/callback`);
    assert.equal((await call(ts.url, 'PATCH', '/api/v1/projects/default', { everyone_role: null }, admin)).status, 200);
    for (const p of ['vision', 'audio']) {
      assert.equal((await call(ts.url, 'POST', '/api/v1/projects', { name: p }, admin)).status, 201);
      assert.equal((await call(ts.url, 'POST', '/api/2.0/mlflow/experiments/create', { name: `${p}-exp`, tags: [{ key: 'kiln.project', value: p }] }, admin)).status, 200);
    }
    ui = await openUi(ts.url);
  });
  after(async () => {
    await ui?.close();
    await ts?.stop();
    await provider?.stop();
  });

  it('login page → Sign in with SSO → the provider’s login page → back in Kiln, signed in, with the role of the group mapping', async () => {
    const { page } = ui;
    await page.goto('/experiments');
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    await ui.shot('50-sso-login');
    await page.getByRole('link', { name: 'Sign in with SSO' }).click();

    // The provider's own page.
    await page.waitForURL((u) => u.origin === provider.issuer);
    await page.locator('input[name="login"]').fill('ana');
    await page.locator('input[name="password"]').fill('whatever the provider accepts');
    await ui.shot('51-sso-provider');
    // The provider's development page fetches things of its own (fonts, a favicon) that may fail here: not Kiln's errors.
    await page.waitForLoadState('networkidle');
    const kilnErrorsFrom = ui.errors.length;
    await page.getByRole('button', { name: 'Sign-in' }).click();

    // Back in Kiln, on the page asked for.
    const menu = page.getByRole('button', { name: 'User menu: ana' });
    await menu.waitFor();
    assert.equal(new URL(page.url()).origin, ts.url);
    assert.match(page.url(), /\/experiments$/);
    await page.getByRole('link', { name: 'vision-exp', exact: true }).waitFor();
    assert.equal(await page.getByRole('link', { name: 'audio-exp', exact: true }).count(), 0, 'nothing of a project ana has no role in');
    await ui.shot('52-sso-signed-in');

    const cookies = await ui.context.cookies(ts.url);
    assert.ok(cookies.find((c) => c.name === 'kiln_session' && c.httpOnly));
    assert.equal(cookies.find((c) => c.name === 'kiln_sso'), undefined, 'the sign-in cookie is gone');

    // The project as the signed-in UI reads it: editor, from the group vision-devs.
    const project = (await page.evaluate(`fetch('/api/v1/projects/vision').then((r) => r.json())`)) as { project: { role: string } };
    assert.equal(project.project.role, 'editor');
    const session = (await page.evaluate(`fetch('/api/v1/auth/session').then((r) => r.json())`)) as { method: string; sso: boolean };
    assert.equal(session.method, 'oidc');
    assert.equal(session.sso, true);
    assert.deepEqual(unexpectedErrors(ui.errors.slice(kilnErrorsFrom)), []);
  });
});
