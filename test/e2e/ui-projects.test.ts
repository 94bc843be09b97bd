import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { call, startTestServer, type TestServer } from '../support/server.js';
import { openUi, UI_SKIP, unexpectedErrors, watchCsp, type UiSession } from '../support/browser.js';

const ROOT_PASSWORD = 'a long root passphrase';
const VERA_PASSWORD = 'vera passphrase 1';
const admin = { authorization: `Basic ${Buffer.from(`root:${ROOT_PASSWORD}`).toString('base64')}` };

describe('web UI projects with --auth on: the switcher, the project pages, lists of one project', { skip: UI_SKIP }, () => {
  let ts: TestServer;
  let ui: UiSession;
  let csp: string[];

  const signIn = async (user: string, password: string) => {
    const { page } = ui;
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
    await page.getByLabel('User name').fill(user);
    await page.getByLabel('Password').fill(password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('button', { name: `User menu: ${user}` }).waitFor();
  };
  // Polls an expression in the page (page.waitForFunction evaluates strings with eval, which the CSP refuses).
  const until = async (expression: string) => {
    for (let i = 0; i < 200; i++) {
      if (await ui.page.evaluate(expression)) return;
      await new Promise((r) => setTimeout(r, 25));
    }
    assert.fail(`never true: ${expression}`);
  };
  const nav = (name: string) => ui.page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name, exact: true });
  const signOut = async (user: string) => {
    const { page } = ui;
    await page.getByRole('button', { name: `User menu: ${user}` }).click();
    await page.getByRole('menuitem', { name: 'Sign out' }).click();
    await page.getByRole('heading', { name: 'Sign in' }).waitFor();
  };

  before(async () => {
    ts = await startTestServer({ store: 'sqlite', auth: 'on', capabilities: { governance: { env: { KILN_ADMIN_USER: 'root', KILN_ADMIN_PASSWORD: ROOT_PASSWORD } } } });
    assert.equal((await call(ts.url, 'POST', '/api/v1/users', { name: 'vera', password: VERA_PASSWORD }, admin)).status, 201);
    // A project vera will never see, and something in the default project (every signed-in user edits it).
    assert.equal((await call(ts.url, 'POST', '/api/v1/projects', { name: 'hidden' }, admin)).status, 201);
    for (const [name, project] of [
      ['hidden-exp', 'hidden'],
      ['default-exp', 'default'],
    ]) {
      assert.equal((await call(ts.url, 'POST', '/api/v1/experiments', { name, project }, admin)).status, 201);
      assert.equal((await call(ts.url, 'POST', '/api/v1/models', { name: `${name}-model`, project }, admin)).status, 201);
    }
    ui = await openUi(ts.url);
    csp = await watchCsp(ui);
  });
  after(async () => {
    await ui?.close();
    await ts?.stop();
  });

  it('an admin creates a project on the projects page and adds a user as viewer', async () => {
    const { page } = ui;
    await page.goto('/projects');
    await signIn('root', ROOT_PASSWORD);
    const table = page.getByRole('table', { name: 'Projects' });
    await table.getByRole('row', { name: 'hidden' }).waitFor();
    await page.locator('input[name="project-name"]').fill('atlas');
    await page.locator('input[name="project-description"]').fill('Maps and routes');
    await page.getByRole('button', { name: 'Create project' }).click();
    await page.getByRole('heading', { name: 'Projects / atlas' }).waitFor();
    assert.match(page.url(), /\/projects\/atlas$/);
    // Its creator owns it.
    const members = page.getByRole('table', { name: 'Members' });
    await members.getByRole('row', { name: 'user root' }).waitFor();
    assert.equal(await members.getByLabel('Role of root').inputValue(), 'owner');

    await page.locator('select[name="member-kind"]').selectOption('user');
    await page.locator('input[name="member-name"]').fill('vera');
    await page.locator('select[name="member-role"]').selectOption('viewer');
    await page.getByRole('button', { name: 'Add member' }).click();
    const vera = members.getByRole('row', { name: 'user vera' });
    await vera.waitFor();
    assert.equal(await vera.getByLabel('Role of vera').inputValue(), 'viewer');
    assert.equal(await vera.getByRole('button', { name: 'Remove vera' }).isEnabled(), true, 'an owner may remove members');
    await ui.shot('60-project-members-owner');
    const m = await call(ts.url, 'GET', '/api/v1/projects/atlas/members', undefined, admin);
    assert.deepEqual(m.body.members.map((x: { name: string; role: string }) => `${x.name}:${x.role}`).sort(), ['root:owner', 'vera:viewer']);
    assert.equal((await call(ts.url, 'GET', '/api/v1/projects/atlas', undefined, admin)).body.project.description, 'Maps and routes');

    // Something in the new project, made through the API.
    assert.equal((await call(ts.url, 'POST', '/api/v1/experiments', { name: 'atlas-exp', project: 'atlas' }, admin)).status, 201);
    assert.equal((await call(ts.url, 'POST', '/api/v1/models', { name: 'atlas-exp-model', project: 'atlas' }, admin)).status, 201);
  });

  it('the switcher narrows the admin’s experiment list and keeps the choice in the URL', async () => {
    const { page } = ui;
    await nav('Experiments').click();
    await page.getByRole('link', { name: 'hidden-exp', exact: true }).waitFor();
    const switcher = page.getByRole('combobox', { name: 'Project' });
    await switcher.locator('option', { hasText: 'atlas' }).waitFor({ state: 'attached' });
    await switcher.selectOption('hidden');
    await page.waitForURL(/\/experiments\?project=hidden$/);
    await page.getByRole('heading', { name: 'Experiments in hidden' }).waitFor();
    await page.getByRole('link', { name: 'hidden-exp', exact: true }).waitFor();
    // The rows of the previous list may show for a moment while the project's list loads; then they are gone.
    await page.getByRole('link', { name: 'atlas-exp', exact: true }).waitFor({ state: 'detached', timeout: 5000 });
    assert.equal(await page.getByRole('link', { name: 'atlas-exp', exact: true }).count(), 0);
    assert.equal(await page.evaluate(`localStorage.getItem('kiln.project')`), 'hidden');
    await signOut('root');
  });

  it('the viewer sees the project in the switcher (the admin’s remembered one, hidden from her, is forgotten) and its experiments only', async () => {
    const { page } = ui;
    await signIn('vera', VERA_PASSWORD);
    const switcher = page.getByRole('combobox', { name: 'Project' });
    await switcher.locator('option', { hasText: 'atlas' }).waitFor({ state: 'attached' });
    await until(`localStorage.getItem('kiln.project') === null`);
    await switcher.locator('option', { hasText: 'not found' }).waitFor({ state: 'detached' });
    const options = await switcher.locator('option').allTextContents();
    assert.deepEqual(options, ['All projects', 'atlas', 'default']);
    assert.equal(await switcher.inputValue(), '');
    // All of hers: both projects' experiments, with a project column.
    await page.getByRole('link', { name: 'default-exp', exact: true }).waitFor();
    await page.getByRole('link', { name: 'atlas-exp', exact: true }).waitFor();
    assert.equal(await page.getByRole('link', { name: 'hidden-exp', exact: true }).count(), 0);

    await switcher.selectOption('atlas');
    await page.waitForURL(/\/experiments\?project=atlas$/);
    await page.getByRole('heading', { name: 'Experiments in atlas' }).waitFor();
    await page.getByRole('link', { name: 'atlas-exp', exact: true }).waitFor();
    await page.getByRole('link', { name: 'default-exp', exact: true }).waitFor({ state: 'detached' });
    const rows = page.locator('table.data-table tbody tr');
    assert.equal(await rows.count(), 1);
    // A viewer creates nothing in it.
    assert.equal(await page.getByRole('button', { name: 'New experiment' }).isDisabled(), true);
    await ui.shot('61-experiments-in-project');

    // The choice stays: a new visit without ?project= shows the same project, and the models list follows it.
    await page.goto('/experiments');
    await page.getByRole('heading', { name: 'Experiments in atlas' }).waitFor();
    assert.equal(await switcher.inputValue(), 'atlas');
    await nav('Models').click();
    await page.waitForURL(/\/models\?project=atlas$/);
    await page.getByRole('link', { name: 'atlas-exp-model', exact: true }).waitFor();
    assert.equal(await page.getByRole('link', { name: 'default-exp-model', exact: true }).count(), 0);
  });

  it('the project page shows the viewer its members with every control disabled', async () => {
    const { page } = ui;
    await nav('Projects').click();
    const table = page.getByRole('table', { name: 'Projects' });
    const atlas = table.getByRole('row', { name: 'atlas' });
    await atlas.getByText('viewer').waitFor();
    assert.equal(await table.getByRole('row', { name: 'hidden' }).count(), 0);
    await atlas.getByRole('link', { name: 'atlas' }).click();
    await page.getByRole('heading', { name: 'Projects / atlas' }).waitFor();
    await page.getByText('Only the project’s owners change its settings and members.').waitFor();
    const members = page.getByRole('table', { name: 'Members' });
    await members.getByRole('row', { name: 'user vera' }).waitFor();
    for (const who of ['root', 'vera']) {
      assert.equal(await members.getByLabel(`Role of ${who}`).isDisabled(), true);
      assert.equal(await members.getByRole('button', { name: `Remove ${who}` }).isDisabled(), true);
    }
    assert.equal(await page.locator('input[name="member-name"]').isDisabled(), true);
    assert.equal(await page.getByRole('button', { name: 'Add member' }).isDisabled(), true);
    assert.equal(await page.locator('input[name="description"]').isDisabled(), true);
    assert.equal(await page.getByLabel("Everyone's role").isDisabled(), true);
    assert.equal(await page.getByRole('button', { name: 'Delete project' }).count(), 0);
    await ui.shot('62-project-members-viewer');
    // The server refuses anyway.
    const vera = { authorization: `Basic ${Buffer.from(`vera:${VERA_PASSWORD}`).toString('base64')}` };
    assert.equal((await call(ts.url, 'PUT', '/api/v1/projects/atlas/members/user/vera', { role: 'owner' }, vera)).status, 403);
  });

  it('saw no Content-Security-Policy violation and no console error', () => {
    assert.deepEqual(csp, []);
    assert.deepEqual(unexpectedErrors(ui.errors), []);
  });
});
