import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { call, startTestServer, type TestServer } from '../support/server.js';
import { openUi, UI_SKIP, unexpectedErrors, watchCsp, type UiSession } from '../support/browser.js';

const ROOT_PASSWORD = 'a long root passphrase';
const admin = { authorization: `Basic ${Buffer.from(`root:${ROOT_PASSWORD}`).toString('base64')}` };

describe('web UI with --auth on: sign-in, user menu, tokens, users, audit log, sign-out, CSP', { skip: UI_SKIP }, () => {
  let ts: TestServer;
  let ui: UiSession;
  let csp: string[];

  before(async () => {
    ts = await startTestServer({ store: 'sqlite', auth: 'on', capabilities: { governance: { env: { KILN_ADMIN_USER: 'root', KILN_ADMIN_PASSWORD: ROOT_PASSWORD } } } });
    assert.equal((await call(ts.url, 'POST', '/api/v1/users', { name: 'ana', password: 'ana passphrase 1' }, admin)).status, 201);
    assert.equal((await call(ts.url, 'POST', '/api/2.0/mlflow/experiments/create', { name: 'rain' }, admin)).status, 200);
    ui = await openUi(ts.url, { colorScheme: 'dark' });
    csp = await watchCsp(ui);
  });
  after(async () => {
    await ui?.close();
    await ts?.stop();
  });

  it('serves the UI with its security headers', async () => {
    const res = await fetch(`${ts.url}/experiments`, { headers: { accept: 'text/html' } });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-security-policy') ?? '', /default-src 'self'; script-src 'self'; style-src 'self'/);
    assert.equal(res.headers.get('access-control-allow-origin'), null);
  });

  it('shows the login page, then the page asked for once signed in, with the user menu', async () => {
    const { page } = ui;
    await page.goto('/experiments?q=rain');
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    assert.equal(await page.getByRole('link', { name: 'Sign in with SSO' }).count(), 0, 'no SSO button: none is configured');
    await ui.shot('40-login');

    await page.getByLabel('User name').fill('root');
    await page.getByLabel('Password').fill('not the password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').filter({ hasText: 'Wrong user name or password.' }).waitFor();

    await page.getByLabel('Password').fill(ROOT_PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('link', { name: 'rain', exact: true }).waitFor();
    assert.match(page.url(), /\/experiments\?q=rain$/);
    const menu = page.getByRole('button', { name: 'User menu: root' });
    await menu.waitFor();
    assert.match((await menu.textContent()) ?? '', /root.*admin/);
    const cookies = await ui.context.cookies();
    const session = cookies.find((c) => c.name === 'kiln_session');
    assert.ok(session, 'the session cookie is set');
    assert.equal(session.httpOnly, true);
    assert.equal(session.sameSite, 'Lax');
    assert.equal(await page.evaluate('document.cookie'), '', 'no script reads the session cookie');
    await ui.shot('41-signed-in');
  });

  it('creates an API token on the tokens page, shown once with a copy button, and it works', async () => {
    const { page } = ui;
    await page.getByRole('button', { name: 'User menu: root' }).click();
    await page.getByRole('menuitem', { name: 'API tokens' }).click();
    await page.getByRole('heading', { name: 'API tokens' }).waitFor();
    await page.getByLabel('Name').fill('laptop');
    await page.getByRole('button', { name: 'Create token' }).click();
    const created = page.getByRole('status', { name: 'New token' });
    await created.waitFor();
    const token = ((await created.locator('code').textContent()) ?? '').trim();
    assert.match(token, /^kiln_[0-9A-Za-z]{12}_[0-9A-Za-z]{43}$/);
    await created.getByRole('button', { name: 'Copy new token' }).waitFor();
    await page.getByRole('table', { name: 'Tokens' }).getByRole('row', { name: /laptop/ }).waitFor();
    await ui.shot('42-tokens');
    const who = await call(ts.url, 'GET', '/api/v1/auth/whoami', undefined, { authorization: `Bearer ${token}` });
    assert.equal(who.body.name, 'root');
    await created.getByRole('button', { name: 'Done' }).click();
    assert.equal(await page.getByText(token).count(), 0, 'the token is not shown again');
  });

  it('lists, creates and disables users on the admin users page', async () => {
    const { page } = ui;
    await page.getByRole('button', { name: 'User menu: root' }).click();
    await page.getByRole('menuitem', { name: 'Users' }).click();
    const table = page.getByRole('table', { name: 'Users' });
    await table.getByRole('row', { name: 'ana' }).waitFor();
    await table.getByRole('row', { name: 'root' }).waitFor();
    await page.locator('input[name="new-user"]').fill('bea');
    await page.locator('input[name="new-password"]').fill('bea passphrase 1');
    await page.getByRole('button', { name: 'Create', exact: true }).click();
    const bea = table.getByRole('row', { name: 'bea' });
    await bea.waitFor();
    await bea.getByRole('button', { name: 'Disable' }).click();
    await bea.getByText('disabled').waitFor();
    await ui.shot('43-users');
    const u = await call(ts.url, 'GET', '/api/v1/users/bea', undefined, admin);
    assert.equal(u.body.user.disabled, true);
  });

  it('shows the sign-in on the audit log page, and filters it', async () => {
    const { page } = ui;
    await page.getByRole('button', { name: 'User menu: root' }).click();
    await page.getByRole('menuitem', { name: 'Audit log' }).click();
    const table = page.getByRole('table', { name: 'Audit entries' });
    await table.getByRole('row', { name: /auth\.user_disabled/ }).waitFor();
    await page.getByLabel('Action').fill('auth.login');
    await page.getByRole('button', { name: 'Apply' }).click();
    await page.waitForURL(/action=auth\.login/);
    const login = table.getByRole('row', { name: /auth\.login\b.*user:root/ });
    await login.first().waitFor();
    assert.equal(await table.getByRole('row', { name: /auth\.user_disabled/ }).count(), 0);
    await ui.shot('44-audit');
  });

  it('signs out to the login page; the old session no longer opens the app', async () => {
    const { page } = ui;
    await page.getByRole('button', { name: 'User menu: root' }).click();
    await page.getByRole('menuitem', { name: 'Sign out' }).click();
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    await page.goto('/models');
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    assert.equal(await page.getByRole('button', { name: /User menu/ }).count(), 0);
  });

  it('saw no Content-Security-Policy violation and no console error on any page', () => {
    assert.deepEqual(csp, []);
    assert.deepEqual(unexpectedErrors(ui.errors), []);
  });
});

describe('web UI with --auth none: no sign-in, a note that auth is off', { skip: UI_SKIP }, () => {
  let ts: TestServer;
  let ui: UiSession;

  before(async () => {
    ts = await startTestServer({ store: 'sqlite' });
    ui = await openUi(ts.url);
  });
  after(async () => {
    await ui?.close();
    await ts?.stop();
  });

  it('opens the app directly', async () => {
    const csp = await watchCsp(ui);
    await ui.page.goto('/experiments');
    await ui.page.getByRole('heading', { name: 'Experiments' }).waitFor();
    await ui.page.getByText('Auth off').waitFor();
    assert.equal(await ui.page.getByRole('heading', { name: 'Sign in' }).count(), 0);
    assert.deepEqual(csp, []);
    assert.deepEqual(ui.errors, []);
    // The watch itself works: an inline style attribute is refused and reported.
    await ui.page.evaluate(`document.body.insertAdjacentHTML('beforeend', '<div style="color: red">x</div>')`);
    for (let i = 0; i < 50 && csp.length === 0; i++) await new Promise((r) => setTimeout(r, 20));
    assert.match(csp.join('\n'), /style-src/);
  });
});
